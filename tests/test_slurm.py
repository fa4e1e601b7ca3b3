"""`hydra/launcher=slurm` against a real scheduler: a two-job sweep finishes, a failed job
makes the sweep exit 1 with the job listed, and the resubmitted sweep skips the finished
job. Runs only where `sbatch` is on PATH with a cluster that answers (for one on this
machine: `sudo SLURMD_CPUS=1 scripts/local_slurm.sh start`); not in CI's time budget."""

import json
import shutil
import subprocess

import pytest
from helpers.cli import FAST, run

pytestmark = pytest.mark.skipif(
    shutil.which("sbatch") is None
    or subprocess.run(["sinfo", "-h"], capture_output=True).returncode != 0,
    reason="no SLURM cluster here (scripts/local_slurm.sh start sets one up)",
)

LAUNCHER = [
    "hydra/launcher=slurm",
    "hydra.launcher.gpus_per_node=0",
    "hydra.launcher.cpus_per_task=1",
    "hydra.launcher.mem_gb=1",
    "hydra.launcher.timeout_min=10",
    "trainer.summary=false",
]


def statuses(sweep):
    return {
        path.parent.name.split("_")[0]: json.loads(path.read_text())["status"]
        for path in sweep.glob("*/metrics.json")
    }


def test_a_slurm_sweep_runs_fails_and_resumes(tmp_path, real_data_dir):
    sweep = tmp_path / "sweep"
    args = ["-m", *LAUNCHER, f"hydra.sweep.dir={sweep}", f"data.root={real_data_dir}", *FAST]
    ok = run("rnnlab.train", *args, "model.num_hiddens=8,16")
    assert ok.returncode == 0, ok.stderr
    assert statuses(sweep) == {"0": "finished", "1": "finished"}
    assert (sweep / ".submitit").is_dir()  # the jobs went through the scheduler

    sweep = tmp_path / "failing"
    args = [
        "-m",
        *LAUNCHER,
        f"hydra.sweep.dir={sweep}",
        f"data.root={real_data_dir}",
        *FAST,
        "optim.lr=0.01,-1",
    ]
    failed = run("rnnlab.train", *args)
    assert failed.returncode == 1, failed.stderr
    assert "1 job(s) of this sweep failed" in failed.stderr and "optim.lr=-1" in failed.stderr
    assert statuses(sweep) == {"0": "finished", "1": "failed"}

    again = run("rnnlab.train", *args, "trainer.skip_finished=true")
    assert again.returncode == 1, again.stderr
    logs = "".join(path.read_text() for path in sweep.glob(".submitit/*/*.out"))
    assert "skipping" in logs + again.stdout + again.stderr
    assert statuses(sweep) == {"0": "finished", "1": "failed"}
