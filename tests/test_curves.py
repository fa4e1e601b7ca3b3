"""The study's perplexity-against-epoch curves (rnnlab.tables.curves): rows from a run's
logged curves, merged into the kept file without duplicates, averaged over runs, drawn."""

from pathlib import Path

from rnnlab.loggers.csv_file import CsvLogger
from rnnlab.tables import curves


def logged_run(root: Path, name: str, train: list[float], val: dict[int, float]) -> Path:
    """A run directory whose metrics.csv holds `train` (epochs 1..) and `val` at its epochs."""
    run_dir = root / name
    logger = CsvLogger(run_dir)
    for epoch, value in enumerate(train, start=1):
        metrics = {"train/perplexity": value}
        if epoch in val:
            metrics["val/perplexity"] = val[epoch]
        logger.scalars(metrics, epoch)
    return run_dir


def test_rows_hold_every_epoch_and_the_held_out_only_where_scored(tmp_path):
    run = logged_run(tmp_path, "a_seed0", [9.0, 5.0, 3.0], {2: 6.0})
    rows = curves.entry_rows(["32"], [[(run, {"status": "finished", "seed": 0})]])
    assert [(r["epoch"], r["train_perplexity"], r["val_perplexity"]) for r in rows] == [
        (1, 9.0, ""),
        (2, 5.0, 6.0),
        (3, 3.0, ""),
    ]
    assert {r["entry"] for r in rows} == {"32"}


def test_unfinished_and_restored_runs_add_nothing(tmp_path):
    cut = logged_run(tmp_path, "cut", [9.0], {})
    restored = tmp_path / "restored"  # a ledger line restored into the pool: no curves
    restored.mkdir()
    rows = curves.entry_rows(
        ["32", "64"],
        [[(cut, {"status": "interrupted", "seed": 0})], [(restored, {"status": "finished"})]],
    )
    assert rows == []


def test_update_replaces_a_runs_lines_and_keeps_the_others(tmp_path):
    path = tmp_path / "t_curves.csv"
    first = logged_run(tmp_path, "a", [9.0, 5.0], {})
    other = logged_run(tmp_path, "b", [8.0, 4.0], {})
    curves.update(
        path,
        curves.entry_rows(
            ["32", "32"],
            [[(first, {"status": "finished", "seed": 0})], [(other, {"status": "finished"})]],
        ),
    )
    longer = logged_run(tmp_path / "again", "a", [9.0, 5.0, 2.0], {3: 2.5})
    merged = curves.update(
        path, curves.entry_rows(["32"], [[(longer, {"status": "finished", "seed": 0})]])
    )
    assert len(merged) == 5  # a's three epochs replace its two; b's two stay
    assert curves.read(path) == merged
    assert [r["epoch"] for r in merged if r["run"] == "a"] == ["1", "2", "3"]


def test_mean_curves_average_over_runs_at_each_epoch(tmp_path):
    rows = [
        {"entry": "32", "run": "a", "epoch": "1", "train_perplexity": "4", "val_perplexity": ""},
        {"entry": "32", "run": "b", "epoch": "1", "train_perplexity": "6", "val_perplexity": "7"},
        {"entry": "64", "run": "c", "epoch": "1", "train_perplexity": "3", "val_perplexity": ""},
    ]
    assert curves.mean_curves(rows, "train_perplexity", ["64", "32"]) == {
        "64": ([1], [3.0]),
        "32": ([1], [5.0]),
    }
    assert curves.mean_curves(rows, "val_perplexity", ["32", "64"]) == {"32": ([1], [7.0])}


def test_plot_writes_a_png(tmp_path):
    run = logged_run(tmp_path, "a", [9.0, 5.0, 3.0], {3: 4.0})
    rows = curves.entry_rows(["32"], [[(run, {"status": "finished", "seed": 0})]])
    path = tmp_path / "t_curves.png"
    curves.plot("t", [{k: str(v) for k, v in r.items()} for r in rows], ["32"], path, "h")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
