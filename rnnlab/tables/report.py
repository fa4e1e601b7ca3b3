"""The Markdown and the plot of a published table beside our runs of it (study.py finds the
runs; scripts/reproduce.py writes the files): published, d2l's code and ours side by side,
our mean with its 95% interval, held-out perplexity, tokens/sec, and where the runs ran.
"""

import platform
from pathlib import Path

from rnnlab.tables.ablation import TableCell
from rnnlab.tables.study import EntryRuns, collect, entry_identities, entry_overrides
from rnnlab.tables.uncertainty import mean_interval


def mean_std(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (n - 1); None where undefined."""
    cell = TableCell(values=list(values))
    return cell.mean, cell.std


def fmt(value: float | None, digits: int = 2) -> str:
    """ "1.03", "24,702"; past a billion (a run that blew up without clipping) "2.36e+60"."""
    if value is None:
        return "–"
    if abs(value) >= 1e9:
        return f"{value:.2e}"
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


def fmt_interval(values: list[float], published: float | None) -> str:
    """ "[1.02, 1.05]", with " †" when the published figure lies outside; "–" for n < 2."""
    interval = mean_interval(values)
    if interval is None:
        return "–"
    low, high = interval
    outside = published is not None and not low <= published <= high
    return f"[{fmt(low)}, {fmt(high)}]" + (" †" if outside else "")


def fmt_reference(records: list[dict], key: str) -> str:
    """d2l's code: mean ± std (n=...) of `key` over its finished records, with the others."""
    values = [r[key] for r in records if r["status"] == "finished" and r.get(key) is not None]
    others = len(records) - len(values)
    if not records:
        return "–"
    counts = ", ".join([f"n={len(values)}", *([f"{others} diverged"] if others else [])])
    return f"{fmt_mean_std(values)} ({counts})"


def failed(found: EntryRuns, unigram: float) -> tuple[int, int]:
    """(runs that diverged or ended above the unigram perplexity, completed runs)."""
    above = sum(1 for value in found.values("train_perplexity") if value > unigram)
    diverged = found.others.get("diverged", 0)
    return above + diverged, len(found.finished) + diverged


def table_rows(
    entries: list[dict],
    runs: list[EntryRuns],
    references: list[list[dict]],
    unigram: float | None = None,
) -> list[list[str]]:
    """One Markdown row per entry: published, d2l's code and ours side by side (and, with
    `unigram`, the share of runs that failed: see `failed`)."""
    varying, rows = varying_keys(entries), []
    for entry, found, reference in zip(entries, runs, references, strict=True):
        train, speed = found.values("train_perplexity"), found.values("tokens_per_sec")
        others = "".join(f", {n} {status}" for status, n in found.others.items())
        row = [
            entry_label(entry, varying),
            fmt(entry["perplexity"]),
            fmt_reference(reference, "train_perplexity"),
            fmt_mean_std(train),
            fmt_interval(train, entry["perplexity"]),
            ratio(mean_std(train)[0], entry["perplexity"]),
            fmt_mean_std(found.values("val_perplexity")),
            fmt_reference(reference, "val_perplexity"),
            fmt_mean_std(found.values("best_val_perplexity")),
            fmt(entry["tokens_per_sec"]),
            fmt_mean_std(speed),
            ratio(mean_std(speed)[0], entry["tokens_per_sec"]),
            f"{len(found.finished)}{others}",
        ]
        if unigram is not None:
            bad, total = failed(found, unigram)
            share = (
                "–" if entry.get("failed_fraction") is None else f"{entry['failed_fraction']:.0%}"
            )
            row += [share, f"{bad}/{total}" + (f" ({bad / total:.0%})" if total else "")]
        rows.append(row)
    return rows


HEADER = [
    "entry",
    "published ppl",
    "d2l's code: train ppl",
    "ours: train ppl",
    "ours: 95% CI of the mean",
    "ours / published",
    "held-out ppl (last epoch)",
    "d2l's code: held-out ppl",
    "held-out ppl (best checked epoch)",
    "published tok/s",
    "ours: tok/s",
    "ours / published",
    "runs (n)",
]
FAILED_HEADER = ["published: runs failed", "ours: diverged or above unigram"]


def markdown(
    name: str,
    spec: dict,
    runs: list[EntryRuns],
    command: str,
    references: list[list[dict]] | None = None,
    unigram: float | None = None,
) -> str:
    """results/<name>.md: what was run, where, and the table. `references`: each entry's
    d2l records (`reference.matching`); `unigram`: the training text's unigram perplexity,
    for a table whose entries publish a `failed_fraction`."""
    references = references or [[] for _ in runs]
    rows = table_rows(spec["entries"], runs, references, unigram)
    header = HEADER + (FAILED_HEADER if unigram is not None else [])
    lines = [
        f"# {name.replace('table', 'Table ')}: {spec['title']}",
        "",
        *provenance(command, runs),
        *reference_provenance([r for entry in references for r in entry]),
        *(
            [
                f"- failed: a run that diverged or ended above {unigram:.2f}, the unigram "
                "perplexity of the training text"
            ]
            if unigram is not None
            else []
        ),
        "",
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]
    return "\n".join(lines)


def reference_provenance(records: list[dict]) -> list[str]:
    """What the d2l column is and where its runs ran; nothing when it is empty."""
    if not records:
        return []
    cpus = run_cpus(records)
    seconds = sum(r.get("wall_seconds") or 0.0 for r in records)
    return [
        "- d2l's code: d2l 0.17.6's own train_ch8 on the same cell (scripts/d2l_reference.py, "
        f"results/d2l_reference.jsonl), mean ± std (n seeds); ran on {cpus}, one thread, "
        f"{seconds / 60:.1f} min in all; its held-out figure is rnnlab's scoring of d2l's "
        "trained net",
        "- 95% CI: Student t interval for our mean over n seeds; † where the published "
        "figure lies outside it",
    ]


def provenance(command: str, runs: list[EntryRuns]) -> list[str]:
    """Command, the CPUs the runs ran on, date, what an entry's figures are, and the compute
    the table cost."""
    import datetime

    import torch

    finished = [m for entry in runs for m in entry.finished]
    seconds = sum(m.get("wall_seconds", 0.0) for m in finished)
    threads = sorted({str(m.get("num_threads") or "default") for m in finished})
    return [
        f"- command: `{command}`",
        f"- machine: the runs ran on {run_cpus(finished)}; torch threads per run: "
        f"{', '.join(threads)}",
        f"- written: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC from the runs "
        f"in the pool (torch {torch.__version__}, Python {platform.python_version()}); "
        f"{len(finished)} finished runs, {seconds / 60:.1f} min of training jobs in all",
        "- published: the study's last-epoch training perplexity and tokens/sec (author's "
        "CPU), mean of 20 runs; ours: mean ± std over the runs in the last column; "
        "held-out: the last 10% of the book (never trained on), scored every 50 epochs "
        "and after the last",
    ]


def run_cpus(finished: list[dict]) -> str:
    """ "Intel(R) Xeon(R) Processor (12 runs), unrecorded CPU (5 runs)": each CPU model the
    runs' records name, with its count; "no runs" for none."""
    counts: dict[str, int] = {}
    for metrics in finished:
        cpu = metrics.get("cpu") or "unrecorded CPU"
        counts[cpu] = counts.get(cpu, 0) + 1
    return ", ".join(f"{cpu} ({n} run{'s' * (n != 1)})" for cpu, n in counts.items()) or "no runs"


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


def tick_label(entry: dict, varying: list[str]) -> str:
    """An entry's x tick: its varying values, one a line (the axis label names the keys in
    the same order), so that long labels stack instead of being rotated into the plot."""
    return "\n".join(str(entry[k]) for k in varying) or "baseline"


def figure(name: str, spec: dict, runs: list[EntryRuns]):
    """The plot of `plot` as a matplotlib Figure: log perplexity with plain-number ticks
    (1, 2, 5, 10, ...), margins that keep every point and error bar inside the axes, the
    legend below them and a title wrapped to the figure's width."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    entries, varying = spec["entries"], varying_keys(spec["entries"])
    xs = list(range(len(entries)))
    result, axis = plt.subplots(figsize=(7, 4.5), layout="constrained")
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
    axis.margins(x=0.08, y=0.1)
    low, high = axis.get_ylim()  # under a decade: every integer step, so some are labelled
    axis.yaxis.set_major_locator(
        LogLocator(subs=(1.0, 2.0, 5.0) if high / low > 10 else tuple(range(1, 10)))
    )
    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.yaxis.set_minor_formatter(NullFormatter())
    axis.grid(True, which="major", alpha=0.3)
    axis.set_xticks(xs, [tick_label(c, varying) for c in entries])
    axis.set_xlabel(" / ".join(varying))
    axis.set_ylabel("perplexity")
    axis.set_title(textwrap.fill(f"{name}: {spec['title']}", 70), fontsize=11)
    result.legend(loc="outside lower center", ncol=3, frameon=False, fontsize=9)
    return result


def plot(name: str, spec: dict, runs: list[EntryRuns], path: Path) -> None:
    """Published and our training perplexity, and our held-out perplexity, per entry."""
    from matplotlib import pyplot as plt

    drawn = figure(name, spec, runs)
    drawn.savefig(path, dpi=110)
    plt.close(drawn)
