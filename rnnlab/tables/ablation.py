"""Tables and plots of a sweep, read back from its run directories (scripts/ablation_table.py).

Each run directory of a multirun holds `.hydra/overrides.yaml` (what the job changed),
`metrics.json` (its status) and its curves (every scalar per epoch: metrics.csv, or the
TensorBoard events of a run without it; `rnnlab.loggers.read_curves`). A table cell
gathers the runs that share their row and column values, whatever their seed, and shows
mean ± sample standard deviation (n - 1) of each run's final value with the run count;
diverged, failed and unfinished runs are counted in the cell, never averaged in.
"""

import csv
import io
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf

from rnnlab.loggers import read_curves
from rnnlab.run.records import read_metrics
from rnnlab.tables.uncertainty import mean_interval

DEFAULT_METRICS = ["train_perplexity", "val_perplexity", "train_tokens_per_sec"]
REPEAT_KEYS = {"seed"}  # what a cell averages over
NOT_FINISHED = ("diverged", "failed", "incomplete")


@dataclass
class Run:
    """One job of a sweep: its swept values (override key → value as written) and results."""

    path: Path
    params: dict[str, str]
    status: str  # finished | diverged | failed | incomplete (no metrics.json yet)
    scalars: dict[str, float] = field(default_factory=dict)  # tag → value at the last step
    record: dict = field(default_factory=dict)  # metrics.json

    def value(self, metric: str) -> float | None:
        """`metric` as a metrics.json key (`test_sacrebleu`, `best_val_perplexity`: the
        best epoch's, what best.pt keeps) or a logged tag (its last step's value)."""
        value = self.record.get(metric)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return self.scalars.get(metric_tag(metric))


