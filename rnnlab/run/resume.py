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

from rnnlab.config.run_config import saved_config
from rnnlab.errors import RnnlabError
from rnnlab.run.checkpoint import (
    load_training_state,
    load_weights,
    restore_rng_states,
    resume_point,
)
from rnnlab.run.flatten import flatten_config

log = logging.getLogger(__name__)

# Settings that decide the shape of the weights and the optimizer state: a checkpoint
# trained with other values cannot continue this run.
MUST_MATCH = (
    "task.name",
    "data.name",
    "data.token",
    "data.min_freq",
    "data.vocab_size",
    "model.",
    "optim._target_",
    "scheduler._target_",
)
# A setting that a checkpoint older than it lacks matches when this run leaves it off (the
# AWD tools and the scheduler group were added with these defaults).
OFF = (None, "None", False, 0, "none", "default")  # flatten_config writes None as "None"
# ... and settings added later whose default is what older runs did without the key
IMPLIED = {"data.punctuation": True, "data.pool_batches": 50}
# Settings a resumed run may change without comment: how it runs (device, threads, progress
# output, the overview), how long it trains (max_epochs, max_train_seconds), how it is
# launched (resume, skip_finished), where the data lives and where its metrics go (the
# `logger` group), and what is only logged (greedy text samples) or only batched
# differently (eval.batch_size) or only scored at the end (the language model's adaptive
# reading, eval.dynamic_lr and eval.cache_*); not what it learns or how its best epoch is
# chosen (val_every_n_epochs, keep_best, eval.beam_size, eval.bleu_k).
FREE = (
    "trainer.resume",
    "trainer.skip_finished",
    "trainer.max_epochs",
    "trainer.max_train_seconds",
    "trainer.device",
    "trainer.num_threads",
    "trainer.progress_bar",
    "trainer.log_every_n_steps",
    "trainer.summary",
    "trainer.checkpoint_every_n_epochs",
    "logger",
    "data.root",
    "data.download",
    "data.cache_dir",
    "eval.batch_size",
    "eval.dynamic_lr",
    "eval.cache_",
    "task.sample_prefix",
    "task.sample_length",
    "task.sample_sentences",
    "task.num_test_samples",
)


def implied_by_older_runs(key: str, value) -> bool:
    """Whether a setting that an older checkpoint lacks is what that run did without it."""
    return IMPLIED[key] == value if key in IMPLIED else value in OFF


def check_fits_run(saved: dict, config: dict, extras: dict, path: Path) -> None:
    """Raise if the checkpoint's model, optimizer or vocabulary differ from this run's;
    warn about other changed settings (a resumed run then differs from an uninterrupted one)."""
    before, now = flatten_config(saved.get("config") or {}), flatten_config(config)
    changed = sorted(
        key
        for key in before.keys() | now.keys()
        if before.get(key) != now.get(key)
        and not key.startswith(FREE)
        and not (key not in before and implied_by_older_runs(key, now[key]))
    )
    differences = [
        f"{key}={before[key]!r} (this run: {now.get(key)!r})"
        if key in before
        else f"no {key} in its config (this run: {now.get(key)!r})"
        for key in changed
        if key.startswith(MUST_MATCH)
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
        schedule.load_state_dict(saved["scheduler"])
    restore_rng_states(saved)
    log.info("resuming from %s after epoch %d", path, saved["epoch"])
    return resume_point(saved)
