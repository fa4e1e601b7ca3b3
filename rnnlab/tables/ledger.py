"""`results/runs.csv`: one line per completed run of the published tables, kept in git.

Run directories stay out of git, and the 2-core machines that run the tables are not kept
between sessions, so the ledger is what lets a table be continued elsewhere: before a
sweep, `restore` writes each recorded run back into the pool as a run directory that
`trainer.skip_finished` skips and `study.collect` reads; after it, `export` adds the new
runs. Each line holds what a table needs: the run's identity (`study.IDENTITY_KEYS`), its
seed, the CPU model it ran on (results agree to the last digit only on one model), its status
and final figures.
"""

import csv
import math
from pathlib import Path

import yaml

from rnnlab.run.records import COMPLETE, read_metrics, write_metrics
from rnnlab.tables.study import IDENTITY_KEYS

FIGURES = (
    "train_perplexity",
    "val_perplexity",
    "best_val_perplexity",
    "best_epoch",
    "tokens_per_sec",
    "wall_seconds",
    "epochs",
)
FIELDS = ("run", "seed", "num_threads", "cpu", "status", *FIGURES, *IDENTITY_KEYS)


def read(path: Path) -> dict[str, dict]:
    """{run directory name: its line}; empty when there is no ledger yet."""
    if not Path(path).is_file():
        return {}
    with open(path, newline="") as file:
        return {row["run"]: row for row in csv.DictReader(file)}


def export(groups: dict, path: Path) -> int:
    """Add the completed runs of a pool (`study.pool_runs(pool)`) to the ledger (a run
    already there is updated); returns the number of lines written."""
    rows = read(path)
    for key, runs in groups.items():
        for run_dir, metrics in runs:
            if metrics is None or metrics.get("status") not in COMPLETE:
                continue
            rows[run_dir.name] = {
                "run": run_dir.name,
                "seed": metrics.get("seed"),
                "num_threads": metrics.get("num_threads"),
                # a run restored from an older ledger line keeps the CPU that line names
                "cpu": metrics.get("cpu") or rows.get(run_dir.name, {}).get("cpu") or None,
                "status": metrics["status"],
                **{name: metrics.get(name) for name in FIGURES},
                **dict(zip(IDENTITY_KEYS, key, strict=True)),
            }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows[name] for name in sorted(rows))
    return len(rows)


def restore(path: Path, pool: Path) -> int:
    """Write each ledger line whose run the pool lacks back as a run directory (its
    identity as `.hydra/config.yaml`, its figures as metrics.json); returns how many."""
    restored = 0
    for name, row in read(path).items():
        run_dir = Path(pool) / name
        if read_metrics(run_dir) is not None:
            continue
        (run_dir / ".hydra").mkdir(parents=True, exist_ok=True)
        config: dict = {
            "seed": int(row["seed"]),
            "trainer": {"num_threads": _number(row["num_threads"])},
        }
        for key in IDENTITY_KEYS:
            group, name_in_group = key.split(".", 1)
            config.setdefault(group, {})[name_in_group] = row[key]
        (run_dir / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
        write_metrics(
            run_dir,
            {
                "status": row["status"],
                "restored_from": str(path),
                "cpu": row.get("cpu") or None,  # a ledger from before the CPU was kept
                **{key: _number(row[key]) for key in FIGURES},
            },
        )
        restored += 1
    return restored


def _number(text: str):
    """A CSV field back as a number (None for an empty field or a non-finite value)."""
    if text in ("", "None", None):
        return None
    value = float(text)
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and "." not in text and "e" not in text else value
