"""The Python API as a notebook uses it: `import rnnlab`, `rnnlab.train(...)` (the command
line's run, records included), `rnnlab.load(...)` and the task's uses, each the same as
its command's."""

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.cli import REPO
from helpers.sentiment import SMALL as SENTIMENT
from helpers.seq2seq import TINY as SEQ2SEQ
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser

import rnnlab
import rnnlab.data.fra_eng
import rnnlab.generate
import rnnlab.translate
from rnnlab.api import _quoted
from rnnlab.config import CONF_DIR
from rnnlab.errors import RnnlabError
from rnnlab.run.interrupt import Interrupted
from rnnlab.run.run_dir import run_dir_lock

# a character LSTM on the book's first 5,000 characters: one epoch in a fraction of a second
TINY_LM = [
    "data.max_tokens=5000",
    "model.num_hiddens=16",
    "trainer.max_epochs=1",
    "trainer.progress_bar=false",
    "trainer.num_threads=1",
]


@pytest.fixture(scope="module")
def book():
    root = Path(os.environ.get("RNNLAB_DATA") or "/nonexistent").expanduser()
    if not (root / "timemachine.txt").is_file():
        pytest.skip("RNNLAB_DATA does not point at a folder holding timemachine.txt")


@pytest.fixture(scope="module")
def lm_run(book, tmp_path_factory):
    """A tiny language-model run trained through the API, and the root logger's handlers
    before and after it."""
    before = logging.getLogger().handlers[:], GlobalHydra.instance().is_initialized()
    run = rnnlab.train(TINY_LM, run_dir=tmp_path_factory.mktemp("api") / "lm")
    return run, before, (logging.getLogger().handlers[:], GlobalHydra.instance().is_initialized())


