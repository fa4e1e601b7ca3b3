"""scripts/reproduce.py end to end on a tiny grid of the real book: 2 entries x 2 seeds x 2
epochs of table 12, then the table it writes checked against values computed here, and a
rerun that trains nothing."""

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab.tables import study
from rnnlab.tables.uncertainty import mean_interval

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "reproduce.py"
TINY_GRID = ["--", "model.num_hiddens=32,64", "trainer.max_epochs=2", "trainer.num_threads=1"]


def reproduce(tmp_path, *args):
    return subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--pool",
            str(tmp_path / "pool"),
            "--out",
            str(tmp_path / "results"),
            "--ledger",
            str(tmp_path / "runs.csv"),
            "--reference",
            str(tmp_path / "d2l_reference.jsonl"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )


@pytest.fixture
def tiny_table12(tmp_path, real_data_dir, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA", str(real_data_dir))
    result = reproduce(tmp_path, "table12", "--seeds", "0-1", "--no-plot", *TINY_GRID)
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp_path, result


def finished_metrics(pool: Path, num_hiddens: int) -> list[dict]:
    runs = [
        json.loads(p.read_text())
        for p in sorted(pool.glob(f"rnn_h{num_hiddens}_*_e2_seed*/metrics.json"))
    ]
    assert len(runs) == 2 and all(run["status"] == "finished" for run in runs)
    return runs


def test_table_has_the_published_column_and_our_mean_and_std(tiny_table12):
    tmp_path, _ = tiny_table12
    table = (tmp_path / "results" / "table12.md").read_text()
    assert table.startswith("# Table 12: nn.RNN: num_hiddens")
    assert "table12 --seeds 0-1 --no-plot -- model.num_hiddens=32,64 trainer.max_epochs=2" in table
    for num_hiddens, published, published_speed in (
        (32, "5.21", "289,066"),
        (64, "3.69", "182,857"),
    ):
        runs = finished_metrics(tmp_path / "pool", num_hiddens)
        train = [run["train_perplexity"] for run in runs]
        held_out = [run["val_perplexity"] for run in runs]
        mean = statistics.fmean(train)
        low, high = mean_interval(train)
        mark = "" if low <= float(published) <= high else " †"
        row = (
            f"| model.num_hiddens={num_hiddens} | {published} | – | {mean:.2f} ± "
            f"{statistics.stdev(train):.2f} | [{low:.2f}, {high:.2f}]{mark} | "
            f"{mean / float(published):.2f} | "
            f"{statistics.fmean(held_out):.2f} ± {statistics.stdev(held_out):.2f} | – | "
        )
        assert row in table, (row, table)
        assert f"| {published_speed} | " in table
    # entries without runs keep their published figures and say n = 0
    assert "| model.num_hiddens=1024 | 1.02 | – | – | – | – | – | – | – | 9,542 | – | – | 0 |" in (
        table
    )


def test_a_rerun_skips_the_finished_runs(tiny_table12):
    tmp_path, _ = tiny_table12
    metrics = sorted((tmp_path / "pool").glob("*/metrics.json"))
    assert len(metrics) == 4
    before = {path: path.stat().st_mtime_ns for path in metrics}
    again = reproduce(tmp_path, "table12", "--seeds", "0-1", "--no-plot", *TINY_GRID)
    assert again.returncode == 0, again.stderr[-3000:]
    assert (again.stdout + again.stderr).count("skipping") == 4
    assert {path: path.stat().st_mtime_ns for path in metrics} == before


def test_the_ledger_continues_a_table_without_the_pool(tiny_table12):
    """A fresh machine has results/runs.csv but no pool: the rerun restores the four runs,
    trains nothing, and writes the same table."""
    import shutil

    tmp_path, _ = tiny_table12
    table = (tmp_path / "results" / "table12.md").read_text()
    with open(tmp_path / "runs.csv") as ledger_file:
        assert len(ledger_file.read().splitlines()) == 1 + 4  # header + the four runs
    shutil.rmtree(tmp_path / "pool")
    again = reproduce(tmp_path, "table12", "--seeds", "0-1", "--no-plot", *TINY_GRID)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "restored 4 recorded runs" in again.stderr
    assert (again.stdout + again.stderr).count("skipping") == 4
    rows = lambda text: [line for line in text.splitlines() if line.startswith("| model.")]  # noqa: E731
    assert rows((tmp_path / "results" / "table12.md").read_text()) == rows(table)


def test_the_view_tables_put_ours_beside_the_published(tiny_table12):
    tmp_path, _ = tiny_table12
    result = reproduce(tmp_path, "table18", "--no-run", *TINY_GRID)
    assert result.returncode == 0, result.stderr
    mean = statistics.fmean(
        run["train_perplexity"] for run in finished_metrics(tmp_path / "pool", 32)
    )
    assert f"| rnn | {mean:.2f} (5.21) | " in result.stdout
    assert "| lstm | – (4.20) | – (2.20) |" in result.stdout


def test_unknown_table_is_one_line(tmp_path):
    result = reproduce(tmp_path, "table11", "--no-run")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: 'table11' is not one of: " + ", ".join(study.load_published())
    ]


@pytest.mark.parametrize(
    ("text", "override"), [("0-19", "seed=range(0,20)"), ("3", "seed=3"), ("0,3,5", "seed=0,3,5")]
)
def test_seed_ranges(text, override):
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from reproduce import seed_override
    finally:
        sys.path.remove(str(SCRIPT.parent))
    assert seed_override(text) == override


def test_one_value_of_an_entry_key_narrows_the_table_rather_than_changing_every_entry():
    """`reproduce.py mingru_hiddens -- model.num_hiddens=1024` ran the h=1024 entry; its table
    then showed those runs in every row, as if each entry had been retrained at 1024."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from reproduce import selecting
    finally:
        sys.path.remove(str(SCRIPT.parent))
    overrides = [
        "model.num_hiddens=1024",
        "model.mode=fused",
        "trainer.num_threads=1",
        "trainer.max_epochs=20",
        "model.num_layers=1,2",
    ]
    assert selecting(overrides, {"model.num_hiddens"}) == ["trainer.max_epochs=20"]
