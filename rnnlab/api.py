"""rnnlab from Python: `rnnlab.train` runs one job as `rnnlab-train` runs it, and
`rnnlab.load` gives a trained run's model with its task's uses.

    import rnnlab
    run = rnnlab.train(["model=gru", "trainer.max_epochs=1"], run_dir="runs/gru")
    run.metrics["val_perplexity"]                  # the record, as metrics.json holds it
    lm = rnnlab.load(run.run_dir)                  # best.pt, else checkpoint.pt
    lm.generate("time traveller", num_preds=50)

The run is the command line's: the same checks of the overrides, Hydra's composition and
logging (train.log), the run directory's lock, its `.hydra/` record, run_info.json and
metrics.json (`rnnlab.train.Job`). What differs is how it ends: a mistake in the overrides
or the data raises `RnnlabError` with the one line the command would print, and a Ctrl-C
raises KeyboardInterrupt saying how to continue, instead of exiting. Logging and Hydra's
global state are put back as they were afterwards, so a notebook can train again.
"""

import contextlib
import logging
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from hydra._internal.callbacks import Callbacks
from hydra._internal.hydra import Hydra
from hydra._internal.utils import create_config_search_path
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import run_job
from hydra.errors import HydraException
from hydra.types import HydraContext, RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from rnnlab.config import CONF_DIR
from rnnlab.config.argv import (
    check_composes,
    check_group_choices,
    check_jobs_data,
    with_saved_overrides,
)
from rnnlab.config.run_config import register_schemas
from rnnlab.errors import RnnlabError
from rnnlab.inference.trained import TrainedModel
from rnnlab.run.interrupt import Interrupted
from rnnlab.train import Job, interrupted_message

JOB_NAME = "train"  # Hydra's job name, as the command line's: the run's log is train.log
CONFIG_NAME = "config"


@dataclass(frozen=True)
class Run:
    """A trained run: its directory and its record (metrics.json's content: `status`,
    `val_perplexity`, `best_epoch`, ...; see the README's "What a run writes")."""

    run_dir: Path
    metrics: dict

    def load(self) -> TrainedModel:
        """The run's model (its best.pt, else its checkpoint.pt)."""
        return TrainedModel(self.run_dir)


def train(overrides: Sequence[str] = (), run_dir: str | Path | None = None) -> Run:
    """One run of `rnnlab-train OVERRIDES` in `run_dir` (default: the command line's,
    outputs/<date>/<time> under the current directory). With `trainer.resume=true` and
    the directory of an earlier run it continues that run with its saved overrides, as
    the command line does. A bad override, missing data or a busy directory raises
    `RnnlabError`; a sweep (`-m`) is the command line's alone."""
    argv = _overrides(overrides, run_dir)
    with _own_hydra(), _restored_logging(), _as_command(argv):
        register_schemas()
        argv = with_saved_overrides(argv)
        check_group_choices(argv)
        check_jobs_data(check_composes(argv))
        return _run(argv)


def load(checkpoint_or_run_dir: str | Path) -> TrainedModel:
    """The model of a checkpoint (best.pt or checkpoint.pt) or of a run directory (its
    best.pt, else its checkpoint.pt), with `generate`, `translate`, `predict` and
    `evaluate` (`rnnlab.inference.trained.TrainedModel`)."""
    return TrainedModel(checkpoint_or_run_dir)


def _overrides(overrides: Sequence[str], run_dir: str | Path | None) -> list[str]:
    """The command line `train` stands for, its run directory last."""
    if isinstance(overrides, str):
        raise RnnlabError(
            f"overrides={overrides!r} is one string; expected a list of key=value strings, "
            "e.g. ['model=gru', 'trainer.max_epochs=1']"
        )
    argv = [str(item) for item in overrides]
    for item in argv:
        if item.startswith("-"):
            raise RnnlabError(
                f"{item!r} is a command-line flag; rnnlab.train takes key=value overrides "
                "and runs one job (a sweep, -m, is rnnlab-train's)"
            )
    _check_syntax(argv)
    if run_dir is not None:
        if any(item.startswith("hydra.run.dir=") for item in argv):
            raise RnnlabError("the run directory is given twice: as run_dir and hydra.run.dir")
        argv.append(f"hydra.run.dir={_quoted(str(run_dir))}")
    return argv


