"""The package as a user installs it: a wheel built from the repository, installed with no
extras into a fresh virtual environment, trains each task from an empty directory."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY_RUNS = {
    "lm": ["data.max_tokens=5000"],
    "seq2seq": ["task=seq2seq", "data.num_examples=2000", "model.attention=bahdanau"],
    "sentiment": ["task=sentiment", "data.max_len=20", "data.vocab_size=1000"],
}


def run(command: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ folder of a fresh venv holding rnnlab's wheel and its pinned needs only."""
    tmp = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp), str(ROOT)], tmp)
    (wheel,) = tmp.glob("rnnlab-*.whl")
    run([sys.executable, "-m", "venv", str(tmp / "venv")], tmp)
    bin_dir = tmp / "venv" / "bin"
    run(
        [str(bin_dir / "pip"), "install", "-q", "-c", str(ROOT / "constraints.txt"), str(wheel)],
        tmp,
    )
    return bin_dir


@pytest.mark.slow
def test_the_wheel_holds_no_extras_and_every_config(installed):
    listed = run([str(installed / "pip"), "list", "--format=json"], installed).stdout
    names = {package["name"].lower() for package in json.loads(listed)}
    assert "rnnlab" in names
    assert not names & {"pytest", "ruff", "hydra-joblib-launcher", "hydra-optuna-sweeper"}
    code = "import rnnlab.config as c; print(c.CONF_DIR, len(list(c.CONF_DIR.rglob('*.yaml'))))"
    conf_dir, count = run([str(installed / "python"), "-c", code], installed).stdout.split()
    assert "site-packages" in conf_dir  # the installed copy, not the checkout's
    assert int(count) == len(list((ROOT / "conf").rglob("*.yaml")))


@pytest.mark.slow
@pytest.mark.parametrize("task", TINY_RUNS)
def test_the_wheel_trains_each_task_from_an_empty_directory(
    installed, real_data_dir, tmp_path, task
):
    env = {**os.environ, "RNNLAB_DATA": str(real_data_dir), "PYTHONPATH": ""}
    overrides = ["trainer.max_epochs=1", "trainer.progress_bar=false", "model.num_hiddens=8"]
    run([str(installed / "rnnlab-train"), *overrides, *TINY_RUNS[task]], tmp_path, env)
    (metrics_file,) = tmp_path.glob("outputs/*/*/metrics.json")
    metrics = json.loads(metrics_file.read_text())
    assert metrics["status"] == "finished" and metrics["task"] == task
