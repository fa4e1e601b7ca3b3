"""The `logger` group: its options, choosing several on the command line, metrics.csv per
epoch (also across a resume), and the tables reading curves back from it."""

import csv
import json
import sys
from pathlib import Path

import pytest
from helpers.config import TINY, compose_config, train_whole_and_resumed
from hydra import compose, initialize_config_dir
from hydra.utils import get_class
from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata
from torch.utils.tensorboard import SummaryWriter

from rnnlab.config import CONF_DIR
from rnnlab.config.argv import options_of
from rnnlab.config.run_config import register_schemas
from rnnlab.loggers import Logger, build_loggers, read_curves
from rnnlab.loggers.csv_file import CsvLogger
from rnnlab.loggers.tensorboard import STEPS_DIR
from rnnlab.run.sweeps import start_sweep_loggers
from rnnlab.tables.ablation import load_run
from rnnlab.train import cli, train


def csv_rows(run_dir: Path) -> list[dict]:
    with open(run_dir / "metrics.csv", newline="") as file:
        return list(csv.DictReader(file))


def test_the_group_lists_its_options_and_each_is_a_logger():
    assert options_of(CONF_DIR / "logger") == ["csv", "tensorboard"]
    for option in options_of(CONF_DIR / "logger"):
        [node] = compose_config([f"logger={option}"]).logger.values()
        assert issubclass(get_class(node._target_), Logger)


@pytest.mark.parametrize(
    ("overrides", "chosen"),
    [
        ([], ["tensorboard"]),  # the default
        (["logger=csv"], ["csv"]),
        (["logger=[tensorboard,csv]"], ["tensorboard", "csv"]),
        (["logger=[]"], []),  # nothing but metrics.json
    ],
)
def test_the_command_line_chooses_one_several_or_no_loggers(tmp_path, overrides, chosen):
    cfg = compose_config(overrides)
    assert list(OmegaConf.select(cfg, "logger") or {}) == chosen
    built = build_loggers(OmegaConf.select(cfg, "logger"), tmp_path)
    assert [type(logger).__name__ for logger in built.loggers] == [
        {"tensorboard": "TensorBoardLogger", "csv": "CsvLogger"}[name] for name in chosen
    ]
    built.close()


@pytest.mark.parametrize("choice", ["logger=foo", "logger=[tensorboard,foo]"])
def test_an_unknown_logger_is_one_line(tmp_path, monkeypatch, capsys, choice):
    """`rnnlab-train logger=foo`, in this process (it stops before Hydra composes)."""
    monkeypatch.setattr(sys, "argv", ["rnnlab-train", choice, f"hydra.run.dir={tmp_path}"])
    with pytest.raises(SystemExit) as stopped:
        cli()
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: logger='foo' is not one of: csv, tensorboard (the files in conf/logger/)"
    ]


def test_a_run_with_both_loggers_writes_a_row_per_epoch(tmp_path, synthetic_book):
    metrics = train(compose_config([*TINY, "logger=[tensorboard,csv]"]), tmp_path, "lstm")
    rows = csv_rows(tmp_path)
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    assert list(rows[0])[:3] == ["epoch", "train/loss", "train/perplexity"]
    # exact, as metrics.json has it: floats are written in full
    assert (
        float(rows[-1]["val/perplexity"])
        == json.loads((tmp_path / "metrics.json").read_text())["val_perplexity"]
    )
    assert float(rows[-1]["val/perplexity"]) == metrics["val_perplexity"]
    # the events are still written, with the same curves (as float32)
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert [e.value for e in events.Scalars("train/loss")] == pytest.approx(
        [float(row["train/loss"]) for row in rows], rel=1e-6
    )
    # where a run logs is not one of its hparams
    session = events.PluginTagToContent("hparams")[metadata.SESSION_START_INFO_TAG]
    assert b"model.num_hiddens" in session and b"logger" not in session


def test_a_resumed_run_appends_its_rows_once(tmp_path, synthetic_book):
    whole, resumed = train_whole_and_resumed(tmp_path, [*TINY, "logger=csv"], epochs=4, cut=2)
    assert whole["val_perplexity"] == resumed["val_perplexity"]
    split, uncut = csv_rows(tmp_path / "split"), csv_rows(tmp_path / "whole")
    assert [row["epoch"] for row in split] == ["1", "2", "3", "4"]

    def learned(rows):  # what does not depend on the machine's speed
        return [{k: v for k, v in row.items() if "tokens_per_sec" not in k} for row in rows]

    assert learned(split) == learned(uncut)
    assert not list((tmp_path / "split").glob("events.out.tfevents.*"))  # csv alone


