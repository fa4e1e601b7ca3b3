"""Turn a sweep's run directories into the tables (and plot) of the published ablations.

    python scripts/ablation_table.py outputs/multirun/<date>/<time>
    python scripts/ablation_table.py <sweep-dir> --metric val_perplexity \
        --rows model --cols model.num_hiddens --plot table.png
    python scripts/ablation_table.py <sweep-dir> --csv > table.csv
    python scripts/ablation_table.py <sweep-dir> --published table12   # + the study's figures

Reads each run's metrics.json, TensorBoard events (final value of each scalar) and
`.hydra/overrides.yaml`;
rows and columns default to models × the swept parameter. See rnnlab/tables/ablation.py.
"""

import argparse
import sys
from pathlib import Path

from rnnlab.tables import ablation, study


def keys(text: str) -> list[str]:
    return [key.strip() for key in text.split(",") if key.strip()]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sweep_dir", type=Path, help="a multirun directory (outputs/multirun/...)")
    parser.add_argument(
        "--metric",
        action="append",
        dest="metrics",
        help=f"a metrics.json key (best_val_perplexity: the best epoch's, "
        f"test_sacrebleu, ...) or TensorBoard tag, repeatable (default: "
        f"{', '.join(ablation.DEFAULT_METRICS)}; for seq2seq and "
        f"sentiment their objective, last and best, and test metrics)",
    )
    parser.add_argument("--rows", type=keys, help="comma-separated override keys (default: model)")
    parser.add_argument(
        "--cols", type=keys, help="comma-separated override keys (default: the swept parameter)"
    )
    parser.add_argument("--csv", action="store_true", help="print CSV instead of Markdown")
    parser.add_argument("--plot", type=Path, help="also write a PNG line plot per metric here")
    parser.add_argument(
        "--published",
        metavar="TABLE",
        help="add the study's figures of TABLE (e.g. table12; "
        "results/published.yaml) under each row",
    )
    args = parser.parse_args(argv)

    published = None
    if args.published:
        tables = study.load_published()
        if "entries" not in tables.get(args.published, {}):
            print(
                f"error: --published {args.published!r} is not one of: "
                + ", ".join(name for name, spec in tables.items() if "entries" in spec),
                file=sys.stderr,
            )
            return 2
        published = tables[args.published]["entries"]

    if not args.sweep_dir.is_dir():
        print(f"error: {args.sweep_dir} is not a directory", file=sys.stderr)
        return 2
    runs = ablation.load_sweep(args.sweep_dir)
    if not runs:
        print(f"error: no runs (.hydra/overrides.yaml) under {args.sweep_dir}", file=sys.stderr)
        return 2
    default_rows, default_cols = ablation.default_layout(runs)
    rows = args.rows or default_rows
    # the default columns less what --rows already lays out (--rows lm_awd_without over a
    # sweep of lm_awd_without: one column, not a diagonal)
    cols = args.cols or [key for key in default_cols if key not in rows]
    metrics = args.metrics or ablation.default_metrics(runs)
    if unknown := ablation.unknown_metrics(runs, metrics):
        print(
            f"error: --metric {', '.join(unknown)}: no run of {args.sweep_dir} has it; "
            f"available: {', '.join(ablation.available_metrics(runs))}",
            file=sys.stderr,
        )
        return 2
    if args.csv:
        print(ablation.csv_table(runs, metrics, rows, cols), end="")
    else:
        counts = {}
        for run in runs:
            counts[run.status] = counts.get(run.status, 0) + 1
        print(
            f"{len(runs)} runs in {args.sweep_dir}: "
            + ", ".join(f"{count} {status}" for status, count in counts.items())
            + "\n"
        )
        print("\n".join(ablation.markdown_table(runs, m, rows, cols, published) for m in metrics))
    if args.plot:
        try:
            ablation.plot(runs, metrics, rows, cols, args.plot)
        except ModuleNotFoundError as error:
            print(
                f"error: --plot needs matplotlib ({error}); install it with "
                f"pip install -e '.[sweep]'",
                file=sys.stderr,
            )
            return 2
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
