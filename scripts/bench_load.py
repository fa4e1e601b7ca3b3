"""The same short training on a quiet machine and beside one busy process pinned to one
core: before the thread fix (torch's default thread count, set explicitly), after it
(`trainer.num_threads=null`: the free cores, `rnnlab.run.threads`), with one thread, and
with OpenMP's passive wait policy for reference.

    python scripts/bench_load.py [--repeats 3] [--busy-core N] [--overrides KEY=VALUE ...]

Run it on a quiet machine (nothing else busy: the "quiet" column must be quiet), e.g.
`taskset -c 0,1 python scripts/bench_load.py` to use two cores. Each run is
`python -m rnnlab.train` in a subprocess (a character LSTM of 32 hidden units, one epoch);
the busy process is a pure-Python loop pinned to `--busy-core` (default: the last core this
script may use). Variants:
- `before: torch's default threads`: trainer.num_threads=<torch.get_num_threads()>, what a
  null count meant before the fix
- `after: null (free cores)`: the default now, which leaves out the busy core
- `1 thread`: trainer.num_threads=1
- `OMP_WAIT_POLICY=PASSIVE`: torch's default threads, waiting threads sleep at once (the
  fix that was measured and rejected: quiet runs 4.5x slower)
Prints a Markdown table of the median training tokens/sec (metrics.json's
`tokens_per_sec`) and wall seconds per run, quiet and under load, and the slowdown.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUN = [
    "model=lstm",
    "model.num_hiddens=32",
    "model.num_layers=1",
    "model.dropout=0",
    "trainer.max_epochs=1",
    "trainer.progress_bar=false",
    "task.sample_length=5",
]
ONE_THREAD = ["trainer.num_threads=1"]
PASSIVE = {"OMP_WAIT_POLICY": "PASSIVE"}


def variants(torch_default: int) -> dict:
    """{name: (environment, overrides)}."""
    before = [f"trainer.num_threads={torch_default}"]
    return {
        f"before: torch's default threads ({torch_default})": ({}, before),
        "after: null (free cores)": ({}, []),
        "1 thread": ({}, ONE_THREAD),
        f"OMP_WAIT_POLICY=PASSIVE, {torch_default} threads": (PASSIVE, before),
    }


BUSY = "while True: pass"


def train_once(env_changes: dict, overrides: list[str]) -> tuple[float, float]:
    """(training tokens/sec, wall seconds of the whole command) of one run."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS")
    }
    env.update(env_changes)
    with tempfile.TemporaryDirectory() as run_dir:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "rnnlab.train", f"hydra.run.dir={run_dir}", *RUN, *overrides],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
        metrics = json.loads((Path(run_dir) / "metrics.json").read_text())
    return metrics["tokens_per_sec"], wall


def measure(cases: dict, repeats: int, busy_core: int | None, overrides: list[str]) -> dict:
    """{variant: (median tokens/sec, median wall seconds)}, alternating the variants; with
    `busy_core`, beside a busy loop pinned to that core."""
    hog = None
    if busy_core is not None:
        hog = subprocess.Popen(
            [sys.executable, "-c", BUSY], preexec_fn=lambda: os.sched_setaffinity(0, {busy_core})
        )
    try:
        runs = {name: [] for name in cases}
        for _ in range(repeats):
            for name, (env, extra) in cases.items():
                runs[name].append(train_once(env, [*overrides, *extra]))
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    return {
        name: (statistics.median(r[0] for r in results), statistics.median(r[1] for r in results))
        for name, results in runs.items()
    }


def torch_default_threads() -> int:
    """torch.get_num_threads() in a fresh process, as a run would start."""
    env = {key: value for key, value in os.environ.items() if key != "OMP_NUM_THREADS"}
    out = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--busy-core",
        type=int,
        default=max(os.sched_getaffinity(0)),
        help="the core the busy loop is pinned to",
    )
    parser.add_argument(
        "--overrides",
        nargs="*",
        default=[],
        help="more rnnlab.train overrides, e.g. model.num_hiddens=256",
    )
    args = parser.parse_args()
    cases = variants(torch_default_threads())
    print(
        f"cores {sorted(os.sched_getaffinity(0))}; busy loop on core {args.busy_core}; run: "
        f"{' '.join(RUN + args.overrides)}; median of {args.repeats}",
        flush=True,
    )
    quiet = measure(cases, args.repeats, None, args.overrides)
    loaded = measure(cases, args.repeats, args.busy_core, args.overrides)
    print(
        "| variant | quiet tokens/s | quiet wall s | 1 busy process: tokens/s | wall s | slowdown |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in cases:
        (q_speed, q_wall), (l_speed, l_wall) = quiet[name], loaded[name]
        print(
            f"| {name} | {q_speed:,.0f} | {q_wall:.1f} | {l_speed:,.0f} | {l_wall:.1f} "
            f"| {q_speed / l_speed:.1f}x |"
        )


if __name__ == "__main__":
    main()
