"""The one training loop the tasks share.

A task brings its batches, its loss and its evaluation (`rnnlab.tasks.base.Task`); the loop
brings what every experiment needs: clipping, tokens/sec, progress bars, per-epoch
scalars for the loggers (`rnnlab.loggers`), per-epoch checkpoint hooks, best-epoch
tracking, early stopping and divergence detection. The hot loop makes no host-device sync
except every `log_every_n_steps` steps, so it costs little beyond the model's own forward
and backward.
"""

import contextlib
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm import tqdm

from rnnlab.config.schema import GREATER_THAN_ZERO, POSITIVE, Check, one_of, setting
from rnnlab.loggers import Logger
from rnnlab.run.allocator import ALLOCATORS
from rnnlab.run.records import short_number
from rnnlab.schedules import Schedule

log = logging.getLogger(__name__)


def improves(value: float, best: float | None, direction: str) -> bool:
    """Whether `value` beats `best` for an objective to "minimize" or "maximize"."""
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"objective_direction must be minimize or maximize, got {direction!r}")
    if not math.isfinite(value):
        return False
    if best is None:
        return True
    return value < best if direction == "minimize" else value > best


@dataclass
class FitResult:
    """How training ended: `status` is "finished" or "diverged" (a non-finite loss)."""

    status: str = "finished"
    epochs: int = 0
    train_tokens: int = 0
    train_seconds: float = 0.0
    last_metrics: dict = field(default_factory=dict)
    best_epoch: int | None = None  # the epoch whose task objective was best so far
    best_value: float | None = None

    @property
    def tokens_per_sec(self) -> float:
        return self.train_tokens / self.train_seconds if self.train_seconds > 0 else 0.0


