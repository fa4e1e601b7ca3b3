"""Perplexity against epoch for a table's entries (the study's figure 27), training and
held-out, from the runs' logged curves.

Run directories stay out of git and the ledger keeps final figures only, so the curves are
kept beside the table as `results/<table>_curves.csv`, one line per run and epoch; a later
sweep adds its runs' lines (a run's lines are replaced, never duplicated) and the figure is
drawn from the file, so it can be redrawn without the runs. Runs restored from the ledger
have no curves and add nothing.
"""

import csv
from pathlib import Path

from rnnlab.loggers import read_curves

FIELDS = ("entry", "run", "seed", "epoch", "train_perplexity", "val_perplexity")


def run_rows(entry: str, run_dir: Path, seed) -> list[dict]:
    """One row per logged epoch of a run: its training perplexity, and the held-out one on
    the epochs it was scored (blank on the others)."""
    curves = read_curves(run_dir)
    train = dict(curves.get("train/perplexity", []))
    val = dict(curves.get("val/perplexity", []))
    return [
        {
            "entry": entry,
            "run": run_dir.name,
            "seed": seed,
            "epoch": epoch,
            "train_perplexity": train[epoch],
            "val_perplexity": val.get(epoch, ""),
        }
        for epoch in sorted(train)
    ]


def entry_rows(labels: list[str], runs: list[list[tuple[Path, dict | None]]]) -> list[dict]:
    """The rows of every finished run of each entry; `runs[i]` are entry i's (dir, metrics)
    pairs as `study.pool_runs` groups them."""
    rows = []
    for label, entry_runs in zip(labels, runs, strict=True):
        for run_dir, metrics in entry_runs:
            if (metrics or {}).get("status") == "finished":
                rows += run_rows(label, run_dir, metrics.get("seed"))
    return rows


def read(path: Path) -> list[dict]:
    """The rows of a curves file; none when there is no file yet."""
    if not Path(path).is_file():
        return []
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def update(path: Path, rows: list[dict]) -> list[dict]:
    """Merge `rows` into the curves file: the runs in `rows` replace their earlier lines."""
    fresh = {row["run"] for row in rows}
    kept = [row for row in read(path) if row["run"] not in fresh]
    merged = sorted(
        kept + [{k: str(v) for k, v in row.items()} for row in rows],
        key=lambda r: (r["entry"], r["run"], int(r["epoch"])),
    )
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(merged)
    return merged


def mean_curves(rows: list[dict], key: str, order: list[str]) -> dict[str, tuple[list, list]]:
    """{entry: (epochs, mean of `key` over the entry's runs at each epoch)}, entries in
    `order`; epochs where no run has a value are left out."""
    sums: dict[str, dict[int, list[float]]] = {}
    for row in rows:
        if row[key] != "":
            sums.setdefault(row["entry"], {}).setdefault(int(row["epoch"]), []).append(
                float(row[key])
            )
    curves = {}
    for entry in [e for e in order if e in sums]:
        epochs = sorted(sums[entry])
        curves[entry] = (epochs, [sum(sums[entry][e]) / len(sums[entry][e]) for e in epochs])
    return curves


def plot(title: str, rows: list[dict], order: list[str], path: Path, legend: str = "") -> None:
    """Two panels, training and held-out perplexity against epoch, one line per entry (the
    mean over its runs, n in the legend titled `legend`), log scale with plain numbers."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    runs = {}
    for row in rows:
        runs.setdefault(row["entry"], set()).add(row["run"])
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for axis, key, name in (
        (axes[0], "train_perplexity", "training"),
        (axes[1], "val_perplexity", "held-out (the last 10% of the book)"),
    ):
        for entry, (epochs, values) in mean_curves(rows, key, order).items():
            marker = "o" if key == "val_perplexity" else None
            label = f"{entry} (n={len(runs[entry])})"
            axis.plot(epochs, values, marker=marker, markersize=3, label=label)
        axis.set_yscale("log")
        axis.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.yaxis.set_minor_formatter(NullFormatter())
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("perplexity")
    axes[1].legend(fontsize=8, title=legend or None, title_fontsize=8)
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
