"""The same short training on a quiet machine and beside one busy process, with PyTorch's
OpenMP threads waiting as libgomp does by default, passively, or after a bounded spin,
and with one thread.

    python scripts/bench_load.py [--repeats 2] [--overrides model.num_hiddens=32 ...]

Each run is `python -m rnnlab.train` in a subprocess (a character LSTM of 32 hidden units,
one epoch, torch's default thread count unless a variant sets one); the busy process is a
pure-Python loop started by this script, unpinned. Variants:
- `libgomp default`: `python -m rnnlab.train` as it is: a waiting OpenMP thread spins
  ~3 ms (GOMP_SPINCOUNT 300000) before it sleeps
- `..., 1 thread`: the same with trainer.num_threads=1
- `OMP_WAIT_POLICY=PASSIVE`: waiting threads sleep at once
- `GOMP_SPINCOUNT=n`: a waiting thread spins n times (~n / 100,000 ms) before it sleeps
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
RUN = ["model=lstm", "model.num_hiddens=32", "model.num_layers=1", "model.dropout=0",
       "trainer.max_epochs=1", "trainer.progress_bar=false", "task.sample_length=5"]
ONE_THREAD = ["trainer.num_threads=1"]
PASSIVE = {"OMP_WAIT_POLICY": "PASSIVE"}
VARIANTS = {  # name: (environment, overrides)
    "libgomp default": ({}, []),
    "libgomp default, 1 thread": ({}, ONE_THREAD),
    "OMP_WAIT_POLICY=PASSIVE": (PASSIVE, []),
    "OMP_WAIT_POLICY=PASSIVE, 1 thread": (PASSIVE, ONE_THREAD),
    "GOMP_SPINCOUNT=10000": ({"GOMP_SPINCOUNT": "10000"}, []),
    "GOMP_SPINCOUNT=50000": ({"GOMP_SPINCOUNT": "50000"}, []),
}
BUSY = "while True: pass"


def train_once(env_changes: dict, overrides: list[str]) -> tuple[float, float]:
    """(training tokens/sec, wall seconds of the whole command) of one run."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS")}
    env.update(env_changes)
    with tempfile.TemporaryDirectory() as run_dir:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "rnnlab.train", f"hydra.run.dir={run_dir}",
                        *RUN, *overrides], cwd=REPO, env=env, check=True,
                       capture_output=True, text=True)
        wall = time.perf_counter() - start
        metrics = json.loads((Path(run_dir) / "metrics.json").read_text())
    return metrics["tokens_per_sec"], wall


def measure(repeats: int, busy: bool, overrides: list[str]) -> dict:
    """{variant: (median tokens/sec, median wall seconds)}, alternating the variants."""
    hog = subprocess.Popen([sys.executable, "-c", BUSY]) if busy else None
    try:
        runs = {name: [] for name in VARIANTS}
        for _ in range(repeats):
            for name, (env, extra) in VARIANTS.items():
                runs[name].append(train_once(env, [*overrides, *extra]))
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    return {name: (statistics.median(r[0] for r in results),
                   statistics.median(r[1] for r in results))
            for name, results in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--overrides", nargs="*", default=[],
                        help="more rnnlab.train overrides, e.g. model.num_hiddens=256")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; run: {' '.join(RUN + args.overrides)}; "
          f"median of {args.repeats}", flush=True)
    quiet = measure(args.repeats, False, args.overrides)
    loaded = measure(args.repeats, True, args.overrides)
    print("| variant | quiet tokens/s | quiet wall s | 1 busy process: tokens/s | wall s "
          "| slowdown |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in VARIANTS:
        (q_speed, q_wall), (l_speed, l_wall) = quiet[name], loaded[name]
        print(f"| {name} | {q_speed:,.0f} | {q_wall:.1f} | {l_speed:,.0f} | {l_wall:.1f} "
              f"| {q_speed / l_speed:.1f}x |")


if __name__ == "__main__":
    main()
