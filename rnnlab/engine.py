"""The one training loop the tasks share.

A task brings its batches, its loss and its evaluation (see `rnnlab.tasks`); the loop
brings what every experiment needs: clipping, tokens/sec, progress bars, TensorBoard
scalars, per-epoch atomic checkpoints and divergence detection. The hot loop makes no
host-device sync except every `log_every_n_steps` steps, so it costs little beyond the
model's own forward and backward.
"""

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    """How training ended: `status` is "finished" or "diverged" (a non-finite loss)."""

    status: str = "finished"
    epochs: int = 0
    train_tokens: int = 0
    train_seconds: float = 0.0
    last_metrics: dict = field(default_factory=dict)

    @property
    def tokens_per_sec(self) -> float:
        return self.train_tokens / self.train_seconds if self.train_seconds > 0 else 0.0


def clip_gradients(parameters: list[torch.Tensor], max_norm: float) -> None:
    """Rescale all gradients together so their global L2 norm is at most `max_norm`."""
    if max_norm > 0:
        torch.nn.utils.clip_grad_norm_(parameters, max_norm, foreach=True)


def move_to(batch, device: torch.device):
    """A batch (tensor or tuple of tensors) on `device`, copied without blocking the host."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    return type(batch)(move_to(item, device) for item in batch)


def synchronize(device: torch.device) -> None:
    """Wait for queued device work, so wall-clock time measures it (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_epoch(task, model, optimizer, trainer_cfg, device, progress) -> tuple:
    """One pass over the task's training batches → (mean loss, tokens, seconds)."""
    model.train()
    parameters = [p for p in model.parameters() if p.requires_grad]
    loss_sum = torch.zeros((), device=device)
    tokens, carry = 0, None
    start = time.perf_counter()
    for step, batch in enumerate(progress, start=1):
        loss, num_tokens, carry = task.training_loss(model, move_to(batch, device), carry)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip_gradients(parameters, trainer_cfg.grad_clip)
        optimizer.step()
        loss_sum += loss.detach() * num_tokens
        tokens += num_tokens
        if step % trainer_cfg.log_every_n_steps == 0:
            mean_loss = loss_sum.item() / tokens  # the only sync inside the epoch
            seconds = time.perf_counter() - start
            progress.set_postfix(loss=f"{mean_loss:.3f}", ppl=f"{math.exp(min(mean_loss, 50)):.2f}",
                                 tok_s=f"{tokens / seconds:,.0f}")
            if not math.isfinite(mean_loss):
                break
    synchronize(device)
    seconds = time.perf_counter() - start
    return loss_sum.item() / max(tokens, 1), tokens, seconds


def fit(task, model, optimizer, trainer_cfg, device, logger, start_epoch: int = 0,
        on_epoch_end: Callable[[int], None] | None = None) -> FitResult:
    """Train from `start_epoch` to `trainer_cfg.max_epochs`, logging each epoch at x = epoch.

    `on_epoch_end(epoch)` runs after the epoch's metrics are logged (the checkpoint hook);
    it is skipped for a diverged epoch, so the last checkpoint stays the last finite one.
    """
    result = FitResult(epochs=start_epoch)
    for epoch in range(start_epoch + 1, trainer_cfg.max_epochs + 1):
        batches = task.train_batches(epoch)
        progress = tqdm(batches, total=task.num_train_batches(), leave=False, dynamic_ncols=True,
                        desc=f"epoch {epoch}/{trainer_cfg.max_epochs}",
                        disable=None if trainer_cfg.progress_bar else True)  # None: TTY only
        train_loss, tokens, seconds = train_epoch(task, model, optimizer, trainer_cfg, device,
                                                  progress)
        progress.close()
        result.train_tokens += tokens
        result.train_seconds += seconds
        if not math.isfinite(train_loss):
            result.status = "diverged"
            log.warning("epoch %d: training loss is %s; stopping (status: diverged)",
                        epoch, train_loss)
            logger.text("status", "diverged", epoch)
            break
        metrics = {"train/loss": train_loss, **task.train_metrics(train_loss),
                   "train/tokens_per_sec": tokens / seconds, **task.evaluate(model)}
        logger.scalars(metrics, epoch)
        task.log_samples(model, logger, epoch)
        log.info("epoch %d/%d  %s", epoch, trainer_cfg.max_epochs,
                 "  ".join(f"{tag} {value:.4g}" for tag, value in metrics.items()))
        result.epochs, result.last_metrics = epoch, metrics
        if on_epoch_end is not None:
            on_epoch_end(epoch)
    return result
