"""How many CPU threads a run uses when `trainer.num_threads` is null: the cores that are
actually free, so a run beside a busy process does not collapse.

PyTorch's OpenMP threads spin while they wait for each other; with one of them sharing a
core with another busy process, every parallel region waits for the thread that is not
running, and a small model ran 10-75x slower than with one thread (issue 19). A passive
wait policy removed the cliff but made quiet runs 4.5x slower, so instead the count is
chosen at start: torch's default (the cores this process may use) less the cores another
process keeps busy, measured over a short sample of /proc/stat; at least one. On a quiet
machine that is torch's default, unchanged. Where /proc/stat cannot be read (not Linux),
torch's default is kept.
"""

import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)
BUSY = 0.5  # a core busier than this (all processes but this one) is not free
SAMPLE_SECONDS = 0.1


def cpu_times(stat_text: str) -> dict[int, tuple[int, int]]:
    """{cpu: (busy ticks, total ticks)} from the text of /proc/stat (its `cpuN` lines);
    idle and iowait count as not busy."""
    times = {}
    for line in stat_text.splitlines():
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        ticks = [int(field) for field in fields[:8]]  # user nice system idle iowait irq ...
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
        times[int(name[3:])] = (sum(ticks) - idle, sum(ticks))
    return times


def busy_fractions(before: dict, after: dict) -> dict[int, float]:
    """{cpu: fraction of the interval it was busy} between two `cpu_times` readings."""
    fractions = {}
    for cpu, (busy, total) in after.items():
        if cpu in before and total > before[cpu][1]:
            fractions[cpu] = (busy - before[cpu][0]) / (total - before[cpu][1])
    return fractions


def choose_threads(default: int, cpus: set[int], busy: dict[int, float]) -> int:
    """Threads for a run: `default` (torch's), less the cores among `cpus` (this process's
    affinity) that others keep busy; at least 1."""
    busy_cores = sum(1 for cpu in cpus if busy.get(cpu, 0.0) > BUSY)
    return max(1, min(default, len(cpus) - busy_cores))


def default_threads(
    default: int, stat: Path = Path("/proc/stat"), sample_seconds: float = SAMPLE_SECONDS
) -> int:
    """`choose_threads` on a short sample of /proc/stat, logged in one line."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    try:
        before = cpu_times(stat.read_text())
        time.sleep(sample_seconds)  # this process is idle meanwhile: the load is others'
        busy = busy_fractions(before, cpu_times(stat.read_text()))
    except (OSError, ValueError):
        return default
    if not cpus or not busy:
        return default
    threads = choose_threads(default, cpus, busy)
    taken = sorted(cpu for cpu in cpus if busy.get(cpu, 0.0) > BUSY)
    log.info(
        "trainer.num_threads=null: %d thread(s) (torch's default %d; %d usable core(s)%s)",
        threads,
        default,
        len(cpus),
        f", busy: {', '.join(f'cpu{cpu} {busy[cpu]:.0%}' for cpu in taken)}"
        if taken
        else ", none busy",
    )
    return threads
