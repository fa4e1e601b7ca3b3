"""Nothing is lost: a killed run resumes to the same result, Ctrl-C/SIGTERM say where the
last checkpoint is, a checkpoint that does not fit the run is refused in one line, and a
diverged run keeps its last finite checkpoint."""

import json
import logging
import signal
import subprocess
from pathlib import Path

import pytest
import torch
from helpers.cli import assert_one_line_error
from helpers.config import TINY, compose_config
from helpers.runs import synthetic_run, wait_until_paused
from helpers.synthetic_train import write_book
from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import rnnlab.tasks.lm
from rnnlab.errors import RnnlabError
from rnnlab.run.checkpoint import load_checkpoint
from rnnlab.train import train


def without_timing(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if "tokens_per_sec" not in k and "seconds" not in k}


def scalars(run_dir: Path) -> dict:
    events = EventAccumulator(str(run_dir))
    events.Reload()
    found = {
        tag: [(e.step, e.value) for e in events.Scalars(tag)]
        for tag in events.Tags()["scalars"]
        if "tokens_per_sec" not in tag
    }
    found["sample"] = [e.step for e in events.Tensors("sample/text_summary")]
    return found


def test_run_killed_mid_epoch_3_resumes_to_the_uninterrupted_result(tmp_path):
    data = write_book(tmp_path / "data")
    whole = synthetic_run(data, tmp_path / "whole", wait=False)  # alongside, to save time
    killed = synthetic_run(data, tmp_path / "split", pause_epoch=3, wait=False)
    wait_until_paused(killed, tmp_path / "split")  # one batch of epoch 3 trained, in memory
    assert load_checkpoint(tmp_path / "split" / "checkpoint.pt")["epoch"] == 2
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "split" / "metrics.json").exists()

    resumed = synthetic_run(data, tmp_path / "split", "trainer.resume=true")
    assert resumed.returncode == 0, resumed.stderr
    whole_stderr = whole.communicate(timeout=300)[1]
    assert whole.returncode == 0, whole_stderr
    expected = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    actual = json.loads((tmp_path / "split" / "metrics.json").read_text())
    assert actual["epochs"] == 4 and actual["status"] == "finished"
    assert without_timing(actual) == without_timing(expected)
    # TensorBoard: every epoch once, with the uninterrupted run's values
    assert scalars(tmp_path / "split") == scalars(tmp_path / "whole")
    assert scalars(tmp_path / "split")["val/perplexity"][-1][0] == 4
    info = json.loads((tmp_path / "split" / "run_info.json").read_text())
    assert info["start_epoch"] == 0 and [r["start_epoch"] for r in info["resumes"]] == [2]


def test_sigterm_mid_epoch_keeps_the_last_epoch_and_says_where(tmp_path):
    data = write_book(tmp_path / "data")
    run_dir = tmp_path / "run"
    process = synthetic_run(data, run_dir, pause_epoch=2, wait=False)
    wait_until_paused(process, run_dir)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    result = subprocess.CompletedProcess([], process.returncode, stdout, stderr)
    assert process.returncode == 128 + signal.SIGTERM
    result.returncode = 2  # assert_one_line_error checks the code of a bad input
    assert_one_line_error(
        result,
        "interrupted by SIGTERM",
        "holds epoch 1",
        str(run_dir / "checkpoint.pt"),
        f"hydra.run.dir={run_dir}",
        "trainer.resume=true",
    )
    assert load_checkpoint(run_dir / "checkpoint.pt")["epoch"] == 1
    assert not list(run_dir.glob("*.tmp"))


@pytest.fixture
def synthetic_book(monkeypatch, tiny_corpus):
    monkeypatch.setattr(
        rnnlab.data.timemachine, "load_timemachine", lambda *args, **kwargs: tiny_corpus
    )
    return tiny_corpus


def test_existing_checkpoint_is_not_overwritten_without_resume(tmp_path, synthetic_book):
    train(compose_config(TINY + ["trainer.max_epochs=1"]), tmp_path, "lstm")
    before = (tmp_path / "checkpoint.pt").read_bytes()
    with pytest.raises(RnnlabError, match="trainer.resume=true"):
        train(compose_config(TINY), tmp_path, "lstm")
    assert (tmp_path / "checkpoint.pt").read_bytes() == before


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("model.num_hiddens=32", "model.num_hiddens=16 (this run: 32)"),
        ("model=gru", "model.cell='lstm' (this run: 'gru')"),
        ("optim=sgd", "optim._target_='torch.optim.Adam' (this run: 'torch.optim.SGD')"),
    ],
)
def test_resuming_into_another_model_is_one_line(tmp_path, synthetic_book, override, named):
    train(compose_config(TINY + ["trainer.max_epochs=1"]), tmp_path, "lstm")
    with pytest.raises(RnnlabError) as error:
        train(compose_config(TINY + [override, "trainer.resume=true"]), tmp_path, "x")
    message = str(error.value)
    assert "\n" not in message and named in message and "checkpoint.pt" in message


