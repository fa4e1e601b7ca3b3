"""The d2l reference column of the tables: scripts/d2l_reference.py over the cells below,
`--seeds` each, cheapest cell first, one run at a time, into results/d2l_reference.jsonl.

    python scripts/d2l_column.py --seeds 0-2                 # resumable: done runs skipped
    python scripts/d2l_column.py --seeds 0-2 --cells lstm_2x32,rnn_h256
    python scripts/d2l_column.py --seeds 0-2 --dry-run       # print what would run
    python scripts/d2l_column.py --summary > results/d2l_reference.md   # the records, per cell

Each run is `flock /tmp/cpu.lock taskset -c 0 .venv-d2l/bin/python scripts/d2l_reference.py
... --threads 1` (--prefix changes the part before the interpreter), appended to --out as
soon as it finishes, so a cut grid continues where it stopped. Standard library only: it
runs under any Python.
"""

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# name: d2l_reference.py arguments; cheapest first (one thread, 500 epochs).
CELLS = {
    "lstm_2x32": "--model lstm --num-hiddens 32 --num-layers 2",
    "rnn_h256": "--model rnn --num-hiddens 256",
    "rnn_scratch_random": "--model rnn_scratch --sampling random",
    "lstm_h256": "--model lstm --num-hiddens 256",
    "rnn_scratch_sequential": "--model rnn_scratch",
    "gru_h256": "--model gru --num-hiddens 256",
    "rnn_random": "--model rnn --sampling random",
    "rnn_sequential": "--model rnn",
}
KEYS = ("model", "num_hiddens", "num_layers", "sampling", "seed", "grad_clip", "epochs")


def seeds(text: str) -> list[int]:
    if "-" in text:
        first, last = (int(part) for part in text.split("-"))
        return list(range(first, last + 1))
    return [int(part) for part in text.split(",")]


def done(path: Path) -> set[tuple]:
    """(model, num_hiddens, num_layers, sampling, seed, grad_clip, epochs) of recorded runs."""
    if not path.is_file():
        return set()
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {tuple(str(r[k]) for k in KEYS) for r in records}


def key_of(arguments: list[str], seed: int, epochs: int, clip: bool) -> tuple:
    values = {"num_hiddens": "512", "num_layers": "1", "sampling": "sequential"}
    for flag, value in zip(arguments[::2], arguments[1::2], strict=True):
        values[flag.removeprefix("--").replace("-", "_")] = value
    return tuple(
        str(v)
        for v in (
            values["model"],
            values["num_hiddens"],
            values["num_layers"],
            values["sampling"],
            seed,
            clip,
            epochs,
        )
    )


DEFAULT_PREFIX = "flock /tmp/cpu.lock taskset -c 0"  # one run at a time on core 0


def summary(records: list[dict]) -> str:
    """The records as Markdown: one row per cell, mean ± std over its seeds, the machine."""
    import statistics

    def mean_std(values: list[float]) -> str:
        if not values:
            return "–"
        text = f"{statistics.fmean(values):.3f}"
        return text + (f" ± {statistics.stdev(values):.3f}" if len(values) > 1 else "")

    cells: dict[tuple, list[dict]] = {}
    for record in records:
        cells.setdefault(tuple(str(record[k]) for k in KEYS if k != "seed"), []).append(record)
    cpus = sorted({r["cpu"] for r in records})
    lines = [
        "# d2l 0.17.6's own code on the study's cells",
        "",
        "- command: `python scripts/d2l_column.py [--cells ...] --seeds ...` (each row's "
        "seeds below; each run: `PREFIX .venv-d2l/bin/python scripts/d2l_reference.py ... "
        f"--threads 1`, PREFIX being --prefix, by default `{DEFAULT_PREFIX}`), "
        "then `python scripts/d2l_column.py --summary`",
        f"- machine: {', '.join(cpus)}; torch {records[0]['torch'] if records else '–'}, "
        "one thread a run, one run at a time on a core",
        f"- written: {min(r['written'] for r in records)} to {max(r['written'] for r in records)}"
        if records
        else "- written: –",
        f"- {len(records)} runs, {sum(r['wall_seconds'] for r in records) / 60:.1f} min of "
        "training in all; train ppl: the last epoch's (train_ch8's own figure); held-out: "
        "rnnlab's scoring of the trained net on the last 10% of the book",
        "",
        "| model | num_hiddens | num_layers | sampling | clip | epochs | seeds | train ppl "
        "(each seed) | train ppl | held-out ppl | tok/s | min a run |",
        "|" + " --- |" * 12,
    ]
    for key, runs in cells.items():
        runs = sorted(runs, key=lambda r: r["seed"])
        done = [r for r in runs if r["status"] == "finished"]
        train = [r["train_perplexity"] for r in done]
        each = ", ".join(f"{v:.3f}" for v in train) + (
            f" ({len(runs) - len(done)} diverged)" if len(done) < len(runs) else ""
        )
        model, hiddens, layers, sampling, clip, epochs = key
        lines.append(
            f"| {model} | {hiddens} | {layers} | {sampling} | {clip} | {epochs} | "
            f"{','.join(str(r['seed']) for r in runs)} | {each} | {mean_std(train)} | "
            f"{mean_std([r['val_perplexity'] for r in done])} | "
            f"{statistics.fmean(r['tokens_per_sec'] for r in runs):,.0f} | "
            f"{statistics.fmean(r['wall_seconds'] for r in runs) / 60:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=seeds, default=seeds("0-2"))
    p.add_argument("--cells", help="comma-separated names (default: all): " + ", ".join(CELLS))
    p.add_argument("--epochs", type=int, default=500)
    p.add_argument("--out", type=Path, default=ROOT / "results" / "d2l_reference.jsonl")
    p.add_argument("--python", default=str(ROOT / ".venv-d2l" / "bin" / "python"))
    p.add_argument("--prefix", default=DEFAULT_PREFIX)
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--summary", action="store_true", help="print --out as Markdown, run nothing")
    args = p.parse_args(argv)
    if args.summary:
        lines = args.out.read_text().splitlines() if args.out.is_file() else []
        print(summary([json.loads(line) for line in lines if line.strip()]), end="")
        return 0
    names = args.cells.split(",") if args.cells else list(CELLS)
    unknown = [n for n in names if n not in CELLS]
    if unknown:
        print(f"error: --cells {','.join(unknown)}: expected some of {', '.join(CELLS)}")
        return 2
    for name in names:
        arguments = CELLS[name].split()
        for seed in args.seeds:
            if key_of(arguments, seed, args.epochs, True) in done(args.out):
                continue
            command = [
                *shlex.split(args.prefix),
                args.python,
                "-W",
                "ignore",
                str(ROOT / "scripts" / "d2l_reference.py"),
                *arguments,
                "--seed",
                str(seed),
                "--epochs",
                str(args.epochs),
                "--threads",
                "1",
                "--out",
                str(args.out),
            ]
            print(" ".join(command), file=sys.stderr, flush=True)
            if not args.dry_run and subprocess.run(command, stdout=subprocess.DEVNULL).returncode:
                print(f"error: {name} seed {seed} failed", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
