"""A run directory's owner and its Hydra record.

One process per run directory: a run holds `<run dir>/.lock` for its whole life, so a
second training started in the same directory stops at once, before it has written
anything, instead of mixing its metrics, events and log lines with the first one's.
For the same reason rnnlab, not Hydra, writes `.hydra/` (conf/config.yaml sets
`hydra.output_subdir: null`): only once the lock is held, and never over the record of a
run that already trained there (`save_hydra_record`).

The lock is the operating system's (`fcntl.flock`), so it is released when the process
ends however it ends (SIGKILL included): a stale `.lock` file never blocks a later run.
The file holds the holder's pid, which the refusal names.
"""

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from rnnlab.errors import RnnlabError

LOCK_FILE = ".lock"
HYDRA_DIR = ".hydra"  # what Hydra's default output_subdir would be


class RunDirBusy(RnnlabError):
    """Another live process holds the run directory."""


@contextlib.contextmanager
def run_dir_lock(run_dir: str | Path) -> Iterator[Path]:
    """Hold `run_dir`'s lock for the life of the `with` block; RunDirBusy if another
    process holds it (then nothing in the directory was changed)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunDirBusy(
                f"run directory {str(run_dir)!r} is in use by another rnnlab "
                f"process ({holder(fd)}); wait for it to end or choose another "
                "directory (nothing was changed)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield run_dir
    finally:
        os.close(fd)  # releases the lock


def holder(fd: int) -> str:
    """ "pid N" of the process that wrote its pid into the lock file, as far as known."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 32).decode(errors="replace").strip()
    return f"pid {text}" if text.isdigit() else "pid unknown"


def save_hydra_record(run_dir: Path, task_cfg: DictConfig) -> None:
    """What Hydra writes under `.hydra/` before a job (the job's config, Hydra's config, the
    overrides), written by the job that holds the lock and is about to train."""
    hydra_cfg = HydraConfig.instance().cfg  # {"hydra": ...}, as Hydra saves it
    out = Path(run_dir) / HYDRA_DIR
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, cfg in (
            ("config.yaml", task_cfg),
            ("hydra.yaml", hydra_cfg),
            ("overrides.yaml", hydra_cfg.hydra.overrides.task),
        ):
            (out / name).write_text(OmegaConf.to_yaml(cfg), encoding="utf-8")
    except OSError as error:  # a full disk, a read-only filesystem
        raise RnnlabError(
            f"could not write the run's record in {str(out)!r}: {error.strerror or error}"
        ) from None
