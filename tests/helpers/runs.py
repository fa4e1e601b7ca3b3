"""Training runs in a subprocess on a book of our own (helpers/synthetic_train.py), for
tests that signal, kill or pause a run mid-epoch."""

import os
import subprocess
import sys
import time
from pathlib import Path

from helpers.cli import REPO

# 56 random batches per epoch; dropout draws from the RNG, so its state must be restored.
RUN = [
    "model.num_hiddens=16",
    "model.num_layers=2",
    "model.dropout=0.3",
    "data.batch_size=4",
    "data.num_steps=8",
    "data.sampling=random",
    "data.download=false",
    "trainer.max_epochs=4",
    "trainer.num_threads=1",
    "trainer.progress_bar=false",
    "task.sample_length=10",
]


def synthetic_run(data_root: Path, run_dir: Path, *overrides: str, pause_epoch=None, wait=True):
    """tests/helpers/synthetic_train.py in a subprocess; with `pause_epoch`, it stops inside that
    epoch after one batch and creates run_dir/paused (returns the Popen)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if pause_epoch is not None:
        env.update(
            RNNLAB_TEST_PAUSE_EPOCH=str(pause_epoch), RNNLAB_TEST_PAUSED=str(run_dir / "paused")
        )
    command = [
        sys.executable,
        str(REPO / "tests" / "helpers" / "synthetic_train.py"),
        f"data.root={data_root}",
        f"hydra.run.dir={run_dir}",
        *RUN,
        *overrides,
    ]
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if not wait:
        return process
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def wait_until_paused(process, run_dir: Path) -> None:
    deadline = time.monotonic() + 240
    while not (run_dir / "paused").exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the run never reached its pause"
        time.sleep(0.05)
