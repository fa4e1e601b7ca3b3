"""The Hydra entry point: compose the config → build task, model, optimizer → fit → report.

python -m rnnlab.train                          # the default job (char-level LSTM)
python -m rnnlab.train model=gru optim=sgd optim.lr=1
python -m rnnlab.train -m model=lstm,gru        # a multirun, one directory per job
python -m rnnlab.train -m experiment=ablation_table16   # a published ablation table

From Python the module itself is the call (`CallableModule`, `rnnlab.api.train`):
    import rnnlab
    run = rnnlab.train(["model=gru", "trainer.max_epochs=1"], run_dir="runs/gru")
"""

import logging
import sys
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import hydra
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from rnnlab.config import CONF_DIR
from rnnlab.config.argv import (
    check_composes,
    check_group_choices,
    check_jobs_data,
    check_run_dir,
    print_presets,
    with_saved_overrides,
)
from rnnlab.config.run_config import register_schemas, saved_config, typed_config
from rnnlab.engine import FAST_DEV_BATCHES, FitResult, fit
from rnnlab.errors import RnnlabError
from rnnlab.loggers import Logger, build_loggers
from rnnlab.run.allocator import use_allocator
from rnnlab.run.checkpoint import (
    BEST,
    LAST,
    evaluation_weights,
    load_checkpoint,
    save_checkpoint,
    saved_epoch,
    training_state,
)
from rnnlab.run.interrupt import Interrupted, signals_raise_interrupted
from rnnlab.run.overview import count_parameters, log_overview
from rnnlab.run.records import (
    completed_metrics,
    failure_record,
    objective_value,
    run_record,
    short_number,
    summary,
    write_metrics,
)
from rnnlab.run.resume import check_fits_run, fix_schedule_length, resume
from rnnlab.run.run_dir import RunDirBusy, run_dir_lock, save_hydra_record
from rnnlab.run.run_info import record_launch
from rnnlab.run.sweeps import group_choices, record_job_failure, threads_per_job
from rnnlab.run.threads import default_threads
from rnnlab.schedules import build_schedule
from rnnlab.tasks import TASKS, Task, build_task

log = logging.getLogger(__name__)


