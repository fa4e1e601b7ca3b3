"""The published ablation study beside our runs of it (scripts/reproduce.py).

`results/published.yaml` holds the study's figures, one item per table: its preset in
`conf/experiment/` and its entries, each the overrides that make it on that preset. Our runs
of every table live in one pool directory (`hydra.sweep.dir` of `ablation_baseline`), one
run directory per setting and seed, so tables that share an entry share its runs. An entry's
runs are found by what they trained, not by their directory names: the pool's
`.hydra/config.yaml` files are matched against the entry's composed config on the keys in
`IDENTITY_KEYS`.
"""

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from rnnlab.config import CONF_DIR
from rnnlab.config.run_config import register_schemas
from rnnlab.run.records import read_metrics
from rnnlab.tables.ablation import TableCell

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "results" / "published.yaml"

# What makes two runs the same experiment (the seed aside).
IDENTITY_KEYS = (
    "model.cell",
    "model.impl",
    "model.num_hiddens",
    "model.num_layers",
    "model.init",
    "model.dropout",
    "model.embed_size",
    "data.token",
    "data.preprocess",
    "data.max_tokens",
    "data.sampling",
    "data.batch_size",
    "data.num_steps",
    "optim._target_",
    "optim.lr",
    "trainer.max_epochs",
    "trainer.grad_clip",
)


def load_published(path: Path = PUBLISHED) -> dict:
    """{"table12": {"title", "preset", "entries": [{overrides..., perplexity, tokens_per_sec}]},
    "table18": {"title", "views": [...], "metric"}, ...}"""
    return yaml.safe_load(Path(path).read_text())["tables"]


def entry_overrides(entry: dict) -> dict:
    """The overrides of a published entry (its figures removed)."""
    return {k: v for k, v in entry.items() if k not in ("perplexity", "tokens_per_sec")}


def identity(cfg) -> tuple:
    """The values of `IDENTITY_KEYS` in a run config. `model.init=d2l` only changes scratch
    entries (d2l initialises its nn models as PyTorch does), so it reads "default" for nn."""
    values = {key: OmegaConf.select(cfg, key, default=None) for key in IDENTITY_KEYS}
    if values["model.init"] is None or (
        values["model.impl"] == "nn" and values["model.init"] == "d2l"
    ):
        values["model.init"] = "default"
    return tuple(str(values[key]) for key in IDENTITY_KEYS)


def entry_identities(preset: str, entries: list[dict], extra: list[str] = ()) -> list[tuple]:
    """Each entry's identity: its config composed as `experiment=PRESET CELL EXTRA` would."""
    register_schemas()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return [
            identity(
                compose(
                    config_name="config",
                    overrides=[
                        f"experiment={preset}",
                        *(f"{k}={v}" for k, v in entry_overrides(c).items()),
                        *extra,
                    ],
                )
            )
            for c in entries
        ]


@dataclass
class EntryRuns:
    """Our runs of one published entry: metrics.json of each finished run, and the count of
    runs that diverged, failed or have not finished."""

    finished: list[dict] = field(default_factory=list)
    others: dict[str, int] = field(default_factory=dict)

    def values(self, key: str) -> list[float]:
        return [m[key] for m in self.finished if isinstance(m.get(key), int | float)]


def pool_runs(pool: Path) -> dict[tuple, list[tuple[Path, dict | None]]]:
    """Run directories under `pool` grouped by identity: {identity: [(dir, metrics)]}."""
    groups: dict[tuple, list] = {}
    for config_file in sorted(Path(pool).glob("*/.hydra/config.yaml")):
        run_dir = config_file.parent.parent
        config = OmegaConf.load(config_file)
        metrics = read_metrics(run_dir)
        if metrics is not None:  # seed and threads: for the ledger and the provenance
            metrics["seed"] = OmegaConf.select(config, "seed")
            metrics["num_threads"] = OmegaConf.select(config, "trainer.num_threads")
        groups.setdefault(identity(config), []).append((run_dir, metrics))
    return groups


def collect(groups: dict, identities: list[tuple]) -> list[EntryRuns]:
    """The runs of each entry (given by its identity) among `groups` (`pool_runs`)."""
    entries = []
    for key in identities:
        runs = EntryRuns()
        for _, metrics in groups.get(key, []):
            status = (metrics or {}).get("status", "unfinished")
            if status == "finished":
                runs.finished.append(metrics)
            else:
                runs.others[status] = runs.others.get(status, 0) + 1
        entries.append(runs)
    return entries


