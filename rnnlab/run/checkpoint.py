"""`checkpoint.pt` and `best.pt`: their layout, and files that a crash cannot corrupt and a
crafted file cannot run code from.

Layout (`training_state`): `model`, `optimizer` and `scheduler` state dicts (the last one
holds NT-ASGD's averaged weights once averaging has begun), `epoch`, `rng` (every
random state training draws from), `config` (the resolved run config as a dict),
`metrics` (the epoch's), `best_epoch` and `best_value` (model selection so far), and the
task's `checkpoint_extras()` (its vocabulary). Everything saved is tensors or plain Python
values, so loading uses `torch.load(weights_only=True)`, which refuses pickled objects.
"""

import os
import pickle
import random
import re
from pathlib import Path

import torch
from omegaconf import OmegaConf
from omegaconf.errors import ConfigAttributeError
from torch import nn

from rnnlab.config.run_config import saved_config
from rnnlab.errors import RnnlabError
from rnnlab.schedules import averaged_weights

FORMAT = "rnnlab-checkpoint-1"
LAST = "checkpoint.pt"  # in the run directory: the last completed epoch
BEST = "best.pt"  # the epoch with the best validation objective (trainer.keep_best)


def rng_states() -> dict:
    """Every random state training draws from (dropout, sampling): torch's CPU and CUDA
    generators and Python's `random`; as tensors and tuples of ints, so it loads with
    `weights_only=True`. NumPy's generator is not used by rnnlab, so it is not saved."""
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python": random.getstate(),
    }


def restore_rng_states(saved: dict) -> None:
    """Put back the random states of `saved` (a training checkpoint)."""
    states = saved.get("rng") or {"torch": saved["rng_state"]}  # older checkpoints
    torch.set_rng_state(states["torch"])
    if states.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    if states.get("python") is not None:
        random.setstate(states["python"])


def training_state(
    model: nn.Module,
    optimizer,
    epoch: int,
    config: dict,
    progress,
    extras: dict,
    schedule_state: dict | None = None,
    wall_seconds: float = 0.0,
) -> dict:
    """What a checkpoint holds after `epoch`; `progress` is the loop's `FitResult`,
    `schedule_state` the `rnnlab.schedules` schedule's, `wall_seconds` the run's time so far
    over all its launches."""
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": schedule_state or {},
        "epoch": epoch,
        "rng": rng_states(),
        "config": config,
        "metrics": progress.last_metrics,
        "best_epoch": progress.best_epoch,
        "best_value": progress.best_value,
        "wall_seconds": wall_seconds,
        **extras,
    }


def load_training_state(path: Path, map_location) -> dict:
    """A checkpoint a run can continue from; a one-line RnnlabError for anything else."""
    saved = load_checkpoint(path, map_location=map_location)
    _require(saved, ("model", "optimizer", "epoch", "config"), path, "an rnnlab training run")
    if "rng" not in saved and "rng_state" not in saved:  # rng_state: older checkpoints
        _require(saved, ("rng",), path, "an rnnlab training run")
    return saved


def evaluation_weights(saved: dict) -> dict:
    """The model state dict a checkpoint's model is scored and used with: the trained
    weights, or NT-ASGD's average of them once averaging has begun."""
    return averaged_weights(saved["model"], saved.get("scheduler"))


def resume_point(saved: dict) -> dict:
    """Where the loop continues: {"epoch", "best": (epoch, value), "metrics",
    "wall_seconds" (the earlier launches' time; 0 for checkpoints older than it)}."""
    return {
        "epoch": saved["epoch"],
        "best": (saved.get("best_epoch"), saved.get("best_value")),
        "metrics": saved.get("metrics", {}),
        "wall_seconds": saved.get("wall_seconds", 0.0),
    }


def saved_epoch(path: Path) -> int | None:
    """The last completed epoch that the checkpoint at `path` holds; None without one."""
    try:
        return load_checkpoint(path)["epoch"]
    except (RnnlabError, KeyError):
        return None


def checkpoint_in(path: str | Path) -> str:
    """A run directory's best.pt (else its checkpoint.pt); a file path as given. A folder
    with neither is a one-line RnnlabError saying so (not "checkpoint.pt does not exist")."""
    if not Path(path).is_dir():
        return str(path)
    for name in (BEST, LAST):
        if (Path(path) / name).is_file():
            return str(Path(path) / name)
    raise RnnlabError(
        f"checkpoint={str(path)!r} is a folder without {BEST} or {LAST}; expected a run "
        "directory or a checkpoint file"
    )