def resolve_device(name: str) -> torch.device:
    """ "auto" → CUDA when present, else CPU (the name's form was checked by the schema);
    a CUDA device this machine does not have is one line, not torch's AssertionError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise RnnlabError(
                f"trainer.device={name!r} but no CUDA device is available (use auto or cpu)"
            )
        index = int(name.partition(":")[2] or 0)
        if index >= count:
            raise RnnlabError(
                f"trainer.device={name!r} but this machine has {count} CUDA device(s): "
                f"expected cuda:0 to cuda:{count - 1}"
            )
    return torch.device(name)


def build_model(task, device: torch.device) -> torch.nn.Module:
    """The task's model on `device`; one that does not fit in memory is one line (torch
    says so only after a traceback)."""
    try:
        return task.build_model().to(device)
    except (RuntimeError, MemoryError) as error:  # torch.OutOfMemoryError is a RuntimeError
        message = str(error)
        if not isinstance(error, MemoryError) and "alloc" not in message.lower():
            raise
        cause = message.splitlines()[0] if message else type(error).__name__
        raise RnnlabError(
            f"the model does not fit in memory on {device} ({cause}); expected smaller "
            "settings (model.num_hiddens, model.embed_size, model.num_layers)"
        ) from None


def train(cfg: DictConfig, run_dir: Path, model_name: str, choices: dict | None = None) -> dict:
    """Run one experiment in `run_dir` and return its metrics.json content; `choices`: the
    config groups Hydra chose ({"model": "gru", ...}), recorded with the HParams session."""
    cfg = typed_config(cfg)
    checkpoint_path, best_path = run_dir / LAST, run_dir / BEST
    refuse_overwrite(run_dir, cfg.trainer.resume)
    smoke_settings(cfg)
    fix_schedule_length(cfg, checkpoint_path)
    torch.manual_seed(cfg.seed)
    # Always set the count: left unset, MKL may pick fewer threads for a product when other
    # processes load the cores, and the sums then round otherwise (the default job's val
    # perplexity varied 3.955-3.990 under load; set, it did not). Null: the free cores
    # (rnnlab.run.threads), so a busy core does not slow the run 10-75x.
    torch.set_num_threads(cfg.trainer.num_threads or default_threads(torch.get_num_threads()))
    use_allocator(cfg.trainer.allocator)
    device = resolve_device(cfg.trainer.device)
    task = build_task(cfg)
    if cfg.trainer.fast_dev_run:
        task.keep_first_batches(FAST_DEV_BATCHES)
    task = task.to(device)
    model = build_model(task, device)
    optimizer = build_optimizer(cfg.optim, model)
    schedule = build_schedule(
        cfg.scheduler,
        optimizer,
        model,
        task,
        task.num_train_batches(),
        cfg.trainer.max_epochs,
    )
    config = OmegaConf.to_container(cfg, resolve=True)

    start_epoch, best, resumed_metrics, earlier_seconds = 0, (None, None), {}, 0.0
    if cfg.trainer.resume and checkpoint_path.exists():
        saved = resume(
            checkpoint_path, model, optimizer, config, task.checkpoint_extras(), device, schedule
        )
        start_epoch, best, resumed_metrics = saved["epoch"], saved["best"], saved["metrics"]
        earlier_seconds = saved["wall_seconds"]  # the launches before this one
    record_launch(run_dir, cfg.seed, device, start_epoch)
    if cfg.trainer.summary:
        log_overview(model, config)

    every = cfg.trainer.checkpoint_every_n_epochs
    last_saved = start_epoch  # the epoch checkpoint.pt holds

    def state_at(epoch: int, progress: FitResult) -> dict:
        return training_state(
            model,
            optimizer,
            epoch,
            config,
            progress,
            task.checkpoint_extras(),
            schedule.state_dict(),
            earlier_seconds + time.perf_counter() - start,
        )

    def save(epoch: int, progress: FitResult) -> None:
        nonlocal last_saved
        state = None
        if cfg.trainer.keep_best and progress.best_epoch == epoch:
            state = state_at(epoch, progress)
            save_checkpoint(best_path, state)
        if epoch % every == 0 or epoch == cfg.trainer.max_epochs:
            save_checkpoint(checkpoint_path, state or state_at(epoch, progress))
            last_saved = epoch

    logger = build_loggers(OmegaConf.select(cfg, "logger"), run_dir, start_epoch)
    logger.session_start(config, choices)
    start = time.perf_counter()
    try:
        result = fit(
            task, model, optimizer, cfg.trainer, device, logger, start_epoch, save, best, schedule
        )
        result.last_metrics = result.last_metrics or resumed_metrics  # resumed a finished run
        if result.status == "finished" and result.epochs > last_saved:
            # stopped early (patience, time budget) between checkpoint_every_n_epochs saves
            save_checkpoint(checkpoint_path, state_at(result.epochs, result))
        test_metrics = {}
        if result.epochs > 0:
            with schedule.evaluation_weights(model):
                test_metrics = run_test(task, model, cfg, best_path, device, logger, result.epochs)
        metrics = run_record(
            cfg.task.name, model_name, task.objective, result, test_metrics, count_parameters(model)
        )
        # the run's time over every launch (each up to its last checkpoint), and this one's
        metrics["last_launch_seconds"] = time.perf_counter() - start
        metrics["wall_seconds"] = earlier_seconds + metrics["last_launch_seconds"]
        if cfg.trainer.fast_dev_run:
            metrics["fast_dev_run"] = f"{FAST_DEV_BATCHES} batches of each split, 1 epoch"
        logger.session_end()
        write_metrics(run_dir, metrics)
    finally:
        logger.close()
    log.info("%s: %s", run_dir, summary(metrics))
    return metrics


def smoke_settings(cfg: DictConfig) -> None:
    """trainer.fast_dev_run: one epoch (recorded as max_epochs=1), on a few batches of each
    split (`Task.keep_first_batches`), through every other step of a run."""
    if cfg.trainer.fast_dev_run:
        cfg.trainer.max_epochs = 1


def finished_run(run_dir: Path, cfg: DictConfig) -> dict | None:
    """The metrics of a run that `trainer.resume=true` finds with nothing left to train (its
    checkpoint holds trainer.max_epochs), whose records then stay as the run left them;
    None when there is training to do. A checkpoint that does not fit is still refused."""
    done = completed_metrics(run_dir) if cfg.trainer.resume else None
    epoch = saved_epoch(run_dir / LAST) if done is not None else None
    if epoch is None or epoch < cfg.trainer.max_epochs:
        return None
    saved = load_checkpoint(run_dir / LAST)
    saved["config"] = saved_config(saved.get("config"), run_dir / LAST)
    check_fits_run(saved, OmegaConf.to_container(cfg, resolve=True), {}, run_dir / LAST)
    log.info("%s has trained its %d epochs; nothing to resume", run_dir, epoch)
    return done


def build_optimizer(optim_cfg, model: torch.nn.Module) -> torch.optim.Optimizer:
    """The `optim` group's optimizer; its constructor checks the values (torch raises
    ValueError for a negative lr, momentum or eps, or a beta outside [0, 1))."""
    try:
        return instantiate(optim_cfg, params=model.parameters())
    except InstantiationException as error:
        cause = error.__cause__ or error
        raise RnnlabError(f"optim ({optim_cfg._target_}): {cause}") from None


def refuse_overwrite(run_dir: Path, resume: bool) -> None:
    """A run directory that holds a checkpoint is continued (trainer.resume), never retrained;
    one that holds only best.pt (killed before its first checkpoint.pt with
    checkpoint_every_n_epochs > 1, or a full disk) can be neither, so it is left alone."""
    if (run_dir / LAST).exists() and not resume:
        raise RnnlabError(
            f"{run_dir / LAST} exists; pass trainer.resume=true to continue that "
            "run, or choose a new run directory (nothing was overwritten)"
        )
    if (run_dir / BEST).exists() and not (run_dir / LAST).exists():
        raise RnnlabError(
            f"{run_dir / BEST} exists without a {LAST} to continue from; choose a new run "
            "directory (nothing was overwritten)"
        )


def run_test(task, model, cfg, best_path: Path, device, logger: Logger, step: int) -> dict:
    """The task's held-out test metrics, on the best epoch's weights when they were kept
    (model selection by the validation objective, never by the test set); the weights that
    epoch was scored with (`evaluation_weights`: NT-ASGD's average once it has begun)."""
    if cfg.trainer.keep_best and best_path.exists():
        model.load_state_dict(evaluation_weights(load_checkpoint(best_path, map_location=device)))
    test_metrics = task.test(model)
    numbers = {tag: value for tag, value in test_metrics.items() if not isinstance(value, str)}
    charts = {
        tag: value
        for tag, value in numbers.items()
        if task.test_charts is None or tag in task.test_charts
    }
    if charts:
        logger.scalars(charts, step)
    if len(charts) < len(test_metrics):  # the other figures and what they are read by
        rows = [f"| {tag} | {value} |" for tag, value in test_metrics.items() if tag not in charts]
        logger.text("test/scores", "\n".join(["| tag | value |", "| --- | --- |", *rows]), step)
    if numbers:
        # the lm has no test split: its figures are the validation split's, on the best weights
        label = "test" if task.has_test_split else "val (best weights)"
        shown = "  ".join(f"{tag} {short_number(value)}" for tag, value in numbers.items())
        log.info("%s  %s", label, shown)
    return test_metrics


# An absolute path, so that Hydra finds conf/ from `python -m rnnlab.train` and from the
# `rnnlab-train` console script alike (a relative one would be read as a Python package).
@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> float:
    """Returns the task's objective (e.g. best validation perplexity) for sweepers to rank.

    The job holds its run directory's lock throughout (`rnnlab.run.run_dir`). In a multirun
    a job that raises is recorded as failed and the sweep goes on (the failed jobs are
    listed at the end by `rnnlab.run.sweeps.SweepReport`, which then exits with status 1);
    a single run reports an `RnnlabError` as one `error:` line and exits with status 2.
    """
    job = Job.from_hydra(cfg)
    try:
        metrics = job.run()
    except Interrupted as interrupt:  # a BaseException: stops the whole sweep
        again = (
            f"hydra.sweep.dir={HydraConfig.get().sweep.dir}"
            if job.multirun
            else f"hydra.run.dir={job.run_dir}"
        )
        message = interrupted_message(interrupt, job.run_dir, f"rerun the command with {again}")
        print(f"error: {message}", file=sys.stderr)
        sys.exit(interrupt.exit_code)
    except RnnlabError as error:  # a single run's (a multirun's job records its failure)
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    return objective_value(metrics, job.direction, job.cfg.trainer.keep_best)


@dataclass
class Job:
    """One job of the Hydra app: `main`'s (the command line) or `rnnlab.api.train`'s."""

    cfg: DictConfig
    run_dir: Path
    model_name: str
    direction: str
    multirun: bool

    @classmethod
    def from_hydra(cls, cfg: DictConfig) -> "Job":
        """The job Hydra is running (its run directory, choices and mode)."""
        hydra_cfg = HydraConfig.get()
        return cls(
            cfg,
            Path(hydra_cfg.runtime.output_dir),
            hydra_cfg.runtime.choices.get("model", "custom"),
            TASKS.get(cfg.task.name, Task).objective_direction,
            hydra_cfg.mode == RunMode.MULTIRUN,
        )

    def run(self) -> dict:
        """The run's record (metrics.json's content), trained while holding the run
        directory's lock. A single run raises what stopped it (`RnnlabError` for the user's
        mistakes); a multirun's job records its failure and returns its record ({} when it
        wrote none), so the sweep goes on."""
        try:
            with run_dir_lock(self.run_dir):
                return self._run_locked()
        except RunDirBusy as error:  # the directory is another process's: write nothing there
            if not self.multirun:
                raise
            print(f"error: job {HydraConfig.get().job.num} failed: {error}", file=sys.stderr)
            self.record_failure(error)
            return {}

    def _run_locked(self) -> dict:
        cfg, run_dir = self.cfg, self.run_dir
        if cfg.trainer.skip_finished and (done := completed_metrics(run_dir)) is not None:
            log.info("skipping %s: its metrics.json says %s", run_dir, done["status"])
            return done
        try:
            with signals_raise_interrupted():
                refuse_overwrite(run_dir, cfg.trainer.resume)
                cfg = self.cfg = typed_config(cfg)
                smoke_settings(cfg)
                fix_schedule_length(cfg, run_dir / LAST)
                if (done := finished_run(run_dir, cfg)) is not None:
                    return done
                save_hydra_record(run_dir, cfg)
                if not cfg.trainer.num_threads:
                    cfg.trainer.num_threads = threads_per_job(HydraConfig.get().launcher)
                return train(
                    cfg, run_dir, self.model_name, group_choices(HydraConfig.get().runtime.choices)
                )
        except Exception as error:
            if not self.multirun:
                raise
            log.error("job failed: %s", error, exc_info=not isinstance(error, RnnlabError))
            self.record_failure(error)
            if completed_metrics(run_dir) is not None:  # never overwrite a finished record
                return {}
            metrics = failure_record(cfg.task.name, self.model_name, error)
            write_metrics(run_dir, metrics)
            return metrics

    def record_failure(self, error: BaseException) -> None:
        hydra_cfg = HydraConfig.get()
        record_job_failure(
            Path(hydra_cfg.sweep.dir),
            hydra_cfg.job.num,
            list(hydra_cfg.overrides.task),
            f"{type(error).__name__}: {error}",
        )


def interrupted_message(interrupt: Interrupted, run_dir: Path, again: str) -> str:
    """Where the interrupted run stands: the checkpoint on disk, and how to continue it
    (`again`: how to point a rerun at the same directory, e.g. "rerun the command with
    hydra.run.dir=DIR"; trainer.resume=true is added)."""
    path = run_dir / LAST
    epoch = saved_epoch(path)
    if epoch is None:
        return f"interrupted by {interrupt} before any epoch was saved in {run_dir}"
    log.warning("interrupted by %s; %s holds epoch %d", interrupt, path, epoch)
    return (
        f"interrupted by {interrupt}; {path} holds epoch {epoch}, the last completed one; "
        f"to continue, {again} trainer.resume=true"
    )


def cli() -> None:
    """`python -m rnnlab.train` and `rnnlab-train`: Hydra's main on top of the typed
    schemas, after one-line checks of the group choices, of each job's config and of the
    user's data files (before Hydra makes a run directory)."""
    if "--presets" in sys.argv[1:]:
        print_presets()
        return
    register_schemas()
    try:
        sys.argv[1:] = with_saved_overrides(sys.argv[1:])  # resume by run or sweep directory
        check_group_choices(sys.argv[1:])
        check_jobs_data(check_composes(sys.argv[1:]))
        check_run_dir(sys.argv[1:])
    except RnnlabError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    main()


class CallableModule(types.ModuleType):
    """This module, callable: `rnnlab.train(overrides, run_dir)` is the Python API's
    training call (`rnnlab.api.train`). The module and the function share the name
    `rnnlab.train`, and `import rnnlab.train` binds the module over the package's
    attribute; as the module is the function, either import order gives the same thing."""

    def __call__(self, overrides: Sequence[str] = (), run_dir: str | Path | None = None):
        """`rnnlab.api.train`: one run, as `rnnlab-train OVERRIDES` runs it."""
        from rnnlab.api import train as train_in_python

        return train_in_python(overrides, run_dir)


sys.modules[__name__].__class__ = CallableModule

if __name__ == "__main__":
    cli()
