"""scripts/d2l_reference.py (d2l 0.17.6's own chapter-8 code) on a tiny grid, when its
environment (.venv-d2l, `make d2l-env`) is present; skipped otherwise, so CI, which has no
such environment, spends nothing here. scripts/d2l_column.py's resumption needs no d2l."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
D2L_PYTHON = ROOT / ".venv-d2l" / "bin" / "python"
BOOK = Path(os.environ.get("RNNLAB_DATA") or ROOT.parent / "shared" / "data") / "timemachine.txt"

needs_d2l = pytest.mark.skipif(
    not D2L_PYTHON.is_file() or not BOOK.is_file(),
    reason="no .venv-d2l (make d2l-env) or no timemachine.txt in RNNLAB_DATA",
)

TINY = [
    ["--model", "rnn_scratch"],
    ["--model", "gru_scratch", "--sampling", "random"],
    ["--model", "lstm", "--num-layers", "2", "--no-clip"],
]


@needs_d2l
@pytest.mark.parametrize("arguments", TINY, ids=lambda a: "_".join(a[1::2]))
def test_d2l_reference_runs_a_tiny_cell(tmp_path, arguments):
    out = tmp_path / "d2l.jsonl"
    command = [str(D2L_PYTHON), "-W", "ignore", str(ROOT / "scripts" / "d2l_reference.py")]
    command += [*arguments, "--num-hiddens", "8", "--epochs", "2", "--out", str(out)]
    command += ["--data", str(BOOK.parent)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout.strip().splitlines()[-1])
    assert record == json.loads(out.read_text())
    assert record["status"] == "finished" and record["epochs_run"] == 2
    # 28 tokens: an untrained model's perplexity is near 28, never below 1
    assert 1.0 < record["train_perplexity"] < 40.0 and 1.0 < record["val_perplexity"] < 40.0
    assert record["grad_clip"] is ("--no-clip" not in arguments)


def test_d2l_column_skips_recorded_runs(tmp_path):
    out = tmp_path / "d2l.jsonl"
    recorded = {"model": "rnn", "num_hiddens": 256, "num_layers": 1, "sampling": "sequential"}
    out.write_text(json.dumps({**recorded, "seed": 0, "grad_clip": True, "epochs": 500}) + "\n")
    command = [sys.executable, str(ROOT / "scripts" / "d2l_column.py"), "--dry-run"]
    command += ["--cells", "rnn_h256", "--seeds", "0-1", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    runs = [line for line in done.stderr.splitlines() if "d2l_reference.py" in line]
    assert len(runs) == 1 and "--seed 1 " in runs[0]