def available_metrics(runs: list[Run]) -> list[str]:
    """Every name `Run.value` answers for some run: metrics.json's numeric keys and the
    logged tags (as keys: `val/perplexity` → `val_perplexity`)."""
    names = {
        key
        for run in runs
        for key, value in run.record.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    names |= {tag.replace("/", "_") for run in runs for tag in run.scalars}
    return sorted(names)


def unknown_metrics(runs: list[Run], metrics: list[str]) -> list[str]:
    known = set(available_metrics(runs))
    tags = {tag for run in runs for tag in run.scalars}
    return [m for m in metrics if m not in known and metric_tag(m) not in tags and m not in tags]


def default_metrics(runs: list[Run]) -> list[str]:
    """The study's three for language models; for another task its objective (last and best
    epoch), its test metrics and the training speed."""
    records = [run.record for run in runs if run.record.get("objective")]
    if not records or all(record.get("task") == "lm" for record in records):
        return DEFAULT_METRICS
    objective = records[0]["objective"]
    tests = sorted(
        {
            key
            for record in records
            for key, value in record.items()
            if key.startswith("test_") and not isinstance(value, str)
        }
    )  # signatures
    return [objective, f"best_{objective}", *tests, "tokens_per_sec"]


def metric_tag(name: str) -> str:
    """ "val_perplexity" → "val/perplexity" (the logged tag); tags pass unchanged."""
    return name if "/" in name else name.replace("_", "/", 1)


def final_scalars(run_dir: Path) -> dict[str, float]:
    """The last-step value of every scalar tag the run logged."""
    return {tag: curve[-1][1] for tag, curve in read_curves(run_dir).items() if curve}


def load_run(run_dir: Path) -> Run:
    overrides = OmegaConf.to_container(OmegaConf.load(run_dir / ".hydra" / "overrides.yaml"))
    params = dict(item.lstrip("+~").split("=", 1) for item in overrides if "=" in item)
    metrics = read_metrics(run_dir) or {}
    if "model" not in params:  # a preset's model, not swept: still the table's row label
        params["model"] = metrics.get("model") or model_choice(run_dir)
    return Run(
        run_dir, params, metrics.get("status", "incomplete"), final_scalars(run_dir), metrics
    )


def model_choice(run_dir: Path) -> str:
    hydra_file = run_dir / ".hydra" / "hydra.yaml"
    if not hydra_file.is_file():
        return "?"
    return str(OmegaConf.load(hydra_file).hydra.runtime.choices.get("model", "?"))


def job_number(run_dir: Path) -> tuple:
    head = run_dir.name.split("_", 1)[0]
    return (int(head), "") if head.isdigit() else (math.inf, run_dir.name)


def load_sweep(sweep_dir: str | Path) -> list[Run]:
    """Every run under `sweep_dir` (a directory with `.hydra/overrides.yaml`), in job order."""
    run_dirs = [path.parent.parent for path in Path(sweep_dir).rglob(".hydra/overrides.yaml")]
    return [load_run(run_dir) for run_dir in sorted(run_dirs, key=job_number)]


def ordered_values(runs: list[Run], key: str) -> list[str]:
    """The values `key` takes: numerically sorted when all are numbers, else as first seen."""
    values = list(dict.fromkeys(run.params.get(key, "") for run in runs))
    try:
        return sorted(values, key=float)
    except ValueError:
        return values


def varying_keys(runs: list[Run]) -> list[str]:
    """Swept keys with more than one value, in the order the jobs name them (seed excluded)."""
    keys = dict.fromkeys(key for run in runs for key in run.params)
    return [key for key in keys if key not in REPEAT_KEYS and len(ordered_values(runs, key)) > 1]


def default_layout(runs: list[Run]) -> tuple[list[str], list[str]]:
    """As in the published tables: models as rows, the swept parameter as columns."""
    varying = [key for key in varying_keys(runs) if key != "model"]
    cols = varying[-1:]
    return ["model"] + [key for key in varying if key not in cols], cols


@dataclass
class TableCell:
    """One cell of a table (not an RNN cell): the runs that share a row and a column."""

    values: list[float] = field(default_factory=list)  # final values of finished runs
    counts: dict[str, int] = field(default_factory=dict)  # diverged / failed / incomplete

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        return statistics.stdev(self.values) if len(self.values) > 1 else None


def table(runs: list[Run], metric: str, rows: list[str], cols: list[str]) -> dict:
    """{(row values, col values): TableCell} for one metric."""
    cells = {}
    for run in runs:
        key = (
            tuple(run.params.get(k, "") for k in rows),
            tuple(run.params.get(k, "") for k in cols),
        )
        cell = cells.setdefault(key, TableCell())
        if run.status == "finished" and (value := run.value(metric)) is not None:
            cell.values.append(value)
        elif run.status in NOT_FINISHED:
            cell.counts[run.status] = cell.counts.get(run.status, 0) + 1
    return cells


def number_format(value: float) -> str:
    """Two decimals for perplexities, whole numbers with separators for tokens/sec."""
    return ",.0f" if abs(value) >= 100 else ".2f"


def format_cell(cell: TableCell | None) -> str:
    """ "5.25 ± 0.35 (n=2)", "4.00 (n=1, 1 diverged)", "diverged (n=2)"."""
    if cell is None:
        return ""
    others = [f"{count} {status}" for status, count in cell.counts.items()]
    if not cell.values:
        return ", ".join(f"{status} (n={count})" for status, count in cell.counts.items())
    spec = number_format(cell.mean)
    text = format(cell.mean, spec)
    if cell.std is not None:
        text += f" ± {format(cell.std, spec)}"
    return f"{text} ({', '.join([f'n={len(cell.values)}', *others])})"


def axis_values(runs: list[Run], keys: list[str]) -> list[tuple]:
    """The value combinations of `keys` that occur, ordered by each key's value order."""
    present = {tuple(run.params.get(k, "") for k in keys) for run in runs}
    orders = [ordered_values(runs, k) for k in keys]
    return sorted(
        present, key=lambda combo: [order.index(v) for order, v in zip(orders, combo, strict=True)]
    )


# Which published figure (results/published.yaml) a metric of ours is compared with.
PUBLISHED_FIGURE = {
    "train_perplexity": "perplexity",
    "train_tokens_per_sec": "tokens_per_sec",
    "tokens_per_sec": "tokens_per_sec",
}


def published_value(published: list[dict], metric: str, keys: list[str], values: tuple):
    """The published figure of `metric` for the table cell whose `keys` take `values`: that
    of the first published entry that names no other value for any of those keys; None if
    none does."""
    figure = PUBLISHED_FIGURE.get(metric.replace("/", "_", 1))
    for entry in published if figure else []:
        if all(str(entry[k]) == v for k, v in zip(keys, values, strict=True) if k in entry):
            return entry.get(figure)
    return None


def markdown_table(
    runs: list[Run],
    metric: str,
    rows: list[str],
    cols: list[str],
    published: list[dict] | None = None,
) -> str:
    """One metric as a Markdown table; with `published` (a table's cells from
    results/published.yaml), each row is followed by the study's figures for it."""
    cells = table(runs, metric, rows, cols)
    row_values, col_values = axis_values(runs, rows), axis_values(runs, cols)
    corner = ", ".join(rows) + (" \\ " + ", ".join(cols) if cols else "")
    header = [corner] + [", ".join(combo) or "all" for combo in col_values]
    lines = [
        f"### {metric}: mean ± std over seeds (n: runs)",
        "",
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
    ]
    for row in row_values:
        line = [", ".join(row)] + [format_cell(cells.get((row, col))) for col in col_values]
        lines.append("| " + " | ".join(line) + " |")
        figures = [
            published_value(published or [], metric, rows + cols, row + col) for col in col_values
        ]
        if any(figure is not None for figure in figures):
            line = [", ".join(row) + " (published)"] + [
                "" if figure is None else format(figure, number_format(figure))
                for figure in figures
            ]
            lines.append("| " + " | ".join(line) + " |")
    return "\n".join(lines) + "\n"


def csv_table(runs: list[Run], metrics: list[str], rows: list[str], cols: list[str]) -> str:
    """Long format: one line per metric and cell, with mean, std, the 95% t interval for the
    mean (empty below two runs), n and the other counts."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["metric", *rows, *cols, "mean", "std", "ci95_low", "ci95_high", "n", *NOT_FINISHED]
    )
    for metric in metrics:
        cells = table(runs, metric, rows, cols)
        for row in axis_values(runs, rows):
            for col in axis_values(runs, cols):
                cell = cells.get((row, col))
                if cell is not None:
                    writer.writerow(
                        [
                            metric,
                            *row,
                            *col,
                            cell.mean,
                            cell.std,
                            *(mean_interval(cell.values) or (None, None)),
                            len(cell.values),
                            *(cell.counts.get(status, 0) for status in NOT_FINISHED),
                        ]
                    )
    return out.getvalue()


def plot(runs: list[Run], metrics: list[str], rows: list[str], cols: list[str], path) -> None:
    """One panel per metric: a line per row over the column values, error bars = std.
    The x axis is logarithmic when its values are positive numbers spanning 8x or more
    (num_hiddens 32..1024, batch_size 16..256, lr 0.01..1), the y axis when the means span
    20x or more."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    col_values = axis_values(runs, cols)
    labels = [", ".join(combo) or "all" for combo in col_values]
    try:
        xs = [float(label) for label in labels]
        log_x = min(xs) > 0 and max(xs) / min(xs) >= 8
    except ValueError:
        xs, log_x = list(range(len(labels))), False
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
    for axis, metric in zip(axes[0], metrics, strict=True):
        cells, means = table(runs, metric, rows, cols), []
        for row in axis_values(runs, rows):
            points = [
                (x, cells[(row, col)])
                for x, col in zip(xs, col_values, strict=True)
                if (row, col) in cells and cells[(row, col)].values
            ]
            bars = axis.errorbar(
                [x for x, _ in points],
                [c.mean for _, c in points],
                yerr=[c.std or 0 for _, c in points],
                marker="o",
                capsize=3,
                label=", ".join(row),
            )
            for x, cell in points:  # each seed's run, and how many runs the mean is over
                axis.scatter(
                    [x] * len(cell.values), cell.values, s=10, alpha=0.4, color=bars[0].get_color()
                )
                axis.annotate(
                    f"n={len(cell.values)}",
                    (x, cell.mean),
                    fontsize=7,
                    textcoords="offset points",
                    xytext=(4, 4),
                )
            means += [c.mean for _, c in points]
        if means and min(means) > 0 and max(means) / min(means) >= 20:
            axis.set_yscale("log")  # tokens/sec across sizes spans orders of magnitude
        if log_x:
            axis.set_xscale("log")
        axis.set_xticks(xs, labels)
        axis.minorticks_off()
        axis.set_xlabel(", ".join(cols))
        axis.set_ylabel(metric)
        axis.set_title(f"{metric} (mean ± std over seeds; dots: runs)")
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
