"""The d2l reference column of the tables: scripts/d2l_reference.py over the cells below,
`--seeds` each, cheapest cell first, one run at a time, into results/d2l_reference.jsonl.

    python scripts/d2l_column.py --seeds 0-2                 # resumable: done runs skipped
    python scripts/d2l_column.py --seeds 0-2 --cells lstm_2x32,rnn_h256
    python scripts/d2l_column.py --seeds 0-2 --dry-run       # print what would run

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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=seeds, default=seeds("0-2"))
    p.add_argument("--cells", help="comma-separated names (default: all): " + ", ".join(CELLS))
    p.add_argument("--epochs", type=int, default=500)
    p.add_argument("--out", type=Path, default=ROOT / "results" / "d2l_reference.jsonl")
    p.add_argument("--python", default=str(ROOT / ".venv-d2l" / "bin" / "python"))
    p.add_argument("--prefix", default="flock /tmp/cpu.lock taskset -c 0")
    p.add_argument("--dry-run", action="store_true")
    args = p.parse_args(argv)
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
