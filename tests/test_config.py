"""The typed configs: every preset composes; each schema refuses a wrong type and an
out-of-range value, unknown keys and a task's foreign data in one line; the command line
shows them with exit code 2 and writes nothing."""

import dataclasses
import typing

import pytest
from helpers.cli import assert_one_line_error, run

from rnnlab.config import CONF_DIR
from rnnlab.config.argv import check_group_choices, options_of
from rnnlab.config.run_config import compose_config, typed_config
from rnnlab.config.schema import ConfigError, typed_section
from rnnlab.data import DATA_SOURCES
from rnnlab.engine import TrainerConfig
from rnnlab.errors import RnnlabError
from rnnlab.schedules import SCHEDULE_CONFIGS
from rnnlab.tasks import TASKS

SCHEMAS = sorted(
    {
        TrainerConfig,
        *SCHEDULE_CONFIGS.values(),
        *(source.Config for source in DATA_SOURCES.values()),
        *(schema for task in TASKS.values() for schema in (task.Config, task.ModelConfig)),
        *(task.EvalConfig for task in TASKS.values()),
    },
    key=lambda schema: schema.__name__,
)


def refusal(overrides: list[str]) -> str:
    with pytest.raises(ConfigError) as error:
        compose_config(overrides)
    message = str(error.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model.num_hiddens=0"], "model.num_hiddens=0 is not an integer >= 1"),
        (["model.num_hiddens=abc"], "model.num_hiddens='abc' is not an integer"),
        (["data.num_steps=3.5"], "data.num_steps=3.5 is not an integer"),
        (["data.max_tokens=0"], "data.max_tokens=0 is not an integer >= 1"),
        (["model.init=xavier"], "model.init='xavier' is not one of: default, d2l, keras"),
        (["optim.lr=0"], "optim.lr=0 is not a number > 0"),
        (["optim.lr=nan"], "optim.lr=nan is not a number > 0"),
        (["model.dropout=1"], "model.dropout=1.0 is not a number in [0, 1)"),
        (["data.val_fraction=0"], "data.val_fraction=0.0 is not a number in (0, 1)"),
        (
            ["model.cell=transformer"],
            "model.cell='transformer' is not one of: gru, lstm, mingru, minlstm, rnn",
        ),
        (["model.recurrent_dropout=0.2"], "model.recurrent_dropout=0.2 needs a scratch cell"),
        (["trainer.precision=fp8"], "trainer.precision='fp8' is not one of: 32, bf16, fp16"),
        (["task.name=vision"], "task.name='vision' is not one of: lm, seq2seq, sentiment"),
        (["optim._target_=torch.optim.Adamm"], "'torch.optim.Adamm' is not a torch.optim"),
        (["trainer.device=tpu"], "trainer.device='tpu' is not one of: auto, cpu, cuda, cuda:N"),
        (["seed=one"], "seed='one' is not an integer in [0, 2**32)"),
        (["seed=18446744073709551616"], "is not an integer in [0, 2**32)"),
        (["trainer.keep_best=maybe"], "trainer.keep_best='maybe' is not true or false"),
        (["trainer.resume=maybe"], "trainer.resume='maybe' is not true or false"),
        (["trainer.max_train_seconds=-1"], "trainer.max_train_seconds=-1.0 is not a number > 0"),
        (["trainer.max_train_seconds=abc"], "trainer.max_train_seconds='abc' is not a number"),
        (["trainer.num_threads=100000"], "trainer.num_threads=100000 is not an integer in [1,"),
        (["task.sample_length=abc"], "task.sample_length='abc' is not an integer"),
        (["model=lstm_scratch", "model.bptt=manual"], "model.bptt='manual' is not one of"),
        (["task=sentiment", "model.pooling=avg"], "model.pooling='avg' is not last, max, mean"),
        (["task=sentiment", "model.embed_size=null"], "model.embed_size=null is not allowed"),
        (["task=seq2seq", "model.init=d2l"], "model.init='d2l' is not for task=seq2seq"),
        (["task=sentiment", "model.init=d2l"], "expected one of: default, keras"),
        (["task=sentiment", "data.max_len=abc"], "data.max_len='abc' is not an integer"),
        (["task=sentiment", "data.vocab_size=2"], "data.vocab_size=2 is not an integer >= 3"),
        (["task=seq2seq", "eval.beam_size=0"], "eval.beam_size=0 is not an integer >= 1"),
        (["task=seq2seq", "eval.length_penalty=-5"], "eval.length_penalty=-5.0 is not a number"),
        (["task=seq2seq", "task.num_test_samples=-1"], "task.num_test_samples=-1 is not an int"),
        (["task=seq2seq", "task.sample_sentences=abc"], "task.sample_sentences: "),
        (["task=seq2seq", "data.val_fraction=0.6", "data.test_fraction=0.5"], "not less than 1"),
        (["scheduler._target_=linear"], "scheduler._target_='linear' is not one of: rnnlab.sche"),
        (["scheduler=step", "scheduler.gamma=1.5"], "scheduler.gamma=1.5 is not a number in"),
        (["scheduler=plateau", "scheduler.factor=1"], "scheduler.factor=1.0 is not a number in"),
        (["optim=sgd", "optim.momentum=-1"], "optim (torch.optim.SGD): Invalid momentum value"),
        (["+optim.betas=[2,0.9]"], "optim (torch.optim.Adam): Invalid beta parameter"),
        (["optim=adamw", "optim.weight_decay=-0.1"], "Invalid weight_decay value: -0.1"),
        (["model.tie_weights=true"], "got model.embed_size=None"),
        (["model=gru", "model.forget_bias=1"], "model.forget_bias=1.0 is for LSTM cells"),
        (["model.num_layers=1"], "model.dropout=0.5 acts between stacked layers"),
        (["task=seq2seq", "model.num_layers=1"], "model.dropout=0.1 acts between stacked"),
        (["model.locked_dropout=maybe"], "model.locked_dropout='maybe' is not true or false"),
        (["task.ar_alpha=-1"], "task.ar_alpha=-1.0 is not a number >= 0"),
    ],
)
def test_a_bad_value_is_named_in_one_line(overrides, message):
    assert message in refusal(overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["+data.file=/my/text"], "data.file is not a setting of data=timemachine"),
        (
            ["data.name=mytext"],
            "data.name='mytext' is not one of: timemachine, text, fra_eng, imdb",
        ),
        (["model.num_hidens=3"], "model.num_hidens is not a setting (did you mean model.num_hid"),
        (["+model.attention=bahdanau"], "model.attention is not a setting of task=lm's model"),
        (["task=seq2seq", "model.tie_weights=true"], "model.tie_weights is not a setting"),
        (["+foo=1"], "foo is not a setting; the config's sections: seed, data, model"),
        (
            ["optim=sgd", "+optim.betas=[0.9,0.9]"],
            "optim.betas is not a setting of torch.optim.SGD",
        ),
    ],
)
def test_an_unknown_key_is_refused_in_one_line(overrides, message):
    assert message in refusal(overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["data=imdb"], "data=imdb is data for task=sentiment, not task=lm: expected data=timem"),
        (["task=seq2seq", "data=timemachine"], "expected data=fra_eng or data=pairs (or task=lm)"),
        (["task=sentiment", "data=fra_eng"], "data=fra_eng is data for task=seq2seq"),
    ],
)
def test_a_task_with_another_tasks_data_is_refused(overrides, message):
    assert message in refusal(overrides)