def _check_syntax(argv: list[str]) -> None:
    """Refuse, in one line, an override Hydra cannot parse or reads as a sweep (a,b or
    range(...), glob(...))."""
    parser = OverridesParser.create()
    for item in argv:
        try:
            sweep = parser.parse_override(item).is_sweep_override()
        except HydraException as error:
            reason = str(error).strip().splitlines()[0]
            raise RnnlabError(f"override {item!r} is not key=value: {reason}") from None
        if sweep:
            raise RnnlabError(
                f"{item!r} is a sweep; rnnlab.train runs one job (call it once per value, or "
                "sweep with rnnlab-train -m); a list is key=[a,b], a text with a comma is "
                "quoted: key='a,b'"
            )


def _quoted(value: str) -> str:
    """`value` as an override's value that Hydra reads back unchanged (a path with a comma
    would otherwise be a sweep)."""
    if re.fullmatch(r"[\w/.~+-]+", value):
        return value
    # in Hydra's quoted strings a backslash is escaped only where it precedes a quote
    escaped = re.sub(r"(\\*)('|$)", lambda m: m[1] * 2 + ("\\'" if m[2] else ""), value)
    return f"'{escaped}'"


def _run(argv: list[str]) -> Run:
    """What `hydra.main` does for one run (`Hydra.run`), with the job's outcome returned or
    raised instead of reported and exited on."""
    app = Hydra.create_main_hydra2(JOB_NAME, create_config_search_path(str(CONF_DIR)))
    try:
        cfg = app.compose_config(CONFIG_NAME, argv, run_mode=RunMode.RUN)
    except (HydraException, OmegaConfBaseException) as error:  # what the checks left to Hydra
        raise RnnlabError(str(error).strip().splitlines()[0]) from None
    cfg.hydra.mode = RunMode.RUN
    outcome = {}

    def task_function(job_cfg: DictConfig) -> None:
        job = Job.from_hydra(job_cfg)
        outcome["run_dir"] = job.run_dir
        try:
            outcome["metrics"] = job.run()
        except Interrupted as interrupt:
            again = f"call rnnlab.train again with run_dir={str(job.run_dir)!r} and"
            raise KeyboardInterrupt(interrupted_message(interrupt, job.run_dir, again)) from None
        except Exception as error:  # raised below, not reported by Hydra
            outcome["error"] = error

    callbacks = Callbacks(cfg)
    callbacks.on_run_start(config=cfg, config_name=CONFIG_NAME)
    job_return = run_job(
        hydra_context=HydraContext(config_loader=app.config_loader, callbacks=callbacks),
        task_function=task_function,
        config=cfg,
        job_dir_key="hydra.run.dir",
        job_subdir_key=None,
    )
    callbacks.on_run_end(config=cfg, config_name=CONFIG_NAME, job_return=job_return)
    if "error" in outcome:
        raise outcome["error"]
    return Run(outcome["run_dir"], outcome["metrics"])


@contextlib.contextmanager
def _as_command(argv: list[str]) -> Iterator[None]:
    """sys.argv as the command line the call stands for, which run_info.json records
    (a notebook's own would name its kernel)."""
    saved = sys.argv
    sys.argv = ["rnnlab.train", *argv]
    try:
        yield
    finally:
        sys.argv = saved


@contextlib.contextmanager
def _own_hydra() -> Iterator[None]:
    """Hydra's global state for this call alone: a caller's own `initialize(...)` context
    is put back afterwards. (`GlobalHydra.instance()` is looked up each time: Hydra's
    `initialize` contexts replace the instance, not only its content.)"""
    previous = GlobalHydra.instance().hydra
    GlobalHydra.instance().clear()
    try:
        yield
    finally:
        GlobalHydra.instance().clear()
        if previous is not None:
            GlobalHydra.instance().initialize(previous)


@contextlib.contextmanager
def _restored_logging() -> Iterator[None]:
    """The root logger's handlers and level as they were: Hydra points them at the run's
    train.log and the console for the run, and a later cell's logging must not land in
    that file."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
