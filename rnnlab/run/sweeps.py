"""What a job of a sweep needs beyond a single run: CPU threads per parallel job, and the
list of failed jobs at the end of a multirun. (A job's record, what it hands the sweeper
and what a rerun skips are `rnnlab.run.records`': its run directory's `metrics.json`.)
"""

import logging
import os
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from rnnlab.run.records import read_metrics

log = logging.getLogger(__name__)


def threads_per_job(launcher: DictConfig | None, cpu_count: int | None = None) -> int | None:
    """Torch CPU threads for one job, from the launcher that runs it: with joblib, cores /
    parallel jobs, so the jobs do not oversubscribe the cores (n_jobs=-1: one job per core,
    as in joblib); on SLURM, the job's cpus_per_task. None for the basic launcher (one job
    at a time: torch's default)."""
    target = str((launcher or {}).get("_target_", ""))
    if "SlurmLauncher" in target:
        return launcher.get("cpus_per_task") or None
    if "JoblibLauncher" not in target:
        return None
    cores = cpu_count or os.cpu_count() or 1
    n_jobs = int(launcher.get("n_jobs") or 1)
    if n_jobs < 0:
        n_jobs = max(cores + 1 + n_jobs, 1)
    return max(cores // n_jobs, 1)


def failed_jobs(sweep_dir: Path) -> list[tuple[str, str]]:
    """(override string, error) of each job under `sweep_dir` whose metrics.json says failed."""
    failed = []
    for path in sorted(Path(sweep_dir).rglob("metrics.json")):
        metrics = read_metrics(path.parent)
        if metrics is None or metrics.get("status") != "failed":
            continue
        overrides_file = path.parent / ".hydra" / "overrides.yaml"
        overrides = (" ".join(OmegaConf.load(overrides_file)) if overrides_file.is_file()
                     else str(path.parent))
        failed.append((overrides, metrics.get("error", "")))
    return failed


class FailedJobsReport(Callback):
    """Lists the failed jobs of a multirun, with their overrides, once all jobs are done
    (configured under `hydra.callbacks` in conf/config.yaml). Reads the run directories, so
    it sees jobs run by any launcher: in this process, joblib workers or SLURM nodes."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        failed = failed_jobs(Path(config.hydra.sweep.dir))
        if not failed:
            return
        lines = [f"{len(failed)} job(s) of this sweep failed (see train.log in each run "
                 f"directory; rerun with trainer.skip_finished=true and a fixed hydra.sweep.dir "
                 f"to redo only these):"]
        lines += [f"  {overrides}\n      " + error.replace("\n", "\n      ")
                  for overrides, error in failed]
        print("\n".join(lines), file=sys.stderr)
