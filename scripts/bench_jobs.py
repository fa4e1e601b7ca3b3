"""How much N training jobs sharing one device get done together, through Hydra's joblib
launcher: the curve that picks `hydra.launcher.n_jobs` for a GPU (README "Sweeps on a GPU").

    python scripts/bench_jobs.py [--jobs 1,4,8,16] [--threads 1] [--epochs 200]
                                 [--workdir outputs/bench_jobs] [-- OVERRIDES]

For each N it runs one sweep of N jobs (seeds 0..N-1) of the study's setting
(experiment=ablation_baseline: nn.RNN, 512 hidden, batch 32 x 35 steps, 10,000 characters)
cut to `--epochs` epochs, all N at once, and prints a Markdown row: the sum of the jobs'
own tokens/sec (their training loops run side by side), the sweep's tokens per wall-clock
second (start-up, evaluation and writing included), and per-job speed against N=1.
Anything after `--` goes to every sweep (say `model=lstm` or `trainer.device=cpu`).
"""

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

TOKENS_PER_EPOCH = 8 * 32 * 35  # the study's 10,000 characters: 8 batches of 32 x 35


def sweep(n_jobs: int, threads: str, epochs: int, workdir: Path, extra: list[str]) -> dict:
    sweep_dir = workdir / f"n{n_jobs}_t{threads}"
    shutil.rmtree(sweep_dir, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "rnnlab.train",
        "-m",
        "experiment=ablation_baseline",
        "hydra/launcher=joblib",
        f"hydra.launcher.n_jobs={n_jobs}",
        f"seed=range(0,{n_jobs})",
        f"trainer.max_epochs={epochs}",
        f"trainer.val_every_n_epochs={epochs}",
        f"trainer.checkpoint_every_n_epochs={epochs}",
        f"trainer.num_threads={threads}",
        "trainer.summary=false",
        f"hydra.sweep.dir={sweep_dir}",
        *extra,
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"error: the sweep of {n_jobs} jobs failed:\n{done.stderr[-2000:]}")
    records = [json.loads(path.read_text()) for path in sweep_dir.glob("*/metrics.json")]
    if len(records) != n_jobs or any(r.get("status") != "finished" for r in records):
        sys.exit(f"error: {len(records)} of {n_jobs} jobs finished in {sweep_dir}")
    return {
        "sum_tok_s": sum(r["tokens_per_sec"] for r in records),
        "per_job": sum(r["tokens_per_sec"] for r in records) / n_jobs,
        "wall_tok_s": n_jobs * epochs * TOKENS_PER_EPOCH / wall,
        "wall": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", default="1,4,8,16")
    parser.add_argument("--threads", default="1", help="torch CPU threads per job (list)")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--workdir", type=Path, default=Path("outputs/bench_jobs"))
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    extra = argv[split + 1 :]
    print(
        f"{args.epochs} epochs a job ({args.epochs * TOKENS_PER_EPOCH:,} tokens); "
        f"overrides: {' '.join(extra) or 'none'}\n"
    )
    print(
        "| jobs | threads/job | sum of jobs' tok/s | per job tok/s | per job vs 1 job "
        "| sweep tok/s (wall) | sweep wall s |"
    )
    print("|---|---|---|---|---|---|---|")
    alone = None
    for threads in args.threads.split(","):
        for n_jobs in map(int, args.jobs.split(",")):
            row = sweep(n_jobs, threads, args.epochs, args.workdir, extra)
            alone = alone or row["per_job"]
            print(
                f"| {n_jobs} | {threads} | {row['sum_tok_s']:,.0f} | {row['per_job']:,.0f} | "
                f"{row['per_job'] / alone:.2f} | {row['wall_tok_s']:,.0f} | "
                f"{row['wall']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
