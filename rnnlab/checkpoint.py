"""Checkpoints that a crash cannot corrupt and a crafted file cannot run code from.

Everything saved is tensors or plain Python values (vocab as a token list, config as a
dict), so loading uses `torch.load(weights_only=True)`, which refuses pickled objects.
"""

import os
import pickle
import re
from pathlib import Path

import torch

from rnnlab.errors import RnnlabError

FORMAT = "rnnlab-checkpoint-1"


def save_checkpoint(path: str | Path, payload: dict) -> None:
    """Write to a temporary file beside `path`, then rename: the old file survives a crash,
    and an exception or Ctrl-C during the write removes the temporary file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        torch.save({"format": FORMAT, **payload}, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """The payload saved by `save_checkpoint`; a one-line RnnlabError for anything else."""
    path = Path(path)
    if not path.is_file():
        raise RnnlabError(f"checkpoint {str(path)!r} does not exist "
                          "(expected the checkpoint.pt of an rnnlab run)")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for foreign or unsafe files
        raise RnnlabError(f"{str(path)!r} is not a loadable rnnlab checkpoint: "
                          f"{_load_failure(error)}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise RnnlabError(f"{str(path)!r} is not an rnnlab checkpoint (expected format {FORMAT})")
    return payload


def _load_failure(error: Exception) -> str:
    """Why torch.load refused a file, in a few words (torch's own message is a page long and
    suggests weights_only=False, which is exactly what must not be done with such a file)."""
    text = str(error)
    unsafe = re.search(r"GLOBAL ([\w.]+)|[Uu]nsupported global: (?:GLOBAL )?([\w.]+)", text)
    if unsafe:
        return (f"it holds pickled Python objects ({unsafe.group(1) or unsafe.group(2)}) that "
                "could run code when unpickled, which weights-only loading refuses")
    if isinstance(error, pickle.UnpicklingError):
        return "not a PyTorch checkpoint file"
    first_line = (text.strip().splitlines() or [type(error).__name__])[0]
    return first_line.split(". ")[0]  # a truncated file: "... failed finding central directory"


def load_weights(module, state_dict: dict, path: str | Path, what: str = "model") -> None:
    """`module.load_state_dict` with PyTorch's multi-line mismatch report cut to one line."""
    try:
        module.load_state_dict(state_dict)
    except (RuntimeError, KeyError, ValueError) as error:
        # torch lists one mismatch per line after a heading; the first one names the problem
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        details = lines[1:] or lines[:1] or [type(error).__name__]
        more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
        raise RnnlabError(f"the {what} in {str(path)!r} does not fit the {what} built from "
                          f"the config: {details[0]}{more}") from None