def test_resuming_with_another_vocabulary_is_refused(tmp_path, synthetic_book, monkeypatch):
    from rnnlab.data.timemachine import corpus_from_text

    train(compose_config(TINY + ["trainer.max_epochs=1"]), tmp_path, "lstm")
    other = corpus_from_text("a quick brown fox jumps over the lazy dog " * 60)
    monkeypatch.setattr(rnnlab.data.timemachine, "load_timemachine", lambda *args, **kwargs: other)
    with pytest.raises(RnnlabError, match="a different vocab"):
        train(compose_config(TINY + ["trainer.resume=true"]), tmp_path, "lstm")


def test_weights_that_do_not_fit_are_one_line(tmp_path, synthetic_book):
    from rnnlab.run.checkpoint import save_checkpoint

    train(compose_config(TINY + ["trainer.max_epochs=1"]), tmp_path, "lstm")
    saved = load_checkpoint(tmp_path / "checkpoint.pt")
    saved["model"]["head.weight"] = torch.zeros(3, 3)  # config says one thing, weights another
    save_checkpoint(tmp_path / "checkpoint.pt", saved)
    with pytest.raises(RnnlabError, match=r"does not fit .*head\.weight") as error:
        train(compose_config(TINY + ["trainer.resume=true"]), tmp_path, "lstm")
    assert "\n" not in str(error.value)


def test_changed_training_settings_resume_with_a_warning(tmp_path, synthetic_book, caplog):
    train(compose_config(TINY + ["trainer.max_epochs=1"]), tmp_path, "lstm")
    with caplog.at_level(logging.WARNING):
        metrics = train(
            compose_config(TINY + ["trainer.resume=true", "optim.lr=0.001"]), tmp_path, "lstm"
        )
    assert metrics["epochs"] == 3
    assert "optim.lr 0.005 -> 0.001" in caplog.text
    assert "skip_finished" not in caplog.text


def test_how_a_run_is_launched_is_no_changed_setting(tmp_path, synthetic_book, caplog):
    """The README's sweep-resume recipe (skip_finished, resume) and other settings that do not
    change the result (threads, progress bar, more epochs) resume without a warning."""
    train(compose_config(TINY + ["trainer.max_epochs=1"]), tmp_path, "lstm")
    with caplog.at_level(logging.WARNING):
        train(
            compose_config(
                TINY
                + [
                    "trainer.resume=true",
                    "trainer.skip_finished=true",
                    "trainer.num_threads=1",
                    "trainer.log_every_n_steps=5",
                ]
            ),
            tmp_path,
            "lstm",
        )
    assert "changed settings" not in caplog.text


def test_resuming_a_finished_run_reports_its_metrics(tmp_path, synthetic_book):
    first = train(compose_config(TINY), tmp_path, "lstm")
    again = train(compose_config(TINY + ["trainer.resume=true"]), tmp_path, "lstm")
    assert without_timing(again) == without_timing(first)


def test_same_seed_gives_identical_metrics_json(tmp_path, synthetic_book):
    overrides = TINY + ["model.dropout=0.2", "model.num_layers=2", "data.sampling=random"]
    for name in ("a", "b"):
        train(compose_config(overrides), tmp_path / name, "lstm")
    a, b = (json.loads((tmp_path / name / "metrics.json").read_text()) for name in "ab")
    assert without_timing(a) == without_timing(b)
    assert set(a) - set(without_timing(a)) == {
        "tokens_per_sec",
        "train_tokens_per_sec",
        "wall_seconds",
        "last_launch_seconds",
    }


def test_diverged_run_keeps_the_last_finite_checkpoint(tmp_path, synthetic_book, monkeypatch):
    reference = tmp_path / "one_epoch"
    train(compose_config(TINY + ["trainer.max_epochs=1"]), reference, "lstm")

    task_class = rnnlab.tasks.lm.LanguageModelTask
    finite_loss = task_class.training_loss

    def nan_from_epoch_2(self, model, batch, state):
        loss, tokens, state = finite_loss(self, model, batch, state)
        return (loss * float("nan") if self.epoch >= 2 else loss), tokens, state

    train_batches = task_class.train_batches

    def remember_epoch(self, epoch):
        self.epoch = epoch
        return train_batches(self, epoch)

    monkeypatch.setattr(task_class, "training_loss", nan_from_epoch_2)
    monkeypatch.setattr(task_class, "train_batches", remember_epoch)
    metrics = train(compose_config(TINY), tmp_path / "run", "lstm")

    assert metrics["status"] == "diverged" and metrics["epochs"] == 1
    saved = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    expected = load_checkpoint(reference / "checkpoint.pt")
    assert saved["epoch"] == 1
    for name, weight in saved["model"].items():
        assert torch.isfinite(weight).all()
        assert torch.equal(weight, expected["model"][name])