def test_rows_a_killed_run_wrote_after_its_checkpoint_are_dropped(tmp_path):
    killed = CsvLogger(tmp_path)
    for epoch in (1, 2, 3):  # killed after epoch 3, its checkpoint holds epoch 2
        killed.scalars({"train/loss": float(epoch)}, epoch)
    resumed = CsvLogger(tmp_path, start_epoch=2)
    resumed.scalars({"train/loss": 30.0}, 3)
    assert [(row["epoch"], row["train/loss"]) for row in csv_rows(tmp_path)] == [
        ("1", "1.0"),
        ("2", "2.0"),
        ("3", "30.0"),
    ]
    CsvLogger(tmp_path)  # a new run in the same directory starts an empty file
    assert csv_rows(tmp_path) == []


def test_a_tag_first_seen_later_adds_a_column_to_every_row(tmp_path):
    logger = CsvLogger(tmp_path)
    logger.scalars({"train/loss": 2.0}, 1)
    logger.scalars({"train/loss": 1.5, "val/perplexity": 4.25}, 2)
    logger.scalars({"test/perplexity": 4.5}, 2)  # the test split, on the last epoch's row
    assert (tmp_path / "metrics.csv").read_text().splitlines() == [
        "epoch,train/loss,val/perplexity,test/perplexity",
        "1,2.0,,",
        "2,1.5,4.25,4.5",
    ]
    assert read_curves(tmp_path) == {
        "train/loss": [(1, 2.0), (2, 1.5)],
        "val/perplexity": [(2, 4.25)],
        "test/perplexity": [(2, 4.5)],
    }


def old_run(run_dir: Path) -> Path:
    """A run directory as the tables find it: overrides, metrics.json, no curves yet."""
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "overrides.yaml").write_text("- model=gru\n- seed=0\n")
    (run_dir / "metrics.json").write_text(json.dumps({"model": "gru", "status": "finished"}))
    return run_dir


def test_tables_read_the_last_epoch_from_metrics_csv(tmp_path):
    run_dir = old_run(tmp_path / "run")
    logger = CsvLogger(run_dir)
    logger.scalars({"val/perplexity": 6.0, "train/lr": 0.1}, 1)
    logger.scalars({"val/perplexity": 5.0, "train/lr": 0.01}, 2)
    with SummaryWriter(str(run_dir)) as writer:  # beside it: not read when metrics.csv is there
        writer.add_scalar("val/perplexity", 99.0, 2)
    run = load_run(run_dir)
    assert run.scalars == {"val/perplexity": 5.0, "train/lr": 0.01}
    assert run.value("val_perplexity") == 5.0


def test_tables_still_read_runs_with_only_tensorboard_events(tmp_path):
    run_dir = old_run(tmp_path / "run")
    with SummaryWriter(str(run_dir)) as writer:
        writer.add_scalar("val/perplexity", 6.0, 1)
        writer.add_scalar("val/perplexity", 5.0, 2)
    assert load_run(run_dir).value("val_perplexity") == 5.0


@pytest.mark.parametrize(("choice", "records"), [("logger=tensorboard", 0), ("logger=csv", 0)])
def test_a_sweep_starts_only_the_loggers_it_chose(tmp_path, choice, records):
    """Neither writes a file at the sweep's root: TensorBoard would read a record there as
    the columns of every run in the logdir, and list it as an empty run."""
    register_schemas()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        config = compose(
            config_name="config",
            overrides=[choice, f"hydra.sweep.dir={tmp_path}"],
            return_hydra_config=True,
        )
    start_sweep_loggers(config)
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == records


def step_curves(run_dir) -> dict:
    events = EventAccumulator(str(run_dir / STEPS_DIR))
    events.Reload()
    return {
        tag: [(e.step, round(e.value, 6)) for e in events.Scalars(tag)]
        for tag in events.Tags()["scalars"]
    }


def test_loss_and_lr_are_logged_every_n_steps_and_resume_without_repeats(tmp_path, synthetic_book):
    """Issue 31, item 3: per-epoch scalars left a short run's curves empty; train_step/loss
    (the loss over the last n steps) and train_step/lr come every log_every_n_steps, at
    x = optimizer step, and a resumed run's curve equals an uninterrupted run's."""
    overrides = [
        *TINY,
        "trainer.log_every_n_steps=2",
        "scheduler=cosine",
        "scheduler.total_epochs=2",
    ]
    train_whole_and_resumed(tmp_path, overrides, epochs=2, cut=1)
    whole = step_curves(tmp_path / "whole")
    steps = [step for step, _ in whole["train_step/loss"]]
    assert len(steps) >= 4 and steps == sorted(set(steps)) and steps[0] == 2
    assert [step for step, _ in whole["train_step/lr"]] == steps
    assert len({value for _, value in whole["train_step/lr"]}) > 2  # the cosine, step by step
    assert step_curves(tmp_path / "split") == whole
