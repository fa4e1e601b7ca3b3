"""The Hydra entry point: compose the config → build task, model, optimizer → fit → report.

    python -m rnnlab.train                          # the default job (char-level LSTM)
    python -m rnnlab.train model=gru optim=sgd optim.lr=1
    python -m rnnlab.train -m model=lstm,gru        # a multirun, one directory per job
    python -m rnnlab.train -m experiment=ablation_table16   # a published ablation table
"""

import logging
import sys
import time
from pathlib import Path

import hydra
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from rnnlab.engine import FitResult, fit
from rnnlab.errors import RnnlabError
from rnnlab.run.checkpoint import (
    BEST,
    LAST,
    load_checkpoint,
    save_checkpoint,
    saved_epoch,
    training_state,
)
from rnnlab.run.events import RunLogger
from rnnlab.run.interrupt import Interrupted, signals_raise_interrupted
from rnnlab.run.records import (
    completed_metrics,
    failure_record,
    objective_value,
    run_record,
    summary,
    write_metrics,
)
from rnnlab.run.resume import resume
from rnnlab.run.run_info import record_launch
from rnnlab.run.sweeps import threads_per_job
from rnnlab.tasks import TASKS, Task, build_task
from rnnlab.validation import CONF_DIR, check_group_choices, validate

log = logging.getLogger(__name__)


def resolve_device(name: str) -> torch.device:
    """"auto" → CUDA when present, else CPU (the name was checked by `validate`)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RnnlabError("trainer.device='cuda' but no CUDA device is available (use auto or cpu)")
    return torch.device(name)


def train(cfg: DictConfig, run_dir: Path, model_name: str) -> dict:
    """Run one experiment in `run_dir` and return its metrics.json content."""
    validate(cfg)
    checkpoint_path, best_path = run_dir / LAST, run_dir / BEST
    if checkpoint_path.exists() and not cfg.trainer.resume:
        raise RnnlabError(f"{checkpoint_path} exists; pass trainer.resume=true to continue that "
                          "run, or choose a new run directory (nothing was overwritten)")
    torch.manual_seed(cfg.seed)
    if cfg.trainer.num_threads:
        torch.set_num_threads(cfg.trainer.num_threads)
    device = resolve_device(cfg.trainer.device)
    task = build_task(cfg)
    model = task.build_model().to(device)
    optimizer = instantiate(cfg.optim, params=model.parameters())
    config = OmegaConf.to_container(cfg, resolve=True)

    start_epoch, best, resumed_metrics = 0, (None, None), {}
    if cfg.trainer.resume and checkpoint_path.exists():
        saved = resume(checkpoint_path, model, optimizer, config, task.checkpoint_extras(),
                       device)
        start_epoch, best, resumed_metrics = saved["epoch"], saved["best"], saved["metrics"]
    record_launch(run_dir, cfg.seed, device, start_epoch)

    def save(epoch: int, progress: FitResult) -> None:
        state = training_state(model, optimizer, epoch, config, progress,
                               task.checkpoint_extras())
        if cfg.trainer.keep_best and progress.best_epoch == epoch:
            save_checkpoint(best_path, state)
        save_checkpoint(checkpoint_path, state)

    logger = RunLogger(run_dir, purge_step=start_epoch + 1 if start_epoch else None)
    start = time.perf_counter()
    try:
        result = fit(task, model, optimizer, cfg.trainer, device, logger, start_epoch, save, best)
        result.last_metrics = result.last_metrics or resumed_metrics  # resumed a finished run
        test_metrics = {}
        if result.epochs > 0:
            test_metrics = run_test(task, model, cfg, best_path, device, logger, result.epochs)
        metrics = run_record(cfg.task.name, model_name, task.objective, result, test_metrics,
                             sum(p.numel() for p in model.parameters()))
        metrics["wall_seconds"] = time.perf_counter() - start
        logger.hparams(config, [*result.last_metrics, *test_metrics])
        write_metrics(run_dir, metrics)
    finally:
        logger.close()
    log.info("%s: %s", run_dir, summary(metrics))
    return metrics


def run_test(task, model, cfg, best_path: Path, device, logger, step: int) -> dict:
    """The task's held-out test metrics, on the best epoch's weights when they were kept
    (model selection by the validation objective, never by the test set)."""
    if cfg.trainer.keep_best and best_path.exists():
        model.load_state_dict(load_checkpoint(best_path, map_location=device)["model"])
    test_metrics = task.test(model)
    if test_metrics:
        logger.scalars(test_metrics, step)
        log.info("test  %s", "  ".join(f"{tag} {value:.4g}" for tag, value in test_metrics.items()))
    return test_metrics


# An absolute path, so that Hydra finds conf/ from `python -m rnnlab.train` and from the
# `rnnlab-train` console script alike (a relative one would be read as a Python package).
@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> float:
    """Returns the task's objective (e.g. best validation perplexity) for sweepers to rank.

    In a multirun a job that raises is recorded as failed and the sweep goes on (the failed
    jobs are listed at the end by `rnnlab.run.sweeps.FailedJobsReport`); a single run reports
    an `RnnlabError` as one `error:` line and exits with status 2.
    """
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    model_name = hydra_cfg.runtime.choices.get("model", "custom")
    direction = TASKS.get(cfg.task.name, Task).objective_direction
    if cfg.trainer.skip_finished and (done := completed_metrics(run_dir)) is not None:
        log.info("skipping %s: its metrics.json says %s", run_dir, done["status"])
        return objective_value(done, direction, cfg.trainer.keep_best)
    if not cfg.trainer.num_threads:
        cfg.trainer.num_threads = threads_per_job(hydra_cfg.launcher)
    try:
        with signals_raise_interrupted():
            metrics = train(cfg, run_dir, model_name)
    except Interrupted as interrupt:  # a BaseException: stops the whole sweep
        again = (f"hydra.sweep.dir={hydra_cfg.sweep.dir}" if hydra_cfg.mode == RunMode.MULTIRUN
                 else f"hydra.run.dir={run_dir}")
        print(f"error: {interrupted_message(interrupt, run_dir, again)}", file=sys.stderr)
        sys.exit(interrupt.exit_code)
    except Exception as error:
        if hydra_cfg.mode != RunMode.MULTIRUN:
            if isinstance(error, RnnlabError):
                print(f"error: {error}", file=sys.stderr)
                sys.exit(2)
            raise
        log.error("job failed: %s", error, exc_info=not isinstance(error, RnnlabError))
        metrics = failure_record(cfg.task.name, model_name, error)
        write_metrics(run_dir, metrics)
    return objective_value(metrics, direction, cfg.trainer.keep_best)


def interrupted_message(interrupt: Interrupted, run_dir: Path, again: str) -> str:
    """Where the interrupted run stands: the checkpoint on disk, and how to continue it
    (`again`: the override that points a rerun at the same directory)."""
    path = run_dir / LAST
    epoch = saved_epoch(path)
    if epoch is None:
        return f"interrupted by {interrupt} before any epoch was saved in {run_dir}"
    log.warning("interrupted by %s; %s holds epoch %d", interrupt, path, epoch)
    return (f"interrupted by {interrupt}; {path} holds epoch {epoch}, the last completed one; "
            f"to continue, rerun the command with {again} trainer.resume=true")


def cli() -> None:
    """`python -m rnnlab.train` and `rnnlab-train`: Hydra's main, after a one-line check of
    group choices."""
    try:
        check_group_choices(sys.argv[1:])
    except RnnlabError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    main()


if __name__ == "__main__":
    cli()
