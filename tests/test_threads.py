"""`import rnnlab` before torch makes PyTorch's OpenMP threads wait passively (no
spinning), the fix for the slowdown beside a busy process (scripts/bench_load.py measures
it); libgomp shows what it read with OMP_DISPLAY_ENV=VERBOSE."""

import os
import subprocess
import sys

import pytest


def openmp_spin_count(code: str, **env) -> str:
    environ = {key: value for key, value in os.environ.items()
               if key not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    environ.update(OMP_DISPLAY_ENV="VERBOSE", **env)
    result = subprocess.run([sys.executable, "-c", f"{code}; torch.ones(1)"], capture_output=True,
                            text=True, timeout=120, env=environ)
    assert result.returncode == 0, result.stderr
    for line in result.stderr.splitlines():
        if "GOMP_SPINCOUNT" in line:
            return line.split("=", 1)[1].strip().strip("'")
    pytest.skip("torch's OpenMP is not libgomp (no OMP_DISPLAY_ENV report)")


def test_rnnlab_first_makes_openmp_wait_passively():
    assert openmp_spin_count("import rnnlab, torch") == "0"  # PASSIVE: no spinning
    assert openmp_spin_count("import torch, rnnlab") == "300000"  # too late: libgomp's default
    # a value the user set wins
    assert openmp_spin_count("import rnnlab, torch", OMP_WAIT_POLICY="ACTIVE") != "0"
