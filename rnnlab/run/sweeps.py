"""What a job of a sweep needs beyond a single run: CPU threads per parallel job, a short
directory name, what the loggers record at the start of a multirun (TensorBoard: the
sweep's HParams experiment, its swept keys and values), and the list of failed jobs at the
end (exit status 1). (A job's record, what it hands the sweeper and what a rerun skips are
`rnnlab.run.records`': its run directory's `metrics.json`.)
"""

import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep
from hydra.errors import HydraException
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from rnnlab.config import CONF_DIR
from rnnlab.loggers import logger_classes
from rnnlab.run.flatten import flatten_config
from rnnlab.run.records import write_json_atomically
from rnnlab.run.search import is_optuna, quiet_optuna_summary, report_best_trial
from rnnlab.tasks import TASKS

log = logging.getLogger(__name__)
FAILURES_DIR = ".failures"  # in the sweep directory: <launch>/<job num>.json per failed job
# the launch a job belongs to, set by the launching process (SweepReport) and inherited by
# the jobs it starts (in this process, joblib workers, SLURM jobs with the environment), so
# two sweeps sharing a sweep directory report only their own failures
LAUNCH_VARIABLE = "RNNLAB_SWEEP_LAUNCH"


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
    return f"{name[: max_len - 9]}~{digest}"


def _short_number(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number:.4g}" if len(value) > 7 and ("." in value or "e" in value) else value


OmegaConf.register_new_resolver("short_dirname", short_dirname, replace=True)


def this_launch() -> str:
    return os.environ.get(LAUNCH_VARIABLE, "unknown")


def record_job_failure(sweep_dir: Path, job_num: int, overrides: list[str], error: str) -> None:
    """Note a failed job of this launch in `<sweep dir>/.failures/<launch>/<job num>.json`:
    outside its run directory, which may hold another process's run or an earlier one."""
    path = Path(sweep_dir) / FAILURES_DIR / this_launch() / f"{job_num}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(path, {"overrides": list(overrides), "error": error})


def failed_jobs(sweep_dir: Path, launch: str | None = None) -> list[tuple[str, str]]:
    """(override string, error) of each job of a launch (this process's) that failed."""
    folder = Path(sweep_dir) / FAILURES_DIR / (launch or this_launch())
    paths = sorted(folder.glob("*.json"), key=lambda p: int(p.stem))
    records = [json.loads(path.read_text()) for path in paths]
    return [(" ".join(record["overrides"]), record["error"]) for record in records]


def group_choices(choices) -> dict:
    """The config groups Hydra chose for a job ({"model": "gru", "task": "lm", ...}), less
    Hydra's own (hydra/launcher, ...), the unset ones and optional ones that conf/ has no
    file for (Hydra records `experiment_model: lm_word_lstm` though nothing was composed)."""
    return {
        group: str(choice)
        for group, choice in (choices or {}).items()
        if choice is not None
        and not group.startswith("hydra")
        and (not (CONF_DIR / group).is_dir() or (CONF_DIR / group / f"{choice}.yaml").is_file())
    }


def swept_parameters(config: DictConfig) -> dict:
    """{key: values} of what a multirun sweeps: `hydra.sweeper.params` (presets, searches)
    and the command line's sweep overrides (which win), e.g. {"model": ["lstm", "gru"],
    "optim.lr": (0.001, 0.1)}: a list for a choice or range, (low, high) for an interval."""
    params = OmegaConf.select(config, "hydra.sweeper.params") or {}
    arguments = [f"{key}={value}" for key, value in params.items()]
    arguments += list(OmegaConf.select(config, "hydra.overrides.task") or [])
    swept = {}
    for argument in arguments:
        try:
            [override] = OverridesParser.create().parse_overrides([argument])
        except HydraException:
            continue
        value = override.value()
        if isinstance(value, IntervalSweep):
            swept[override.key_or_group] = (float(value.start), float(value.end))
        elif isinstance(value, ChoiceSweep | RangeSweep):
            swept[override.key_or_group] = list(override.sweep_iterator())
        else:
            swept.pop(override.key_or_group, None)  # the command line fixed it
    return swept


def metric_tags(task_name: str, test_text: bool = False) -> list[str]:
    """The HParams metric columns of a task: its objective first, then the losses, the test
    split's objective (when the task has one, or the data a test text: `data.test_path`)
    and the speed."""
    task = TASKS.get(task_name)
    if task is None:
        return []
    tags = [task.objective, "val/loss", "train/loss"]
    if task.has_test_split or test_text:
        tags.append(task.objective.replace("val/", "test/", 1))
    return [*tags, "train/tokens_per_sec"]


def start_sweep_loggers(config: DictConfig) -> None:
    """What each chosen logger records at the start of a sweep (`Logger.start_sweep`; the
    bundled loggers record nothing there: a TensorBoard experiment record at the sweep's
    root would govern every run of the logdir): the swept keys and their values, then every
    other config key, and the task's metrics."""
    plain = {key: value for key, value in config.items() if key != "hydra"}
    choices = group_choices(OmegaConf.select(config, "hydra.runtime.choices"))
    constant = {
        **choices,
        **flatten_config(OmegaConf.to_container(OmegaConf.create(plain), resolve=False)),
    }
    for logger_class in logger_classes(OmegaConf.select(config, "logger")):
        logger_class.start_sweep(
            Path(config.hydra.sweep.dir),
            swept_parameters(config),
            constant,
            metric_tags(
                str(OmegaConf.select(config, "task.name")),
                OmegaConf.select(config, "data.test_path") is not None,
            ),
        )


class SweepReport(Callback):
    """Configured under `hydra.callbacks` in conf/config.yaml. The start of a multirun: what
    the loggers record of the sweep (`start_sweep_loggers`). Its end: the failed jobs with
    their overrides, and an exit status of 1 when there are any, once every job has run;
    for an Optuna search, the best trial and its run directory (`rnnlab.run.search`).
    Failures are read from the sweep directory, so it sees jobs run by any launcher: in this
    process, joblib workers or SLURM nodes."""

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        os.environ[LAUNCH_VARIABLE] = f"{os.getpid()}-{time.time_ns()}"
        # an Optuna search opens its study database in the sweep directory before any job
        # (which is what makes the directory otherwise) has run
        Path(config.hydra.sweep.dir).mkdir(parents=True, exist_ok=True)
        start_sweep_loggers(config)
        if is_optuna(config):
            quiet_optuna_summary()

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if is_optuna(config):
            report_best_trial(sweep_dir, config)
        failed = failed_jobs(sweep_dir)
        if not failed:
            return
        lines = [
            f"{len(failed)} job(s) of this sweep failed (see train.log in each run "
            f"directory; rerun with trainer.skip_finished=true and a fixed hydra.sweep.dir "
            f"to redo only these):"
        ]
        lines += [
            f"  {overrides}\n      " + error.replace("\n", "\n      ")
            for overrides, error in failed
        ]
        print("\n".join(lines), file=sys.stderr)
        sys.exit(1)