PRESETS = [
    (group.name, option)
    for group in sorted(CONF_DIR.iterdir())
    if group.is_dir() and group.name not in ("hydra", "hparams_search", "experiment_model")
    for option in options_of(group)
]


@pytest.mark.slow  # an exhaustive grid: make test runs it, make test-fast does not
@pytest.mark.parametrize(("group", "option"), PRESETS, ids=[f"{g}={o}" for g, o in PRESETS])
def test_every_preset_composes(group, option):
    task = [f"task={DATA_SOURCES[option].task}"] if group == "data" else []
    if (group, option) == ("data", "text"):
        task.append("data.path=any.txt")  # the one setting without a default
    cfg = compose_config([*task, f"{group}={option}"])
    assert typed_config(cfg) == cfg  # typing a typed config changes nothing


def wrong_value(spec: dataclasses.Field):
    """A value of the wrong type for the field, or None when any string would do."""
    kind = typing.get_args(spec.type) or (spec.type,)
    if str in kind or typing.Any in kind:
        return None
    return "not a value" if kind[0] is not list else "abc"


def out_of_range(spec: dataclasses.Field):
    """A value of the field's type that its check refuses, or None when it has none."""
    check = spec.metadata.get("check")
    if check is None:
        return None
    for candidate in (-1, 0, -0.5, 1.5, 10**12, "not-a-choice"):
        try:
            if not check.ok(candidate):
                return candidate
        except TypeError:
            continue
    return None