def load_for_inference(path: str | Path, task) -> tuple[nn.Module, dict]:
    """The trained model of a `task` run's checkpoint, in eval mode, and the checkpoint.

    `task` is the run's Task class: its `name` must be the checkpoint's `task.name`, the
    checkpoint must hold its `checkpoint_keys`, and its `model_from_checkpoint(saved)`
    builds the model from the saved config and vocabulary. A saved setting that contradicts
    the vocabulary (`task.checkpoint_problem`), weights that do not fit that model, and
    weights holding NaN or inf are each a one-line RnnlabError. A run directory stands for
    its best.pt (else its checkpoint.pt)."""
    path = checkpoint_in(path)
    saved = load_checkpoint(path)
    _require(saved, ("config", "model"), path, f"an rnnlab task={task.name} run")
    name = (
        OmegaConf.select(OmegaConf.create(saved["config"]), "task.name")
        if isinstance(saved["config"], dict)
        else None
    )
    if name != task.name:
        raise RnnlabError(
            f"checkpoint {str(path)!r} is a task={name} model; this command "
            f"needs one trained with task={task.name}"
        )
    _require(saved, task.checkpoint_keys, path, f"an rnnlab task={task.name} run")
    saved["config"] = saved_config(saved["config"], path)
    problem = task.checkpoint_problem(saved)
    if problem:
        raise RnnlabError(f"checkpoint {str(path)!r} {problem}; it cannot be used")
    try:
        model = task.model_from_checkpoint(saved)
    except (KeyError, ConfigAttributeError) as error:  # OmegaConf's missing keys are these
        raise RnnlabError(
            f"checkpoint {str(path)!r} has no {_missing_key(error)} in its "
            f"config; expected the checkpoint.pt of an rnnlab task={task.name} "
            "run"
        ) from None
    weights = evaluation_weights(saved)
    load_weights(model, weights, path)
    non_finite = [
        name
        for name, value in weights.items()
        if torch.is_tensor(value) and value.is_floating_point() and not value.isfinite().all()
    ]
    if non_finite:  # the tools would print <unk> or nan and exit 0
        more = f" and {len(non_finite) - 1} more" if len(non_finite) > 1 else ""
        raise RnnlabError(
            f"checkpoint {str(path)!r} has non-finite weights (model.{non_finite[0]}{more}); "
            "it cannot be used"
        )
    return model.eval(), saved


def _require(saved: dict, keys: tuple[str, ...], path, expected: str) -> None:
    missing = [key for key in keys if key not in saved]
    if missing:
        raise RnnlabError(
            f"checkpoint {str(path)!r} has no {', '.join(missing)}; expected "
            f"the checkpoint.pt of {expected}"
        )


def _missing_key(error: Exception) -> str:
    """The config key a model builder missed: `model_from_checkpoint` reads the saved
    config's `model` node, so OmegaConf names the key under it ("impl" → "model.impl")."""
    full_key = getattr(error, "full_key", None)
    if full_key:
        return f"model.{full_key}"
    return str(error.args[0]) if error.args else type(error).__name__


def save_checkpoint(path: str | Path, payload: dict) -> None:
    """Write to a temporary file beside `path`, then rename: the old file survives a crash,
    and an exception or Ctrl-C during the write removes the temporary file. A failed write
    (a full disk, no permission) is a one-line RnnlabError naming the file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        # through a Python file, so a full disk raises OSError(ENOSPC), not torch's
        # "[enforce fail at inline_container.cc] unexpected pos"
        with open(tmp, "wb") as handle:
            torch.save({"format": FORMAT, **payload}, handle)
        os.replace(tmp, path)
    except OSError as error:
        raise RnnlabError(_write_failure(path, error)) from None
    except RuntimeError as error:  # torch's archive writer when its last write fails
        if "inline_container" not in str(error) and "unexpected pos" not in str(error):
            raise
        raise RnnlabError(_write_failure(path, OSError(28, "the disk is full"))) from None
    finally:
        tmp.unlink(missing_ok=True)


def _write_failure(path: Path, error: OSError) -> str:
    reason = error.strerror or str(error)
    kept = "is unchanged" if path.exists() else "was not written"
    return f"could not write checkpoint {str(path)!r}: {reason}; {path.name} {kept}"


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """The payload saved by `save_checkpoint`; a one-line RnnlabError for anything else."""
    path = Path(path)
    if not path.is_file():
        raise RnnlabError(
            f"checkpoint {str(path)!r} does not exist (expected the checkpoint.pt of an rnnlab run)"
        )
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for foreign or unsafe files
        raise RnnlabError(
            f"{str(path)!r} is not a loadable rnnlab checkpoint: {_load_failure(error)}"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise RnnlabError(f"{str(path)!r} is not an rnnlab checkpoint (expected format {FORMAT})")
    return payload


def _load_failure(error: Exception) -> str:
    """Why torch.load refused a file, in a few words (torch's own message is a page long and
    suggests weights_only=False, which is exactly what must not be done with such a file)."""
    text = str(error)
    unsafe = re.search(r"GLOBAL ([\w.]+)|[Uu]nsupported global: (?:GLOBAL )?([\w.]+)", text)
    if unsafe:
        return (
            f"it holds pickled Python objects ({unsafe.group(1) or unsafe.group(2)}) that "
            "could run code when unpickled, which weights-only loading refuses"
        )
    first_line = (text.strip().splitlines() or [type(error).__name__])[0]
    if isinstance(error, pickle.UnpicklingError) or not re.search("[A-Za-z]", first_line):
        return "not a PyTorch checkpoint file"  # a text file gives torch's bare byte: "101"
    return first_line.split(". ")[0]  # a truncated file: "... failed finding central directory"


def load_weights(module, state_dict: dict, path: str | Path, what: str = "model") -> None:
    """`module.load_state_dict` with PyTorch's multi-line mismatch report cut to one line."""
    try:
        module.load_state_dict(state_dict)
    except (RuntimeError, KeyError, ValueError, TypeError, AttributeError) as error:
        # torch lists one mismatch per line after a heading; the first one names the problem
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        details = lines[1:] or lines[:1] or [type(error).__name__]
        more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
        raise RnnlabError(
            f"the {what} in {str(path)!r} does not fit the {what} built from "
            f"the config: {details[0]}{more}"
        ) from None
