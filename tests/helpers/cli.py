"""The command lines as a user runs them, in a subprocess, and the one-line error check."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FAST = ["model.num_hiddens=8", "trainer.max_epochs=1", "data.batch_size=64", "task.sample_length=5"]


def run(module, *args, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0]