WITH_SETTINGS = [s for s in SCHEMAS if any(f.name != "name" for f in dataclasses.fields(s))]


@pytest.mark.parametrize("schema", WITH_SETTINGS, ids=[s.__name__ for s in WITH_SETTINGS])
def test_every_schema_refuses_a_wrong_type_and_an_out_of_range_value(schema):
    tried = 0
    for spec in dataclasses.fields(schema):
        for value in (wrong_value(spec), out_of_range(spec)):
            if value is None or spec.name == "name":
                continue
            with pytest.raises(ConfigError) as error:
                typed_section(schema, {spec.name: value}, "x")
            assert f"x.{spec.name}" in str(error.value) and "\n" not in str(error.value)
            tried += 1
    assert tried > 0


@pytest.mark.parametrize("schema", SCHEMAS, ids=[schema.__name__ for schema in SCHEMAS])
def test_every_schema_refuses_an_unknown_key(schema):
    with pytest.raises(ConfigError, match="x.no_such_key is not a setting"):
        typed_section(schema, {"no_such_key": 1}, "x")


def test_a_saved_config_of_an_older_run_gets_the_new_defaults():
    from rnnlab.config.run_config import saved_config

    old = dict(compose_config(["task=seq2seq"]))
    old = {key: dict(value) if hasattr(value, "keys") else value for key, value in old.items()}
    del old["model"]["bptt"]  # added since
    old["model"]["tie_weights"] = False  # carried by every task's model then
    upgraded = saved_config(old, "old.pt")
    assert upgraded["model"]["bptt"] == "fused" and "tie_weights" not in upgraded["model"]
    old["model"]["num_hiddens"] = "abc"
    with pytest.raises(ConfigError, match="old.pt' holds a config this rnnlab refuses"):
        saved_config(old, "old.pt")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["model=transformer"], "model='transformer' is not one of: gru, gru_scratch, lstm"),
        (["-m", "optim=adam,nadam"], "optim='nadam' is not one of: adam, adamw, sgd"),
        (["task=choice(lm,vision)"], "task='vision' is not one of: lm"),
    ],
)
def test_an_unknown_group_option_lists_the_options(argv, message):
    with pytest.raises(RnnlabError, match=message):
        check_group_choices(argv)


@pytest.mark.parametrize(
    "args",
    [
        ["model.num_hiddens=abc"],
        ["+data.file=/my/text"],
        ["data=imdb"],
        ["-m", "model.num_hiddens=8,abc"],
        ["optim=sgd", "optim.momentum=-1"],
    ],
)
def test_the_command_line_refuses_in_one_line_and_writes_nothing(tmp_path, args):
    result = run("rnnlab.train", *args, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert_one_line_error(result)
    assert not (tmp_path / "run").exists() and not (tmp_path / "outputs").exists()
