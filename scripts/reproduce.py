"""Reproduce one of the study's published tables end to end: run its sweep (resumably: runs
already finished in the pool are skipped), then write results/<table>.md beside the
published figures, and a PNG plot.

    python scripts/reproduce.py table12                      # 20 seeds, the study's count
    python scripts/reproduce.py table12 --seeds 0-4          # 5 seeds
    python scripts/reproduce.py table16 --seeds 0 -- model.num_hiddens=32,64
    python scripts/reproduce.py table12 --launcher joblib    # jobs in parallel processes
    python scripts/reproduce.py table12 --no-run             # only rewrite the table
    python scripts/reproduce.py table18                      # a view: tables 12, 16, 17
    python scripts/reproduce.py table12 --curves             # + perplexity by epoch (figure 27)

Anything after `--` goes to the sweep as Hydra overrides (and selects the entries' runs:
`trainer.max_epochs=20` makes and reads 20-epoch runs). The published figures live in
results/published.yaml; the runs in outputs/reproduce/ (--pool), one directory per setting
and seed; an entry's table entry averages every finished run of it in the pool. The pool is
not kept in git: results/runs.csv (--ledger) is, one line per completed run, restored into
the pool before a sweep (so a table continues on another machine) and updated after it.
"""

import argparse
import subprocess
import sys
from pathlib import Path

from rnnlab.tables import curves, ledger, reference, report, study

# how a run executes, not what it computes (model.mode: the minimal cells' scan or loop,
# equal to 1e-10 in float64)
RUN_ONLY = (
    "trainer.num_threads",
    "trainer.allocator",
    "hydra/launcher",
    "hydra.launcher",
    "trainer.progress_bar",
    "model.mode",
)


def seed_override(text: str) -> str:
    """ "0-19" → "seed=range(0,20)", "0,3" → "seed=0,3", "5" → "seed=5"."""
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-"))
            if last < first:
                raise ValueError
            return f"seed=range({first},{last + 1})"
        return "seed=" + ",".join(str(int(part)) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds {text!r} is not a range like 0-19 or a list like 0,3,5"
        ) from None


def sweep(preset: str, seeds: str, pool: Path, launcher: str | None, extra: list[str]) -> int:
    """Run the preset's sweep into the pool; finished runs are skipped (skip_finished)."""
    command = [
        sys.executable,
        "-m",
        "rnnlab.train",
        "-m",
        f"experiment={preset}",
        seeds,
        f"hydra.sweep.dir={pool}",
        *extra,
    ]
    if launcher:
        command.append(f"hydra/launcher={launcher}")
    print("running:", " ".join(command), file=sys.stderr, flush=True)
    return subprocess.run(command).returncode


def selecting(overrides: list[str], entry_keys=()) -> list[str]:
    """The overrides that change what every entry trains (say trainer.max_epochs=20), so the
    table reads those runs: not sweeps (`key=a,b` narrows the grid), not one value of a key
    the entries differ in (`model.num_hiddens=1024` runs that entry only), not seeds, and
    not settings that only change how a run executes (threads, launcher)."""
    return [
        o
        for o in overrides
        if not o.startswith((*RUN_ONLY, "seed="))
        and "," not in o
        and "(" not in o
        and o.split("=", 1)[0].lstrip("+~") not in entry_keys
    ]


