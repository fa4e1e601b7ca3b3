"""Bad config values are refused before any work, in one line naming the value; the
command line shows them with exit code 2 and no traceback."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CONF_DIR, TINY, compose_config
from omegaconf import OmegaConf
from synthetic_train import write_book
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata
from test_cli import assert_one_line_error, run

import rnnlab.tasks.lm
from rnnlab.errors import RnnlabError
from rnnlab.run.checkpoint import load_checkpoint
from rnnlab.train import train
from rnnlab.validation import check_group_choices, options_of, settle_unused_dropout, validate

REPO = Path(__file__).resolve().parents[1]

BAD_VALUES = [
    ("model.num_hiddens=0", "model.num_hiddens=0 is not an integer >= 1"),
    ("model.num_hiddens=abc", "model.num_hiddens='abc' is not an integer >= 1"),
    ("model.num_layers=-1", "model.num_layers=-1 is not an integer >= 1"),
    ("model.embed_size=0", "model.embed_size=0 is not an integer >= 1 or null"),
    ("data.batch_size=0", "data.batch_size=0 is not an integer >= 1"),
    ("data.num_steps=0", "data.num_steps=0 is not an integer >= 1"),
    ("data.num_steps=3.5", "data.num_steps=3.5 is not an integer >= 1"),
    ("data.min_freq=-1", "data.min_freq=-1 is not an integer >= 0"),
    ("data.max_tokens=0", "data.max_tokens=0 is not an integer >= 1 or null"),
    ("model.init=xavier", "model.init='xavier' is not one of: default, d2l"),
    ("trainer.val_every_n_epochs=0", "trainer.val_every_n_epochs=0 is not an integer >= 1"),
    ("optim.lr=0", "optim.lr=0 is not a number > 0"),
    ("optim.lr=-0.1", "optim.lr=-0.1 is not a number > 0"),
    ("optim.lr=nan", "optim.lr=nan is not a number > 0"),
    ("model.dropout=1", "model.dropout=1 is not a number in [0, 1)"),
    ("model.dropout=-0.2", "model.dropout=-0.2 is not a number in [0, 1)"),
    ("data.val_fraction=0", "data.val_fraction=0 is not a number in (0, 1)"),
    ("data.val_fraction=1.5", "data.val_fraction=1.5 is not a number in (0, 1)"),
    (
        "model.cell=transformer",
        "model.cell='transformer' is not one of: gru, lstm, mingru, minlstm, rnn",
    ),
    (
        "model.recurrent_dropout=0.2",
        "model.recurrent_dropout=0.2 needs a scratch cell (e.g. model=lstm_scratch)",
    ),
    ("model.recurrent_dropout=1", "model.recurrent_dropout=1 is not a number in [0, 1)"),
    ("trainer.precision=fp8", "trainer.precision='fp8' is not one of: 32, bf16, fp16"),
    ("model.impl=cudnn", "model.impl='cudnn' is not one of: nn, scratch"),
    ("task.name=vision", "task.name='vision' is not one of: lm"),
    (
        "optim._target_=torch.optim.Adamm",
        "optim._target_='torch.optim.Adamm' is not a "
        "torch.optim.Optimizer; expected one of: torch.optim.ASGD, torch.optim.Adadelta",
    ),
    (
        "optim._target_=collections.OrderedDict",
        "'collections.OrderedDict' is not a torch.optim.Optimizer",
    ),
    ("trainer.max_epochs=0", "trainer.max_epochs=0 is not an integer >= 1"),
    ("trainer.grad_clip=-1", "trainer.grad_clip=-1 is not a number >= 0"),
    ("trainer.device=tpu", "trainer.device='tpu' is not one of: auto, cpu, cuda, cuda:N"),
    ("trainer.log_every_n_steps=0", "trainer.log_every_n_steps=0 is not an integer >= 1"),
    (
        "trainer.early_stopping_patience=0",
        "trainer.early_stopping_patience=0 is not an integer >= 1 or null",
    ),
    ("seed=one", "seed='one' is not an integer"),
]


@pytest.mark.parametrize(("override", "message"), BAD_VALUES)
def test_bad_value_is_named_in_one_line(override, message):
    with pytest.raises(RnnlabError) as error:
        validate(compose_config([override]))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["model=lstm_scratch", "model.bptt=manual"],
            "model.bptt='manual' is not one of: fused, autograd",
        ),
        (["task=sentiment", "model.pooling=avg"], "model.pooling='avg' must be one of"),
        (
            ["task=sentiment", "model.embed_size=null"],
            "model.embed_size=None: task=sentiment embeds words",
        ),
        (
            ["task=seq2seq", "model=gru_scratch", "model.init=d2l"],
            "model.init='d2l' is for task=lm",
        ),
        (["task=sentiment", "model.init=d2l"], "model.init='d2l' is for task=lm"),
        (["task=sentiment", "data.pool_batches=0"], "data.pool_batches=0 is not an integer >= 1"),
        (
            ["task=seq2seq", "model.init=keras"],
            "model.init='keras' is for task=lm and task=sentiment",
        ),
        (["model.embedding_init=0"], "model.embedding_init=0 is not a number > 0 or null"),
        (["task=sentiment", "model.embedding_init=0.1"], "model.embedding_init=0.1 is for task=lm"),
        (["task=sentiment", "model.bag_ngrams=-1"], "model.bag_ngrams=-1 is not an integer >= 0"),
        (["task=sentiment", "model.bag_buckets=0"], "model.bag_buckets=0 is not an integer >= 1"),
        (
            ["task=sentiment", "model.bag_weighting=tfidf"],
            "model.bag_weighting='tfidf' is not one of: mean, nb",
        ),
        (
            ["task=sentiment", "model.bag_min_count=0"],
            "model.bag_min_count=0 is not an integer >= 1",
        ),
    ],
)
def test_model_values_the_task_or_cell_refuse(overrides, message):
    with pytest.raises(RnnlabError) as error:
        validate(compose_config(overrides))
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("task", ["lm", "sentiment"])
def test_keras_init_is_for_the_lm_and_sentiment(task):
    validate(compose_config([f"task={task}", "model.init=keras"]))


def test_every_problem_is_reported_at_once():
    with pytest.raises(RnnlabError) as error:
        validate(compose_config(["model.num_hiddens=0", "optim.lr=-1", "model.dropout=2"]))
    assert str(error.value).count(" is not ") == 3


SHIPPED = [
    (group.name, option)
    for group in sorted(CONF_DIR.iterdir())
    if group.is_dir()
    for option in options_of(group)
]


@pytest.mark.parametrize(("group", "option"), SHIPPED, ids=[o for _, o in SHIPPED])
def test_every_shipped_option_is_valid(group, option):
    validate(compose_config([f"{group}={option}"]))


def test_shared_config_files_are_not_options():
    assert "_base" not in options_of(CONF_DIR / "model")
    with pytest.raises(RnnlabError, match="model='_base' is not one of: gru, gru_scratch"):
        check_group_choices(["model=_base"])


def test_keys_a_task_does_not_have_are_skipped():
    validate(
        OmegaConf.create(
            {
                "seed": 0,
                "task": {"name": "lm"},
                "data": {"batch_size": 8},
                "model": {"num_hiddens": 4},
                "optim": {"lr": 0.1},
            }
        )
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["model=transformer"], "model='transformer' is not one of: gru, gru_scratch, lstm"),
        (["-m", "optim=adam,nadam"], "optim='nadam' is not one of: adam, adamw, sgd"),
        (["task=choice(lm,vision)"], "task='vision' is not one of: lm"),
    ],
)
def test_unknown_group_option_lists_the_options(argv, message):
    with pytest.raises(RnnlabError, match=message):
        check_group_choices(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["model=gru", "optim=sgd", "model.num_hiddens=3"],
        ["-m", "model=lstm,gru_scratch"],
        ["model=glob(*)"],
        ["hydra/launcher=basic"],
        ["~model"],
        ["--config-dir=x", "model=mine"],
        ["model=="],  # Hydra's own error, not ours
    ],
)
def test_valid_or_foreign_overrides_pass_group_check(argv):
    check_group_choices(argv)


# The command line, end to end: exit code 2, one `error:` line, no traceback.


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["model.num_hiddens=0", "optim.lr=-1"], ["model.num_hiddens=0", "optim.lr=-1"]),
        (["model=transformer"], ["model='transformer'", "lstm_scratch"]),
    ],
)
def test_cli_bad_config_is_one_line(tmp_path, args, fragments):
    result = run("rnnlab.train", *args, f"hydra.run.dir={tmp_path / 'run'}")
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def synthetic_cli(tmp_path, *args, text="the time machine is here " * 80):
    """The training command line on a book of our own (tests/synthetic_train.py)."""
    write_book(tmp_path / "data", text)
    return subprocess.run(
        [
            sys.executable,
            str(REPO / "tests" / "synthetic_train.py"),
            f"data.root={tmp_path / 'data'}",
            "data.download=false",
            f"hydra.run.dir={tmp_path / 'run'}",
            "model.num_hiddens=8",
            "trainer.max_epochs=1",
            *args,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_num_steps_longer_than_the_corpus_is_one_line(tmp_path):
    result = synthetic_cli(tmp_path, "data.num_steps=1500")  # the book has 1800 training tokens
    assert_one_line_error(
        result,
        "data.num_steps=1500 is too long",
        "1800 tokens",
        "expected num_steps <= 54 at batch_size=32",
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "data.batch_size=300",
            "data.batch_size=300 is larger than the 225 sequences of "
            "num_steps=8 in a training text of 1800 tokens "
            "(it needs (batch_size + 1) * num_steps = 2408); expected batch_size <= 224",
        ),
        ("data.num_steps=901", "data.num_steps=901 is too long for a training text of 1800 tokens"),
    ],
)
def test_corpus_too_small_for_the_batches_is_refused_by_the_task(tiny_corpus, override, message):
    from rnnlab.tasks.lm import LanguageModelTask

    cfg = compose_config(["data.batch_size=4", "data.num_steps=8", override])
    with pytest.raises(RnnlabError) as error:
        LanguageModelTask(cfg, corpus=tiny_corpus)
    assert message in str(error.value)


def test_dropout_with_one_layer_warns_once_and_records_zero(
    tmp_path, tiny_corpus, monkeypatch, caplog
):
    monkeypatch.setattr(rnnlab.tasks.lm, "load_timemachine", lambda *args, **kwargs: tiny_corpus)
    with caplog.at_level(logging.WARNING):
        train(
            compose_config(
                TINY + ["trainer.max_epochs=1", "model.num_layers=1", "model.dropout=0.5"]
            ),
            tmp_path,
            "lstm",
        )
    assert caplog.text.count("model.dropout=0.5 has no effect with model.num_layers=1") == 1
    assert load_checkpoint(tmp_path / "checkpoint.pt")["config"]["model"]["dropout"] == 0.0
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    session = metadata.parse_session_start_info_plugin_data(
        events.PluginTagToContent("hparams")[metadata.SESSION_START_INFO_TAG]
    )
    assert session.hparams["model.dropout"].number_value == 0.0


@pytest.mark.parametrize(
    ("overrides", "kept"),
    [
        (["model.num_layers=2", "model.dropout=0.5"], 0.5),
        (["task=sentiment", "model.num_layers=1", "model.dropout=0.5"], 0.5),  # embeddings, pool
    ],
)
def test_dropout_that_acts_is_kept_silently(overrides, kept, caplog):
    cfg = compose_config(overrides)
    with caplog.at_level(logging.WARNING):
        settle_unused_dropout(cfg)
    assert cfg.model.dropout == kept and caplog.text == ""


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["scheduler.name=linear"], "scheduler.name='linear' is not one of: none, step, cosine"),
        (
            ["scheduler=step", "scheduler.gamma=1.5"],
            "scheduler.gamma=1.5 is not a number in (0, 1]",
        ),
        (
            ["scheduler=cosine", "scheduler.warmup_steps=-1"],
            "scheduler.warmup_steps=-1 is not an integer >= 0",
        ),
        (
            ["scheduler=plateau", "scheduler.factor=1"],
            "scheduler.factor=1 is not a number in (0, 1)",
        ),
        (
            ["optim=adamw", "optim.weight_decay=-0.1"],
            "optim.weight_decay=-0.1 is not a number >= 0",
        ),
    ],
)
def test_bad_scheduler_and_optimizer_values_are_one_line(overrides, message):
    with pytest.raises(RnnlabError) as error:
        validate(compose_config(overrides))
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["model.embed_size=32", "model.tie_weights=true"],
            "model.tie_weights=true needs model.embed_size == the stack's output width 256 "
            "(num_hiddens=256), got model.embed_size=32",
        ),
        (["model.tie_weights=true"], "got model.embed_size=None"),
        (["task=sentiment", "model.tie_weights=true"], "model.tie_weights=true is for task=lm"),
        (["model=gru", "model.forget_bias=1"], "model.forget_bias=1 is for LSTM cells"),
        (
            ["model.num_layers=1", "model.residual=true"],
            "model.residual=true joins stacked layers; model.num_layers=1 has none to join",
        ),
        (["model.weight_drop=1.0"], "model.weight_drop=1.0 is not a number in [0, 1)"),
        (["model.locked_dropout=yes"], "model.locked_dropout='yes' is not true or false"),
        (["task.ar_alpha=-1"], "task.ar_alpha=-1 is not a number >= 0"),
    ],
)
def test_bad_awd_options_are_one_line(overrides, message):
    with pytest.raises(RnnlabError) as error:
        validate(compose_config(overrides))
    assert message in str(error.value) and "\n" not in str(error.value)