def clip_gradients(parameters: list[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Rescale all gradients together so their global L2 norm is at most `max_norm` (0: no
    clipping); returns the norm before clipping (a tensor: no host-device sync)."""
    return torch.nn.utils.clip_grad_norm_(
        parameters, max_norm if max_norm > 0 else math.inf, foreach=True
    )


PRECISIONS = {"32": None, "bf16": torch.bfloat16, "fp16": torch.float16}  # trainer.precision


def _is_device(name) -> bool:
    if not isinstance(name, str):
        return False
    if name.startswith("cuda:"):
        return name.removeprefix("cuda:").isdigit()
    return name in ("auto", "cpu", "cuda")


MAX_THREADS = os.cpu_count() or 1


@dataclass
class TrainerConfig:
    """The shared loop's settings (the `trainer` group): how long, how, and what it keeps."""

    max_epochs: int = setting(10, POSITIVE, on_resume="free")
    grad_clip: float = setting(1.0, Check(lambda x: x >= 0, "a number >= 0 (0 disables)"))
    device: str = setting(
        "auto", Check(_is_device, "one of: auto, cpu, cuda, cuda:N"), on_resume="free"
    )
    precision: Any = setting(32, Check(lambda x: str(x) in PRECISIONS, "one of: 32, bf16, fp16"))
    # torch CPU threads; null: torch's default less the cores other processes keep busy
    num_threads: int | None = setting(
        None,
        Check(lambda x: 1 <= x <= MAX_THREADS, f"an integer in [1, {MAX_THREADS}] (the CPUs here)"),
        on_resume="free",
    )
    # keep: glibc keeps freed memory for the next tensors (rnnlab.run.allocator); system
    allocator: str = setting("keep", one_of(list(ALLOCATORS)), on_resume="free")
    log_every_n_steps: int = setting(
        20, POSITIVE, on_resume="free"
    )  # progress bar and step scalars
    summary: bool = setting(
        True, on_resume="free"
    )  # log the parameters per module and the config at start
    progress_bar: bool = setting(True, on_resume="free")  # tqdm per epoch (on a terminal only)
    val_every_n_epochs: int = setting(1, POSITIVE)  # and always on the last
    checkpoint_every_n_epochs: int = setting(1, POSITIVE, on_resume="free")  # and after the last
    keep_best: bool = setting(True)  # also keep best.pt, the best epoch by the objective
    early_stopping_patience: int | None = setting(None, POSITIVE)
    max_train_seconds: float | None = setting(None, GREATER_THAN_ZERO, on_resume="free")
    resume: bool = setting(
        False, on_resume="free"
    )  # continue from checkpoint.pt in the run directory
    skip_finished: bool = setting(
        False, on_resume="free"
    )  # a sweep job already finished is not rerun
    # a smoke test: one epoch on FAST_DEV_BATCHES batches of each split, the rest as usual
    fast_dev_run: bool = setting(False)


FAST_DEV_BATCHES = 2  # batches of each split a fast_dev_run keeps


def autocast(device: torch.device, precision) -> contextlib.AbstractContextManager:
    """Mixed precision for the forward pass: "bf16" or "fp16" run matmuls in half width
    (weights and optimizer stay float32); 32 changes nothing."""
    dtype = PRECISIONS[str(precision)]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def move_to(batch, device: torch.device):
    """A batch (tensor or tuple of tensors) on `device`, copied without blocking the host."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    return type(batch)(move_to(item, device) for item in batch)


def synchronize(device: torch.device) -> None:
    """Wait for queued device work, so wall-clock time measures it (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_epoch(
    task,
    model,
    optimizer,
    trainer_cfg,
    device,
    progress,
    schedule: Schedule | None = None,
    logger: Logger | None = None,
    first_step: int = 0,
) -> tuple:
    """One pass over the task's training batches → (mean loss, tokens, seconds, mean
    gradient norm before clipping); `schedule.after_step()` follows every optimizer step.
    Every `log_every_n_steps` steps, the loss over those steps and the lr go to
    `logger.step_scalars` at x = `first_step` + the steps of this epoch so far."""
    schedule = schedule or Schedule()
    model.train()
    parameters = [p for p in model.parameters() if p.requires_grad]
    precision = trainer_cfg.precision
    # fp16 gradients underflow without loss scaling; for 32 and bf16 the scaler is a no-op.
    scaler = torch.amp.GradScaler(device.type, enabled=str(precision) == "fp16")
    loss_sum = torch.zeros((), device=device)
    norm_sum = torch.zeros((), device=device)
    tokens, state, step = 0, None, 0
    logged_loss, logged_tokens = 0.0, 0  # at the last step logged
    start = time.perf_counter()
    for step, batch in enumerate(progress, start=1):
        with autocast(device, precision):
            loss, num_tokens, state = task.training_loss(model, move_to(batch, device), state)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        norm_sum += clip_gradients(parameters, trainer_cfg.grad_clip).float()
        scaler.step(optimizer)
        scaler.update()
        schedule.after_step()
        loss_sum += loss.detach().float() * num_tokens
        tokens += num_tokens
        if step % trainer_cfg.log_every_n_steps == 0:
            total_loss = loss_sum.item()  # the only sync inside the epoch
            mean_loss = total_loss / tokens
            if logger is not None:
                recent = (total_loss - logged_loss) / max(tokens - logged_tokens, 1)
                lr = optimizer.param_groups[0]["lr"]
                logger.step_scalars(
                    {"train_step/loss": recent, "train_step/lr": lr}, first_step + step
                )
                logged_loss, logged_tokens = total_loss, tokens
            seconds = time.perf_counter() - start
            progress.set_postfix(
                loss=f"{mean_loss:.3f}",
                ppl=f"{math.exp(min(mean_loss, 50)):.2f}",
                tok_s=f"{tokens / seconds:,.0f}",
            )
            if not math.isfinite(mean_loss):
                break
    synchronize(device)
    seconds = time.perf_counter() - start
    return loss_sum.item() / max(tokens, 1), tokens, seconds, norm_sum.item() / max(step, 1)


def should_evaluate(epoch: int, trainer_cfg, train_seconds: float) -> bool:
    """Whether epoch `epoch` is scored on the held-out split: every
    `trainer_cfg.val_every_n_epochs` epochs, and always on the last epoch a run can reach
    (max_epochs, or the one that spends the time budget), so a finished run always ends
    with held-out metrics. Scoring less often pays when evaluation costs more than an
    epoch of training (the study's 10,000 training characters against 17,058 held out)."""
    every = trainer_cfg.val_every_n_epochs
    budget = trainer_cfg.max_train_seconds
    return (
        epoch % every == 0
        or epoch == trainer_cfg.max_epochs
        or (budget is not None and train_seconds >= budget)
    )


def fit(
    task,
    model,
    optimizer,
    trainer_cfg,
    device,
    logger: Logger,
    start_epoch: int = 0,
    on_epoch_end: Callable[[int, "FitResult"], None] | None = None,
    best: tuple[int | None, float | None] = (None, None),
    schedule: Schedule | None = None,
) -> FitResult:
    """Train from `start_epoch` to `trainer_cfg.max_epochs`, logging each epoch at x = epoch.

    After each epoch the task's `objective` tag is compared with the best so far (`best`:
    (epoch, value), carried over by a resumed run), then `on_epoch_end(epoch, result)`
    runs: the checkpoint hook, which sees `result.best_epoch == epoch` when this epoch
    improved. It is skipped for a diverged epoch, so the last checkpoint stays the last
    finite one. With `trainer_cfg.early_stopping_patience = n`, training stops once n
    epochs in a row have not improved the objective; with `trainer_cfg.max_train_seconds = t`
    it stops after the epoch in which training time (this process's) passes t seconds, which
    gives each trial of a search the same budget whatever its model size. Epochs that are
    not evaluated (`should_evaluate`) cannot improve the objective; patience counts epochs.
    `schedule` (`rnnlab.schedules`, the `scheduler` group) is stepped after every optimizer
    step and every epoch, and decides the weights the held-out split is scored with.
    """
    schedule = schedule or Schedule()
    direction = task.objective_direction
    patience = trainer_cfg.early_stopping_patience
    budget = trainer_cfg.max_train_seconds
    result = FitResult(epochs=start_epoch, best_epoch=best[0], best_value=best[1])
    for epoch in range(start_epoch + 1, trainer_cfg.max_epochs + 1):
        batches = task.train_batches(epoch)
        progress = tqdm(
            batches,
            total=task.num_train_batches(),
            leave=False,
            dynamic_ncols=True,
            desc=f"epoch {epoch}/{trainer_cfg.max_epochs}",
            disable=None if trainer_cfg.progress_bar else True,
        )  # None: TTY only
        train_loss, tokens, seconds, grad_norm = train_epoch(
            task,
            model,
            optimizer,
            trainer_cfg,
            device,
            progress,
            schedule,
            logger,
            (epoch - 1) * task.num_train_batches(),
        )
        progress.close()
        result.train_tokens += tokens
        result.train_seconds += seconds
        train_metrics = {"train/loss": train_loss, **task.train_metrics(train_loss)}
        if not all(math.isfinite(value) for value in train_metrics.values()):
            # a non-finite loss, or one so large its perplexity overflows (> 709 nats)
            result.status = "diverged"
            log.warning(
                "epoch %d: training %s; stopping (status: diverged)",
                epoch,
                ", ".join(f"{tag} {short_number(value)}" for tag, value in train_metrics.items()),
            )
            logger.text("status", "diverged", epoch)
            break
        metrics = {
            **train_metrics,
            "train/tokens_per_sec": tokens / seconds,
            "train/grad_norm": grad_norm,  # mean over the epoch's steps, before clipping
            "train/lr": optimizer.param_groups[0]["lr"],
        }
        if should_evaluate(epoch, trainer_cfg, result.train_seconds):
            with schedule.evaluation_weights(model):
                metrics.update(task.evaluate(model))
                task.log_samples(model, logger, epoch)
        schedule.after_epoch(metrics)
        logger.scalars(metrics, epoch)
        log.info(
            "epoch %d/%d  %s",
            epoch,
            trainer_cfg.max_epochs,
            "  ".join(f"{tag} {short_number(value)}" for tag, value in metrics.items()),
        )
        result.epochs, result.last_metrics = epoch, metrics
        if improves(metrics.get(task.objective, math.nan), result.best_value, direction):
            result.best_epoch, result.best_value = epoch, metrics[task.objective]
        if on_epoch_end is not None:
            on_epoch_end(epoch, result)
        if (
            patience is not None
            and result.best_epoch is not None
            and epoch - result.best_epoch >= patience
        ):
            log.info(
                "early stopping: %s has not improved for %d epochs (best %.4g at epoch %d)",
                task.objective,
                patience,
                result.best_value,
                result.best_epoch,
            )
            break
        if budget is not None and result.train_seconds >= budget and epoch < trainer_cfg.max_epochs:
            log.info(
                "time budget: %.0f s of training reached after epoch %d (max_train_seconds=%s)",
                result.train_seconds,
                epoch,
                budget,
            )
            break
    return result