def write_curves(name: str, spec: dict, identities: list, groups: dict, out: Path) -> None:
    """The entries' perplexity-against-epoch curves: the pool's runs merged into
    `<table>_curves.csv`, then the figure drawn from that file."""
    varying = report.varying_keys(spec["entries"])
    labels = [report.entry_label(entry, varying) for entry in spec["entries"]]
    if len(varying) == 1:  # the legend names the setting once: "32", not "model.num_hiddens=32"
        labels = [label.split("=", 1)[1] for label in labels]
    rows = curves.entry_rows(labels, [groups.get(key, []) for key in identities])
    merged = curves.update(out / f"{name}_curves.csv", rows)
    legend = varying[0] if len(varying) == 1 else ""
    curves.plot(f"{name}: {spec['title']}", merged, labels, out / f"{name}_curves.png", legend)
    print(f"wrote {out / f'{name}_curves.csv'} ({len(rows)} rows from the pool)", file=sys.stderr)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], epilog="after --: Hydra overrides for the sweep"
    )
    parser.add_argument("table", help="table9, table10, table12..table20 (results/published.yaml)")
    parser.add_argument(
        "--seeds",
        type=seed_override,
        default="0-19",
        help="seeds to run: 0-19 (default) or a list 0,3,5",
    )
    parser.add_argument("--launcher", help="a Hydra launcher (joblib: parallel processes)")
    parser.add_argument(
        "--pool",
        type=Path,
        default=Path("outputs/reproduce"),
        help="where the runs live (default outputs/reproduce)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("results"), help="where the table goes (default results/)"
    )
    parser.add_argument(
        "--ledger",
        type=Path,
        default=Path("results/runs.csv"),
        help="the per-run record kept in git (default results/runs.csv): "
        "restored into the pool before the sweep, updated after it",
    )
    parser.add_argument(
        "--reference",
        type=Path,
        default=reference.REFERENCE,
        help="d2l's own code on the same cells (scripts/d2l_column.py; default "
        "results/d2l_reference.jsonl): the table's d2l column",
    )
    parser.add_argument("--no-run", action="store_true", help="only write the table")
    parser.add_argument("--no-plot", action="store_true", help="no PNG beside the table")
    parser.add_argument(
        "--curves",
        action="store_true",
        help="also perplexity against epoch: the pool's curves into <table>_curves.csv, "
        "drawn as <table>_curves.png",
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    args.overrides = argv[split + 1 :]  # after --: Hydra overrides for the sweep

    published = study.load_published()
    if args.table not in published:
        print(f"error: {args.table!r} is not one of: {', '.join(published)}", file=sys.stderr)
        return 2
    spec = published[args.table]
    sources = spec.get("views", [args.table])
    restored = ledger.restore(args.ledger, args.pool)
    if restored:
        print(
            f"restored {restored} recorded runs from {args.ledger} into {args.pool}",
            file=sys.stderr,
        )
    if not args.no_run:
        for source in sources:
            if (
                sweep(
                    published[source]["preset"],
                    args.seeds,
                    args.pool,
                    args.launcher,
                    args.overrides,
                )
                != 0
            ):
                print(
                    f"error: the sweep of {source} failed; its runs so far are in "
                    f"{args.pool} (rerun to continue)",
                    file=sys.stderr,
                )
                return 1
    groups = study.pool_runs(args.pool)
    ledger.export(groups, args.ledger)
    entry_keys = {
        key for source in sources for key in report.varying_keys(published[source]["entries"])
    }
    extra = selecting(args.overrides, entry_keys)
    args.out.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python scripts/reproduce.py", *argv])
    path = args.out / f"{args.table}.md"
    if "views" in spec:
        path.write_text(report.view_markdown(args.table, spec, published, groups, command, extra))
    else:
        identities = study.entry_identities(spec["preset"], spec["entries"], extra)
        runs = study.collect(groups, identities)
        records = reference.load(args.reference)
        references = [
            reference.matching(records, dict(zip(study.IDENTITY_KEYS, key, strict=True)))
            for key in identities
        ]
        unigram = None
        if any("failed_fraction" in entry for entry in spec["entries"]):
            unigram = study.unigram_perplexity(spec["preset"])
        path.write_text(report.markdown(args.table, spec, runs, command, references, unigram))
        if not args.no_plot:
            report.plot(args.table, spec, runs, args.out / f"{args.table}.png")
        if args.curves:
            write_curves(args.table, spec, identities, groups, args.out)
    print(path.read_text())
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
