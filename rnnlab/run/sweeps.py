"""What a job of a sweep needs beyond a single run: CPU threads per parallel job, a short
directory name, and the list of failed jobs at the end of a multirun (exit status 1). (A
job's record, what it hands the sweeper and what a rerun skips are `rnnlab.run.records`':
its run directory's `metrics.json`.)
"""

import hashlib
import json
import logging
import os
import shutil
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from rnnlab.run.records import write_json_atomically
from rnnlab.run.search import is_optuna, quiet_optuna_summary, report_best_trial

log = logging.getLogger(__name__)
FAILURES_DIR = ".failures"  # in the sweep directory: the jobs of its last launch that failed


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


def short_dirname(override_dirname: str, max_len: int = 120) -> str:
    """A job directory name from Hydra's `override_dirname` that stays short: floats to 4
    significant digits (an Optuna trial's `optim.lr=0.0051234567891234` → `optim.lr=0.005123`),
    and anything longer than `max_len` cut and given a hash of the whole. The job number in
    front keeps names unique (conf/config.yaml: `hydra.sweep.subdir`)."""
    parts = []
    for item in override_dirname.split(","):
        key, sep, value = item.partition("=")
        parts.append(f"{key}{sep}{_short_number(value)}" if sep else item)
    name = ",".join(parts)
    if len(name) <= max_len:
        return name
    digest = hashlib.sha1(override_dirname.encode()).hexdigest()[:8]
    return f"{name[:max_len - 9]}~{digest}"


def _short_number(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number:.4g}" if len(value) > 7 and ("." in value or "e" in value) else value


OmegaConf.register_new_resolver("short_dirname", short_dirname, replace=True)


def record_job_failure(sweep_dir: Path, job_num: int, overrides: list[str], error: str) -> None:
    """Note a failed job of this sweep in `<sweep dir>/.failures/<job num>.json`: outside its
    run directory, which may hold another process's run or an earlier finished one."""
    path = Path(sweep_dir) / FAILURES_DIR / f"{job_num}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(path, {"overrides": list(overrides), "error": error})


def failed_jobs(sweep_dir: Path) -> list[tuple[str, str]]:
    """(override string, error) of each job of the last launch of the sweep that failed."""
    paths = sorted(Path(sweep_dir).glob(f"{FAILURES_DIR}/*.json"), key=lambda p: int(p.stem))
    records = [json.loads(path.read_text()) for path in paths]
    return [(" ".join(record["overrides"]), record["error"]) for record in records]


class SweepReport(Callback):
    """The end of a multirun (configured under `hydra.callbacks` in conf/config.yaml): the
    failed jobs with their overrides, and an exit status of 1 when there are any, once every
    job has run; for an Optuna search, the best trial and its run directory
    (`rnnlab.run.search`). Failures are read from the sweep directory, so it sees jobs run
    by any launcher: in this process, joblib workers or SLURM nodes."""

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        shutil.rmtree(Path(config.hydra.sweep.dir) / FAILURES_DIR, ignore_errors=True)
        if is_optuna(config):
            quiet_optuna_summary()

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if is_optuna(config):
            report_best_trial(sweep_dir, config)
        failed = failed_jobs(sweep_dir)
        if not failed:
            return
        lines = [f"{len(failed)} job(s) of this sweep failed (see train.log in each run "
                 f"directory; rerun with trainer.skip_finished=true and a fixed hydra.sweep.dir "
                 f"to redo only these):"]
        lines += [f"  {overrides}\n      " + error.replace("\n", "\n      ")
                  for overrides, error in failed]
        print("\n".join(lines), file=sys.stderr)
        sys.exit(1)
