"""Each ```python block of README.md runs as written, in a fresh interpreter in an empty
directory, on the data in $RNNLAB_DATA."""

import os
import re
import subprocess
import sys

import pytest
from helpers.cli import REPO

BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
BLOCKS = BLOCK.findall((REPO / "README.md").read_text(encoding="utf-8"))
# the blocks that train through rnnlab.train (tests/test_api.py trains so in-process, fast)
SLOW = ("rnnlab.train(",)


def cases() -> list:
    return [
        pytest.param(
            code,
            id=f"block{number}",
            marks=[pytest.mark.slow] if any(word in code for word in SLOW) else [],
        )
        for number, code in enumerate(BLOCKS, start=1)
    ]


def test_the_readme_has_its_python_blocks():
    assert len(BLOCKS) >= 3
    assert any("rnnlab.train(" in code and "rnnlab.load(" in code for code in BLOCKS)


@pytest.mark.parametrize("code", cases())
def test_readme_python_block_runs(code, real_data_dir, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "RNNLAB_DATA": str(real_data_dir)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert result.stdout.strip()  # every block prints what it shows
