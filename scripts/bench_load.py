"""The same short training on a quiet machine and beside one busy process, with OpenMP's
wait policy as rnnlab sets it and as libgomp leaves it.

    python scripts/bench_load.py [--repeats 2] [--overrides model.num_hiddens=32 ...]

Each run is `python -m rnnlab.train` in a subprocess (a character LSTM of 32 hidden units,
one epoch, torch's default thread count unless a variant sets one); the busy process is a
pure-Python loop started by this script, unpinned. Variants:
- `libgomp default (before)`: torch imported before rnnlab, so OMP_WAIT_POLICY stays
  unset and a waiting OpenMP thread spins ~3 ms (GOMP_SPINCOUNT 300000) before it sleeps:
  rnnlab before the fix
- `libgomp default, 1 thread`: the same with trainer.num_threads=1 (the issue's contrast)
- `passive (rnnlab default)`: `python -m rnnlab.train` as it is, OMP_WAIT_POLICY=PASSIVE
- `passive, 1 thread`: the same with trainer.num_threads=1
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
RNNLAB_FIRST = ["-m", "rnnlab.train"]
TORCH_FIRST = ["-c", "import torch, runpy; "
               "runpy.run_module('rnnlab.train', run_name='__main__', alter_sys=True)"]
VARIANTS = {  # name: (how python starts the run, overrides)
    "libgomp default (before)": (TORCH_FIRST, []),
    "libgomp default, 1 thread": (TORCH_FIRST, ["trainer.num_threads=1"]),
    "passive (rnnlab default)": (RNNLAB_FIRST, []),
    "passive, 1 thread": (RNNLAB_FIRST, ["trainer.num_threads=1"]),
}
BUSY = "while True: pass"


def train_once(start_args: list[str], overrides: list[str]) -> tuple[float, float]:
    """(training tokens/sec, wall seconds of the whole command) of one run."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS")}
    with tempfile.TemporaryDirectory() as run_dir:
        start = time.perf_counter()
        subprocess.run([sys.executable, *start_args, f"hydra.run.dir={run_dir}",
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
            for name, (start_args, extra) in VARIANTS.items():
                runs[name].append(train_once(start_args, [*overrides, *extra]))
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
