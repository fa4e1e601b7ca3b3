"""The command lines as a user runs them: one-line errors, multiruns, generation."""

import json
import subprocess
import sys
from pathlib import Path

from helpers.cli import FAST, assert_one_line_error, run


def test_missing_data_is_one_line(tmp_path):
    result = run(
        "rnnlab.train",
        f"data.root={tmp_path}",
        "data.download=false",
        f"hydra.run.dir={tmp_path / 'run'}",
        *FAST,
    )
    assert_one_line_error(
        result,
        "timemachine.txt",
        str(tmp_path),
        "d2l-data.s3-accelerate.amazonaws.com/timemachine.txt",
    )


def test_generate_without_checkpoint_is_one_line(tmp_path):
    result = run("rnnlab.generate", f"checkpoint={tmp_path / 'missing.pt'}")
    assert_one_line_error(result, "missing.pt", "does not exist")


def test_multirun_then_generate(tmp_path, real_data_dir):
    sweep = tmp_path / "sweep"
    result = run("rnnlab.train", "-m", "model=lstm,gru", f"hydra.sweep.dir={sweep}", *FAST)
    assert result.returncode == 0, result.stderr
    runs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert [name.split("_")[0] for name in runs] == ["0", "1"]  # <job number>_<overrides>
    assert "model=lstm" in runs[0] and "model=gru" in runs[1]
    for name, model in zip(runs, ["lstm", "gru"], strict=True):
        metrics = json.loads((sweep / name / "metrics.json").read_text())
        assert metrics["model"] == model and metrics["status"] == "finished"
        assert metrics["val_perplexity"] < 28  # better than a uniform guess over 28 symbols

    checkpoint = sweep / runs[0] / "checkpoint.pt"
    result = run(
        "rnnlab.generate", f"checkpoint={checkpoint}", "prefix=time traveller", "num_preds=20"
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout.rstrip("\n")  # an untrained model may well predict spaces
    assert text.startswith("time traveller") and len(text) == len("time traveller") + 20
    sampled = [
        run("rnnlab.generate", f"checkpoint={checkpoint}", "temperature=1", "seed=3")
        for _ in range(2)
    ]
    assert sampled[0].stdout == sampled[1].stdout  # seeded sampling is reproducible


def test_console_scripts_run_the_commands(tmp_path):
    """`rnnlab-train` etc. (pyproject.toml) are the `python -m` commands, from any directory."""
    bin_dir = Path(sys.executable).parent
    for name in (
        "rnnlab-train",
        "rnnlab-generate",
        "rnnlab-translate",
        "rnnlab-predict",
        "rnnlab-evaluate",
    ):
        assert (bin_dir / name).is_file(), f"{name}: reinstall with `make venv`"
    shown = subprocess.run(
        [bin_dir / "rnnlab-train", "experiment=lm_best", "--cfg", "job"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == run("rnnlab.train", "experiment=lm_best", "--cfg", "job").stdout
    assert "max_epochs: 25" in shown.stdout and "tie_weights: true" in shown.stdout
    missing = subprocess.run(
        [bin_dir / "rnnlab-generate", f"checkpoint={tmp_path / 'x.pt'}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_one_line_error(missing, "x.pt", "does not exist")


def test_every_command_has_help():
    for command in ("generate", "translate", "predict", "evaluate"):
        result = run(f"rnnlab.{command}", "--help")
        assert result.returncode == 0, result.stderr
        assert f"python -m rnnlab.{command} checkpoint=" in result.stdout
        assert "checkpoint" in result.stdout and "error" not in result.stderr


def test_evaluate_scores_a_checkpoint_as_training_did(tmp_path, real_data_dir):
    assert run("rnnlab.train", f"hydra.run.dir={tmp_path}", *FAST).returncode == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    result = run("rnnlab.evaluate", f"checkpoint={tmp_path / 'checkpoint.pt'}")
    assert result.returncode == 0, result.stderr
    assert "task=lm has no test split; scoring its validation split" in result.stderr
    scores = dict(line.split("\t") for line in result.stdout.splitlines())
    assert set(scores) == {"val/loss", "val/perplexity"}
    assert abs(float(scores["val/perplexity"]) - metrics["val_perplexity"]) < 1e-4

    bad_split = run("rnnlab.evaluate", f"checkpoint={tmp_path / 'checkpoint.pt'}", "split=train")
    assert_one_line_error(bad_split, "split='train' is not one of test, val")
    bad_key = run("rnnlab.evaluate", f"checkpoint={tmp_path / 'checkpoint.pt'}", "data.nope=1")
    assert_one_line_error(bad_key, "'data.nope=1'", "key of the run config")