def mean_std(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (n - 1); None where undefined."""
    cell = TableCell(values=list(values))
    return cell.mean, cell.std


def fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}f}"


def fmt_mean_std(values: list[float]) -> str:
    mean, std = mean_std(values)
    if mean is None:
        return "–"
    return fmt(mean) + ("" if std is None else f" ± {fmt(std)}")


def ratio(ours: float | None, published: float | None) -> str:
    return "–" if ours is None or not published else f"{ours / published:.2f}"


def entry_label(entry: dict, varying: list[str]) -> str:
    return ", ".join(f"{k}={entry[k]}" for k in varying) or "baseline"


def varying_keys(entries: list[dict]) -> list[str]:
    """Override keys whose value differs between a table's entries."""
    keys = dict.fromkeys(k for c in entries for k in entry_overrides(c))
    return [k for k in keys if len({str(c.get(k)) for c in entries}) > 1]


def table_rows(entries: list[dict], runs: list[EntryRuns]) -> list[list[str]]:
    """One Markdown row per entry: published and ours side by side."""
    varying, rows = varying_keys(entries), []
    for entry, found in zip(entries, runs, strict=True):
        train, speed = found.values("train_perplexity"), found.values("tokens_per_sec")
        others = "".join(f", {n} {status}" for status, n in found.others.items())
        rows.append(
            [
                entry_label(entry, varying),
                fmt(entry["perplexity"]),
                fmt_mean_std(train),
                ratio(mean_std(train)[0], entry["perplexity"]),
                fmt_mean_std(found.values("val_perplexity")),
                fmt_mean_std(found.values("best_val_perplexity")),
                fmt(entry["tokens_per_sec"]),
                fmt_mean_std(speed),
                ratio(mean_std(speed)[0], entry["tokens_per_sec"]),
                f"{len(found.finished)}{others}",
            ]
        )
    return rows


HEADER = [
    "entry",
    "published ppl",
    "ours: train ppl",
    "ours / published",
    "held-out ppl (last epoch)",
    "held-out ppl (best checked epoch)",
    "published tok/s",
    "ours: tok/s",
    "ours / published",
    "runs (n)",
]


def markdown(name: str, spec: dict, runs: list[EntryRuns], command: str) -> str:
    """results/<name>.md: what was run, where, and the table."""
    rows = table_rows(spec["entries"], runs)
    lines = [
        f"# {name.replace('table', 'Table ')}: {spec['title']}",
        "",
        *provenance(command, runs),
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + " --- |" * len(HEADER),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]
    return "\n".join(lines)


def provenance(command: str, runs: list[EntryRuns]) -> list[str]:
    """Command, machine, date, what an entry's figures are, and the compute the table cost."""
    import datetime

    import torch

    finished = [m for entry in runs for m in entry.finished]
    seconds = sum(m.get("wall_seconds", 0.0) for m in finished)
    threads = sorted({str(m.get("num_threads") or "default") for m in finished})
    return [
        f"- command: `{command}`",
        f"- machine: {cpu_name()}, {os.cpu_count()} cores; torch {torch.__version__}, "
        f"Python {platform.python_version()}; torch threads per run: {', '.join(threads)}",
        f"- written: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC from the runs "
        f"in the pool; {len(finished)} finished runs, {seconds / 60:.1f} min of training "
        f"jobs in all",
        "- published: the study's last-epoch training perplexity and tokens/sec (author's "
        "CPU), mean of 20 runs; ours: mean ± std over the runs in the last column; "
        "held-out: the last 10% of the book (never trained on), scored every 50 epochs "
        "and after the last",
    ]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def view_markdown(
    name: str, spec: dict, published: dict, groups: dict, command: str, extra=()
) -> str:
    """Tables 18 and 19: one metric of tables 12, 16 and 17 side by side, a row per model
    and a column per num_hiddens, each entry "ours (published)"."""
    metric = spec["metric"]
    ours_key = "train_perplexity" if metric == "perplexity" else "tokens_per_sec"
    lines = [
        f"# {name.replace('table', 'Table ')}: {spec['title']}",
        "",
        f"- command: `{command}`",
        "",
    ]
    header = None
    for source in spec["views"]:
        table = published[source]
        runs = collect(groups, entry_identities(table["preset"], table["entries"], list(extra)))
        row = [str(table["entries"][0]["model"])]
        for entry, found in zip(table["entries"], runs, strict=True):
            mean = mean_std(found.values(ours_key))[0]
            row.append(f"{fmt(mean)} ({fmt(entry[metric])})")
        if header is None:
            header = ["model \\ num_hiddens"] + [
                str(c["model.num_hiddens"]) for c in table["entries"]
            ]
            lines += [
                f"Ours (published): {metric}, ours the mean over our runs of "
                f"{', '.join(spec['views'])} (see their files for n and ± std).",
                "",
                "| " + " | ".join(header) + " |",
                "|" + " --- |" * len(header),
            ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def plot(name: str, spec: dict, runs: list[EntryRuns], path: Path) -> None:
    """Published and our training perplexity, and our held-out perplexity, per entry."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    entries, varying = spec["entries"], varying_keys(spec["entries"])
    labels = [
        entry_label(c, varying).split("=")[-1] if len(varying) == 1 else entry_label(c, varying)
        for c in entries
    ]
    xs = list(range(len(entries)))
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.plot(
        xs, [c["perplexity"] or float("nan") for c in entries], "s--", label="published (train)"
    )
    for key, label in (("train_perplexity", "ours: train"), ("val_perplexity", "ours: held-out")):
        stats = [mean_std(found.values(key)) for found in runs]
        axis.errorbar(
            xs,
            [m if m is not None else float("nan") for m, _ in stats],
            yerr=[s or 0 for _, s in stats],
            marker="o",
            capsize=3,
            label=label,
        )
    axis.set_yscale("log")
    axis.set_xticks(xs, labels, rotation=20 if len(varying) > 1 else 0)
    axis.set_xlabel(", ".join(varying))
    axis.set_ylabel("perplexity")
    axis.set_title(f"{name}: {spec['title']}")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
