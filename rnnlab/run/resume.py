"""Continuing a run from its checkpoint as if it had never stopped.

A checkpoint holds the weights, the optimizer, the epoch, the random states and the last
epoch's metrics. The data order needs no saved state: each task seeds its batches from
(seed, epoch). Before anything is loaded the checkpoint is checked against the run that
wants it, so a different model or vocabulary gets one line naming the difference instead
of PyTorch's size-mismatch report.
"""

import logging
from pathlib import Path

import torch

from rnnlab.config.run_config import resume_roles, saved_config
from rnnlab.errors import RnnlabError
from rnnlab.run.checkpoint import (
    load_checkpoint,
    load_training_state,
    load_weights,
    restore_rng_states,
    resume_point,
)
from rnnlab.run.flatten import flatten_config

log = logging.getLogger(__name__)


def check_fits_run(saved: dict, config: dict, extras: dict, path: Path) -> None:
    """Raise if the checkpoint's model, optimizer or vocabulary differ from this run's;
    warn about other changed settings (a resumed run then differs from an uninterrupted one)."""
    before, now = flatten_config(saved.get("config") or {}), flatten_config(config)
    roles = resume_roles()

    def role(key: str) -> str:  # loggers: where the metrics go, not what is learned
        return "free" if key.startswith("logger.") else roles.get(key, "warns")

    changed = sorted(
        key
        for key in before.keys() | now.keys()
        if before.get(key) != now.get(key) and role(key) != "free"
    )
    differences = [
        f"{key}={before[key]!r} (this run: {now.get(key)!r})"
        if key in before
        else f"no {key} in its config (this run: {now.get(key)!r})"
        for key in changed
        if role(key) == "must_match"
    ]
    differences += [
        f"a different {key}"
        for key, value in extras.items()
        if key in saved and not same_value(saved[key], value)
    ]
    if differences:
        raise RnnlabError(
            f"checkpoint {str(path)!r} does not fit this run: it has {'; '.join(differences)}; "
            "resume with the same settings, or use a new run directory"
        )
    if changed:
        log.warning(
            "resuming with changed settings (the result will differ from an uninterrupted run): %s",
            ", ".join(f"{key} {before.get(key)!r} -> {now.get(key)!r}" for key in changed),
        )


def fix_schedule_length(cfg, checkpoint_path: Path) -> None:
    """Record the length of a schedule that has one (`scheduler.total_epochs`, null: "the
    run's trainer.max_epochs") as a number in `cfg`: a new run's max_epochs, a resumed run's
    recorded length. So raising trainer.max_epochs on resume trains the added epochs past
    the schedule's end, at its last lr, as a fresh run with the recorded settings would,
    instead of stretching a schedule already half spent; a different explicit length is
    refused by `check_fits_run` (it must match)."""
    if "total_epochs" not in cfg.scheduler or cfg.scheduler.total_epochs is not None:
        return
    length = cfg.trainer.max_epochs
    if cfg.trainer.resume and checkpoint_path.exists():
        saved = saved_config(load_checkpoint(checkpoint_path).get("config"), checkpoint_path)
        length = saved["scheduler"].get("total_epochs") or length
    cfg.scheduler.total_epochs = length
    if cfg.trainer.max_epochs > length:
        later = range(length + 1, cfg.trainer.max_epochs + 1)
        log.warning(
            "trainer.max_epochs=%d goes past the schedule's scheduler.total_epochs=%d: "
            "epoch%s %s train%s at its last lr",
            cfg.trainer.max_epochs,
            length,
            "s" if len(later) > 1 else "",
            f"{later[0]}-{later[-1]}" if len(later) > 1 else later[0],
            "" if len(later) > 1 else "s",
        )


def same_value(a, b) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (
            isinstance(a, torch.Tensor)
            and isinstance(b, torch.Tensor)
            and torch.equal(a.cpu(), b.cpu())
        )
    return a == b


def resume(path: Path, model, optimizer, config: dict, extras: dict, device, schedule=None) -> dict:
    """Load the checkpoint at `path` into `model`, `optimizer` and `schedule` (an
    `rnnlab.schedules` schedule), restore the random states, and return what the loop
    needs: {"epoch", "best": (epoch, value), "metrics"}."""
    saved = load_training_state(path, map_location=device)
    saved["config"] = saved_config(saved.get("config"), path)  # an older run's, as today's
    check_fits_run(saved, config, extras, path)
    load_weights(model, saved["model"], path)
    load_weights(optimizer, saved["optimizer"], path, what="optimizer state")
    if schedule is not None and saved.get("scheduler"):
        load_weights(schedule, saved["scheduler"], path, what="scheduler state")
    restore_rng_states(saved)
    log.info("resuming from %s after epoch %d", path, saved["epoch"])
    return resume_point(saved)