def python(code: str) -> str:
    """stdout of `python -c code` in a fresh interpreter, with this checkout's rnnlab."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_rnnlab_loads_neither_torch_nor_hydra():
    shown = python("import sys, rnnlab; print('torch' in sys.modules, 'hydra' in sys.modules)")
    assert shown.split() == ["False", "False"]


def test_rnnlab_train_is_the_same_callable_before_and_after_import_rnnlab_train():
    shown = python(
        "import rnnlab\n"
        "first = rnnlab.train\n"
        "import rnnlab.train\n"
        "from rnnlab import load, train\n"
        "print(first is rnnlab.train is train, callable(train), load.__module__)\n"
    )
    assert shown.split() == ["True", "True", "rnnlab.api"]


def test_train_writes_what_the_command_line_writes_and_returns_the_record(lm_run):
    run, _, _ = lm_run
    assert run.metrics == json.loads((run.run_dir / "metrics.json").read_text())
    assert run.metrics["status"] == "finished" and run.metrics["epochs"] == 1
    for name in (".lock", "train.log", "checkpoint.pt", "best.pt", ".hydra/config.yaml"):
        assert (run.run_dir / name).is_file(), name
    assert "epoch 1/1" in (run.run_dir / "train.log").read_text()
    overrides = (run.run_dir / ".hydra" / "overrides.yaml").read_text()
    assert "data.max_tokens=5000" in overrides and "hydra.run.dir" not in overrides
    argv = json.loads((run.run_dir / "run_info.json").read_text())["argv"]
    assert argv[:2] == ["rnnlab.train", "data.max_tokens=5000"]


def test_train_leaves_the_root_logger_and_hydra_as_it_found_them(lm_run):
    _, before, after = lm_run
    assert after == before == (before[0], False)  # no handler left writing into train.log


def test_train_inside_a_callers_own_hydra_context_leaves_it_usable(book, tmp_path):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        assert rnnlab.train(TINY_LM, run_dir=tmp_path).metrics["status"] == "finished"
        assert compose(config_name="config", overrides=["seed=7"]).seed == 7
    assert not GlobalHydra.instance().is_initialized()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model=lstmm"], "model='lstmm' is not one of: gru, gru_scratch"),
        (["trainer.max_epochz=1"], "trainer.max_epochz is not a setting (did you mean"),
        (["model.num_hiddens=-3"], "model.num_hiddens=-3"),
        (["model=lstm,gru"], "'model=lstm,gru' is a sweep; rnnlab.train runs one job"),
        (["model.num_hiddens=[8"], "override 'model.num_hiddens=[8' is not key=value: "),
        (["-m", "model=gru"], "'-m' is a command-line flag; rnnlab.train takes key=value"),
        ("model=gru", "overrides='model=gru' is one string; expected a list"),
    ],
)
def test_a_bad_override_is_one_line_and_no_run_directory(tmp_path, overrides, message):
    with pytest.raises(RnnlabError) as error:
        rnnlab.train(overrides, run_dir=tmp_path / "run")
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("path", ["/tmp/a b", "/tmp/a,b=c[1]", "/tmp/it's", "/tmp/x\\", "/a\\'b"])
def test_a_run_directory_reaches_hydra_as_given(path):
    override = OverridesParser.create().parse_override(f"hydra.run.dir={_quoted(path)}")
    assert override.value() == path


def test_a_busy_run_directory_is_refused(book, tmp_path):
    with run_dir_lock(tmp_path), pytest.raises(RnnlabError, match="is in use by another"):
        rnnlab.train(TINY_LM, run_dir=tmp_path)
    assert not (tmp_path / "metrics.json").exists()


def test_a_trained_directory_is_continued_with_its_saved_overrides(lm_run, tmp_path):
    run, _, _ = lm_run
    with pytest.raises(RnnlabError, match="checkpoint.pt exists; pass trainer.resume=true"):
        rnnlab.train(TINY_LM, run_dir=run.run_dir)
    # a copy, so the module's run stays as it was; the overrides are read from its record
    copy = tmp_path / "a run, copied"  # a comma: a sweep to Hydra unless quoted
    subprocess.run(["cp", "-r", str(run.run_dir), str(copy)], check=True)
    resumed = rnnlab.train(["trainer.resume=true", "trainer.max_epochs=2"], run_dir=copy)
    assert (resumed.run_dir, resumed.metrics["epochs"]) == (copy, 2)
    assert "data.max_tokens=5000" in (copy / ".hydra" / "overrides.yaml").read_text()


def test_an_interrupted_run_raises_keyboard_interrupt_saying_how_to_continue(
    book, tmp_path, monkeypatch
):
    train = rnnlab.train.train

    def interrupted_after_training(*args):  # as a Ctrl-C once epoch 1 is saved
        train(*args)
        raise Interrupted(signal.SIGINT)

    monkeypatch.setattr(rnnlab.train, "train", interrupted_after_training)
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt) as error:
        rnnlab.train(TINY_LM, run_dir=run_dir)
    assert str(error.value) == (
        f"interrupted by SIGINT; {run_dir / 'checkpoint.pt'} holds epoch 1, the last completed "
        f"one; to continue, call rnnlab.train again with run_dir={str(run_dir)!r} and "
        "trainer.resume=true"
    )


def test_load_generates_as_the_command_does(lm_run, capsys):
    run, _, _ = lm_run
    lm = rnnlab.load(run.run_dir)
    assert (lm.task, Path(lm.path).name) == ("lm", "best.pt")
    text = lm.generate("time traveller", num_preds=12)
    assert text.startswith("time traveller") and len(text) == len("time traveller") + 12
    assert lm.generate(["time", "the"], num_preds=5) == [
        lm.generate("time", num_preds=5),
        lm.generate("the", num_preds=5),
    ]
    rnnlab.generate.main([f"checkpoint={run.run_dir}", "num_preds=12", "time traveller"])
    assert capsys.readouterr().out.splitlines() == [text]
    sampled = lm.generate("time", num_preds=20, temperature=1.0, seed=3)
    assert sampled == lm.generate("time", num_preds=20, temperature=1.0, seed=3)


def test_load_evaluates_a_split_and_a_file(lm_run, tmp_path):
    run, _, _ = lm_run
    lm = run.load()
    scores = lm.evaluate("val")
    assert scores["val/perplexity"] == pytest.approx(run.metrics["best_val_perplexity"])
    text = tmp_path / "text.txt"
    text.write_text("the time traveller was expounding a recondite matter to us " * 5)
    assert 1 < lm.evaluate(text)["file/perplexity"] < len(lm.checkpoint["vocab"])


@pytest.mark.parametrize(
    ("use", "message"),
    [
        (lambda lm: lm.translate("go ."), "translate needs a task=seq2seq model; "),
        (lambda lm: lm.predict(["good"]), "predict needs a task=sentiment model; "),
        (lambda lm: lm.evaluate("tset"), "'tset' is neither a split (test, val) nor a file"),
        (lambda lm: lm.generate("time", temperature=-1), "temperature=-1 must be >= 0"),
        (lambda lm: lm.generate(""), "prefix 1 is ''; expected text to continue"),
    ],
)
def test_a_use_that_does_not_fit_is_one_line(lm_run, use, message):
    lm = rnnlab.load(lm_run[0].run_dir)
    with pytest.raises(RnnlabError) as error:
        use(lm)
    assert str(error.value).startswith(message) or message in str(error.value)
    assert "\n" not in str(error.value)


def test_load_refuses_what_is_not_a_checkpoint(tmp_path):
    with pytest.raises(RnnlabError, match="is a folder without best.pt or checkpoint.pt"):
        rnnlab.load(tmp_path)


def test_train_load_and_translate_a_seq2seq_run(reverse_pairs, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(rnnlab.data.fra_eng, "load_fra_eng", lambda *args: reverse_pairs)
    run = rnnlab.train([*SEQ2SEQ, "trainer.num_threads=1"], run_dir=tmp_path / "run")
    model = rnnlab.load(run.run_dir)
    assert model.translate("a b c d", beam_size=1) == "d c b a"  # the words reversed
    translations = model.translate(["a b", "c d e"])
    assert translations == ["b a", "e d c"]
    capsys.readouterr()  # the run's log lines
    rnnlab.translate.main([f"checkpoint={run.run_dir}", "a b", "c d e"])
    assert capsys.readouterr().out.splitlines() == ["b a\ta b", "e d c\tc d e"]
    scores = model.evaluate("test")
    assert scores["test/sacrebleu"] == pytest.approx(run.metrics["test_sacrebleu"])


def test_train_load_and_predict_a_sentiment_run(synthetic_imdb, tmp_path):
    run = rnnlab.train([*SENTIMENT, "trainer.num_threads=1"], run_dir=tmp_path / "run")
    classifier = rnnlab.load(run.run_dir)
    positive, negative = classifier.predict(["w1 w2 good w3 .", "w4 bad w5 ."])
    assert positive > 0.5 > negative
    assert classifier.predict("w1 w2 good w3 .") == pytest.approx(positive)
    scores = classifier.evaluate("test")  # the data rebuilt from the saved config
    assert scores["test/accuracy"] == pytest.approx(run.metrics["test_accuracy"])
    with pytest.raises(RnnlabError, match="generate needs a task=lm model; .* its uses: predict"):
        classifier.generate("good")


def test_the_models_are_plain_modules_from_rnnlab_models():
    import torch
    from torch import nn

    import rnnlab.models
    from rnnlab.models import RNNLM, ScratchLSTM

    assert all(
        issubclass(getattr(rnnlab.models, name), nn.Module) for name in rnnlab.models.__all__
    )
    torch.manual_seed(0)
    scratch = RNNLM(10, ScratchLSTM(10, num_hiddens=8))
    fused = RNNLM(10, nn.LSTM(10, 8))
    scratch.recurrent.copy_weights_from(fused.recurrent)
    scratch.head.load_state_dict(fused.head.state_dict())
    X = torch.randint(10, (3, 5))  # (batch, num_steps)
    (logits, _), (expected, _) = scratch(X), fused(X)
    assert logits.shape == (3, 5, 10)
    torch.testing.assert_close(logits, expected)