@pytest.mark.parametrize(
    ("corrupt", "named"),
    [
        (
            lambda saved: saved.pop("rng"),
            "has no rng; expected the checkpoint.pt of an rnnlab training run",
        ),
        (lambda saved: saved.pop("config"), "has no config;"),
        (
            lambda saved: saved["config"]["model"].update(num_hiddens="abc"),
            "holds a config this rnnlab refuses: model.num_hiddens='abc' is not an integer",
        ),
    ],
)
def test_checkpoint_missing_a_field_is_one_line_naming_it(tmp_path, synthetic_book, corrupt, named):
    from rnnlab.run.checkpoint import save_checkpoint

    train(compose_config(TINY + ["trainer.max_epochs=1"]), tmp_path, "lstm")
    saved = load_checkpoint(tmp_path / "checkpoint.pt")
    corrupt(saved)
    save_checkpoint(tmp_path / "checkpoint.pt", saved)
    with pytest.raises(RnnlabError) as error:
        train(compose_config(TINY + ["trainer.resume=true"]), tmp_path, "lstm")
    message = str(error.value)
    assert "\n" not in message and named in message
    assert str(tmp_path / "checkpoint.pt") in message


def test_disk_full_during_training_is_one_line_and_keeps_the_last_checkpoint(
    tmp_path, synthetic_book, monkeypatch
):
    train(compose_config(TINY + ["trainer.max_epochs=1"]), tmp_path, "lstm")
    before = (tmp_path / "checkpoint.pt").read_bytes()

    def disk_full(obj, handle, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(
        RnnlabError,
        match=r"could not write checkpoint .*(best|checkpoint)\.pt"
        r"': No space left on device;",
    ):
        train(compose_config(TINY + ["trainer.resume=true"]), tmp_path, "lstm")
    assert (tmp_path / "checkpoint.pt").read_bytes() == before


@pytest.mark.parametrize(
    ("key", "before", "now"),
    [
        ("trainer.skip_finished", False, True),
        ("trainer.resume", False, True),
        ("trainer.device", "auto", "cpu"),
        ("trainer.num_threads", None, 4),
        ("trainer.max_epochs", 10, 20),
        ("trainer.max_train_seconds", None, 60),
        ("trainer.progress_bar", True, False),
        ("trainer.summary", True, False),
        ("trainer.log_every_n_steps", 20, 5),
        ("data.root", "/a", "/b"),
        ("data.download", True, False),
        ("eval.batch_size", 64, 256),
        ("task.sample_prefix", "time", "the"),
        ("task.sample_length", 50, 10),
        ("task.num_test_samples", 4, 0),
    ],
)
def test_settings_that_do_not_change_the_result_are_no_changed_setting(key, before, now, caplog):
    from rnnlab.run.resume import check_fits_run

    def config(value):
        group, name = key.split(".")
        return {"model": {"cell": "lstm"}, "optim": {"lr": 0.1}, group: {name: value}}

    with caplog.at_level(logging.WARNING):
        check_fits_run({"config": config(before)}, config(now), {}, Path("checkpoint.pt"))
    assert caplog.text == ""


@pytest.mark.parametrize(
    ("key", "before", "now"),
    [
        ("optim.lr", 0.1, 0.01),
        ("trainer.grad_clip", 1.0, 0.0),
        ("seed", 0, 1),
        ("trainer.val_every_n_epochs", 1, 5),
        ("trainer.keep_best", True, False),
        ("eval.beam_size", 1, 4),
        ("data.batch_size", 32, 64),
        ("trainer.precision", 32, "bf16"),
    ],
)
def test_settings_that_change_the_result_are_named_in_the_warning(key, before, now, caplog):
    from rnnlab.run.resume import check_fits_run

    def config(value):
        group, _, name = key.rpartition(".")
        return {group: {name: value}} if group else {name: value}

    with caplog.at_level(logging.WARNING):
        check_fits_run({"config": config(before)}, config(now), {}, Path("checkpoint.pt"))
    assert "resuming with changed settings" in caplog.text
    assert f"{key} {before!r} -> {now!r}" in caplog.text


def test_a_checkpoint_older_than_the_awd_settings_resumes_with_them_off(tmp_path, synthetic_book):
    from rnnlab.run.checkpoint import save_checkpoint

    train(compose_config(TINY + ["trainer.max_epochs=1"]), tmp_path, "lstm")
    saved = load_checkpoint(tmp_path / "checkpoint.pt")
    for key in ("weight_drop", "tie_weights", "forget_bias", "locked_dropout"):
        del saved["config"]["model"][key]
    del saved["config"]["scheduler"], saved["scheduler"]
    save_checkpoint(tmp_path / "checkpoint.pt", saved)
    with pytest.raises(RnnlabError, match=r"model.weight_drop=0.0 \(this run: 0.5\)"):
        train(
            compose_config(TINY + ["trainer.resume=true", "model.weight_drop=0.5"]),
            tmp_path,
            "lstm",
        )
    assert train(compose_config(TINY + ["trainer.resume=true"]), tmp_path, "lstm")["epochs"] == 3


@pytest.mark.parametrize(
    ("key", "now", "warns"),
    [
        ("data.punctuation", True, False),
        ("data.pool_batches", 50, False),  # what older runs did
        ("data.punctuation", False, True),
        ("data.pool_batches", 1, True),
    ],
)
def test_a_setting_older_runs_lacked_takes_its_default_and_is_no_change(caplog, key, now, warns):
    """An older checkpoint's config is read through today's schemas (`saved_config`): a key
    it lacks takes its default, which is what that run did, so only another value warns."""
    from rnnlab.config.run_config import compose_config as typed_compose
    from rnnlab.config.run_config import saved_config
    from rnnlab.run.resume import check_fits_run

    old = OmegaConf.to_container(typed_compose(["task=sentiment"]))
    group, _, name = key.rpartition(".")
    del old[group][name]
    config = OmegaConf.to_container(typed_compose(["task=sentiment", f"{key}={now}"]))
    with caplog.at_level(logging.WARNING):
        check_fits_run({"config": saved_config(old, "x.pt")}, config, {}, Path("checkpoint.pt"))
    assert ("resuming with changed settings" in caplog.text) == warns


def test_a_run_directory_resumes_with_the_overrides_it_was_launched_with(tmp_path, real_data_dir):
    """Issue 31: `hydra.run.dir=DIR trainer.resume=true` alone continues DIR's run, whose
    overrides (.hydra/overrides.yaml) it reuses; a conflicting one is still refused."""
    from helpers.cli import assert_one_line_error, run

    run_dir = tmp_path / "run"
    launch = ["model=gru", "model.num_hiddens=8", "data.max_tokens=3000", "trainer.max_epochs=1"]
    first = run("rnnlab.train", f"hydra.run.dir={run_dir}", *launch, "trainer.progress_bar=false")
    assert first.returncode == 0, first.stderr
    again = run("rnnlab.train", f"hydra.run.dir={run_dir}", "trainer.resume=true")
    assert again.returncode == 0, again.stderr
    assert "does not fit" not in again.stderr
    assert json.loads((run_dir / "metrics.json").read_text())["model"] == "gru"
    conflict = run("rnnlab.train", f"hydra.run.dir={run_dir}", "trainer.resume=true", "model=lstm")
    assert_one_line_error(conflict, "does not fit this run", "model.cell='gru'")


def test_a_resumed_runs_wall_seconds_add_up_its_launches(tmp_path, synthetic_book):
    """Issue 31: metrics.json's wall_seconds is the run's time over every launch (each up
    to its last checkpoint); last_launch_seconds is the last launch alone."""
    from helpers.config import train_whole_and_resumed

    from rnnlab.run.checkpoint import load_checkpoint

    whole, resumed = train_whole_and_resumed(tmp_path, TINY)
    assert whole["wall_seconds"] == whole["last_launch_seconds"]
    saved = load_checkpoint(tmp_path / "split" / "checkpoint.pt")["wall_seconds"]
    assert resumed["wall_seconds"] > resumed["last_launch_seconds"] > 0  # launch 1 counted
    assert 0 < saved <= resumed["wall_seconds"]  # the checkpoint keeps the sum so far


@pytest.mark.parametrize("resume", ["false", "true"])
def test_a_run_directory_holding_only_best_pt_is_not_taken_over(tmp_path, synthetic_book, resume):
    """Issue 31, defect 2: best.pt without checkpoint.pt is another run's result; neither a
    new run nor a resume may overwrite it."""
    train(compose_config(TINY + ["trainer.max_epochs=1"]), tmp_path, "lstm")
    (tmp_path / "checkpoint.pt").unlink()
    before = (tmp_path / "best.pt").read_bytes()
    with pytest.raises(RnnlabError, match="best.pt exists without a checkpoint.pt"):
        train(compose_config(TINY + [f"trainer.resume={resume}"]), tmp_path, "lstm")
    assert (tmp_path / "best.pt").read_bytes() == before


def test_resuming_a_finished_run_leaves_its_records_as_they_were(tmp_path, real_data_dir):
    """Issue 31, defect 9: resuming a finished run rewrote metrics.json (tokens_per_sec 0)
    and .hydra/config.yaml (a setting no epoch ran with)."""
    from helpers.cli import run

    run_dir = tmp_path / "run"
    launch = ["model.num_hiddens=8", "data.max_tokens=3000", "trainer.max_epochs=1"]
    assert run("rnnlab.train", f"hydra.run.dir={run_dir}", *launch).returncode == 0
    records = {
        name: (run_dir / name).read_bytes() for name in ("metrics.json", ".hydra/config.yaml")
    }
    again = run("rnnlab.train", f"hydra.run.dir={run_dir}", "trainer.resume=true", "optim.lr=0.5")
    assert again.returncode == 0, again.stderr
    assert "nothing to resume" in again.stdout + again.stderr
    assert records == {name: (run_dir / name).read_bytes() for name in records}


COSINE = [*TINY, "scheduler=cosine"]


def test_extending_a_run_past_its_schedule_gives_what_its_record_says(tmp_path, synthetic_book):
    """Issue 31, item 1 and defect 3: resuming a 2-epoch cosine run with max_epochs=3 used
    to stretch the half-spent decay over 3 epochs (an lr no run would have had); the run's
    recorded length (scheduler.total_epochs=2) is kept, and the result equals a fresh run
    launched with the settings its record holds."""
    train(compose_config([*COSINE, "trainer.max_epochs=2"]), tmp_path / "split", "x")
    resumed = train(
        compose_config([*COSINE, "trainer.max_epochs=3", "trainer.resume=true"]),
        tmp_path / "split",
        "x",
    )
    saved = load_checkpoint(tmp_path / "split" / "checkpoint.pt")["config"]["scheduler"]
    assert saved["total_epochs"] == 2
    fresh = train(
        compose_config([*COSINE, "trainer.max_epochs=3", "scheduler.total_epochs=2"]),
        tmp_path / "fresh",
        "x",
    )
    assert without_timing(resumed) == without_timing(fresh)


def test_a_schedule_launched_longer_than_the_run_resumes_to_the_uninterrupted_result(
    tmp_path, synthetic_book
):
    """Issue 31, item 1: the honest way to extend a run later is to launch it with the
    schedule's whole length (scheduler.total_epochs): stopped at 2 epochs of 4 and resumed
    to 4, it ends as the run trained in one go."""
    from helpers.config import train_whole_and_resumed

    whole, resumed = train_whole_and_resumed(tmp_path, [*COSINE, "scheduler.total_epochs=4"])
    assert without_timing(resumed) == without_timing(whole)


def test_another_schedule_length_on_resume_is_refused(tmp_path, synthetic_book):
    train(compose_config([*COSINE, "trainer.max_epochs=2"]), tmp_path, "x")
    resume = [*COSINE, "trainer.max_epochs=3", "scheduler.total_epochs=3", "trainer.resume=true"]
    with pytest.raises(RnnlabError, match=r"scheduler.total_epochs=2 \(this run: 3\)"):
        train(compose_config(resume), tmp_path, "x")


@pytest.mark.parametrize("junk", [{"junk": 1}, [1, 2]])
def test_junk_scheduler_state_in_a_checkpoint_is_one_line(tmp_path, synthetic_book, junk):
    """Issue 31, defect 11: junk scheduler state gave KeyError: 'lr_lambdas' on resume."""
    from rnnlab.run.checkpoint import save_checkpoint

    train(compose_config([*TINY, "scheduler=cosine", "trainer.max_epochs=1"]), tmp_path, "x")
    saved = load_checkpoint(tmp_path / "checkpoint.pt")
    saved["scheduler"] = junk
    save_checkpoint(tmp_path / "checkpoint.pt", saved)
    with pytest.raises(RnnlabError, match="the scheduler state in .* does not fit") as error:
        train(
            compose_config(
                [*TINY, "scheduler=cosine", "trainer.max_epochs=2", "trainer.resume=true"]
            ),
            tmp_path,
            "x",
        )
    assert "\n" not in str(error.value)
