"""`run_info.json`: what produced a run, so its numbers can be reproduced or explained.

The seed, the versions of Python and the libraries, the git commit of the rnnlab code
(null when it is not a git checkout or git is missing), the device and the CPU model; each
resumed launch is appended under "resumes". The full resolved config is Hydra's
`.hydra/config.yaml` beside it.
"""

import json
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import torch

from rnnlab.run.records import write_json_atomically

PACKAGES = ("rnnlab", "torch", "hydra-core", "omegaconf", "numpy", "tensorboard")
SOURCE_DIR = Path(__file__).resolve().parent


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def git_state(directory: Path = SOURCE_DIR) -> dict:
    """{"commit": HEAD or None, "dirty": whether tracked files differ from it, or None}."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):  # no git, or it hangs
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo's "model name"; elsewhere what `platform` says):
    float results agree to the last digit only between runs on the same CPU model."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def launch_record(seed: int, device: torch.device, start_epoch: int) -> dict:
    return {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "start_epoch": start_epoch,
        "seed": seed,
        "argv": sys.argv,
        "versions": versions(),
        "git": git_state(),
        "device": describe_device(device),
        "cpu": cpu_model(),
    }


def record_launch(run_dir: Path, seed: int, device: torch.device, start_epoch: int) -> dict:
    """Write run_info.json for a new run, or append this launch to a resumed run's."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    path = Path(run_dir) / "run_info.json"
    record = launch_record(seed, device, start_epoch)
    try:
        info = json.loads(path.read_text()) if start_epoch else None
    except (OSError, ValueError):  # the first launch's record is missing or damaged
        info = None
    if not isinstance(info, dict):
        info = {**record, "resumes": []}
    else:
        info.setdefault("resumes", []).append(record)
    write_json_atomically(path, info)
    return info


def recorded_cpu(run_dir: Path) -> str | None:
    """The CPU model(s) a run's launches ran on, " + "-joined when a resume ran on another;
    None when run_info.json is missing or predates the record."""
    try:
        info = json.loads((Path(run_dir) / "run_info.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict):
        return None
    launches = [info, *info.get("resumes", [])]
    cpus = list(dict.fromkeys(launch["cpu"] for launch in launches if launch.get("cpu")))
    return " + ".join(cpus) or None
