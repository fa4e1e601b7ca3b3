"""What a job of a sweep needs beyond a single run: the value it hands the sweeper, a record
of a crash that does not stop the other jobs, skipping jobs a previous attempt completed,
CPU threads per parallel job, and the list of failed jobs at the end of a multirun.

A job's record is its run directory's `metrics.json`: `status` is "finished" or "diverged"
(written by `rnnlab.train.train`) or "failed" (written here, with the error).
"""

import json
import logging
import math
import os
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from rnnlab.logging import write_json_atomically

log = logging.getLogger(__name__)

COMPLETE = ("finished", "diverged")  # outcomes a rerun would only repeat


def read_metrics(run_dir: Path) -> dict | None:
    """The run's metrics.json, or None when it has none (never started, or killed)."""
    path = Path(run_dir) / "metrics.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None


def completed_metrics(run_dir: Path) -> dict | None:
    """metrics.json of a run that finished or diverged (what `trainer.skip_finished` skips);
    None for a run that failed, was killed or never ran, which a rerun must redo."""
    metrics = read_metrics(run_dir)
    return metrics if metrics is not None and metrics.get("status") in COMPLETE else None


def objective_value(metrics: dict, direction: str = "minimize", keep_best: bool = True) -> float:
    """The float a sweeper ranks the job by: with `keep_best`, the best epoch's objective
    (the weights kept in best.pt), else the last epoch's. A diverged or failed run, or one
    with no finite value, gets the worst value (+inf when minimising, -inf when maximising),
    so Optuna records a bad trial instead of stopping the search."""
    worst = math.inf if direction == "minimize" else -math.inf
    if metrics.get("status") != "finished" or "objective" not in metrics:
        return worst
    keys = ["best_" + metrics["objective"]] if keep_best else []
    for key in [*keys, metrics["objective"]]:
        value = metrics.get(key)
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    return worst


def record_failure(run_dir: Path, error: BaseException, task: str, model: str) -> dict:
    """Write metrics.json for a job that raised, so the sweep goes on and the table shows it."""
    metrics = {"task": task, "model": model, "status": "failed",
               "error": f"{type(error).__name__}: {error}"}
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    write_json_atomically(Path(run_dir) / "metrics.json", metrics)
    return metrics


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
