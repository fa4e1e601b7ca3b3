"""scripts/ablation_table.py on a sweep written by the test: known final values, two seeds."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from torch.utils.tensorboard import SummaryWriter

from rnnlab.tables import ablation

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "ablation_table.py"

# (model, num_hiddens, seed) → (status, final val perplexity, final train tokens/sec)
RUNS = {
    ("rnn", 32, 0): ("finished", 5.0, 1000.0),
    ("rnn", 32, 1): ("finished", 5.5, 3000.0),
    ("rnn", 1024, 0): ("finished", 2.0, 500.0),
    ("rnn", 1024, 1): ("finished", 2.5, 700.0),
    ("lstm", 32, 0): ("finished", 4.0, 800.0),
    ("lstm", 32, 1): ("diverged", 9.0, 800.0),
    ("lstm", 1024, 0): ("diverged", 7.0, 100.0),
    ("lstm", 1024, 1): ("failed", None, None),
}


def write_run(run_dir: Path, model: str, num_hiddens: int, seed: int, status: str, val, speed):
    """What a job leaves behind: overrides, metrics.json, and per-epoch scalars whose last
    value is the one the table must use (earlier epochs are decoys)."""
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "overrides.yaml").write_text(
        f"- model={model}\n- model.num_hiddens={num_hiddens}\n- seed={seed}\n"
        "- experiment=ablation_num_hiddens\n- trainer.max_epochs=2\n"
    )
    (run_dir / "metrics.json").write_text(json.dumps({"model": model, "status": status}))
    if val is None:
        return
    with SummaryWriter(str(run_dir)) as writer:
        for step, scale in ((1, 3.0), (2, 1.0)):
            writer.add_scalar("val/perplexity", val * scale, step)
            writer.add_scalar("train/perplexity", val * scale - 1, step)
            writer.add_scalar("train/tokens_per_sec", speed * scale, step)


@pytest.fixture
def sweep(tmp_path):
    for number, ((model, hiddens, seed), outcome) in enumerate(RUNS.items()):
        write_run(
            tmp_path / f"{number}_model={model},model.num_hiddens={hiddens},seed={seed}",
            model,
            hiddens,
            seed,
            *outcome,
        )
    return tmp_path


def table_script(*args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=60
    )


def test_markdown_table_means_std_and_outcomes(sweep):
    result = table_script(sweep, "--metric", "val_perplexity", "--metric", "train_tokens_per_sec")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("8 runs in ")
    assert "5 finished, 2 diverged, 1 failed" in result.stdout
    assert (
        """### val_perplexity: mean ± std over seeds (n: runs)

| model \\ model.num_hiddens | 32 | 1024 |
| --- | --- | --- |
| rnn | 5.25 ± 0.35 (n=2) | 2.25 ± 0.35 (n=2) |
| lstm | 4.00 (n=1, 1 diverged) | diverged (n=1), failed (n=1) |
"""
        in result.stdout
    )
    assert "| rnn | 2,000 ± 1,414 (n=2) | 600 ± 141 (n=2) |" in result.stdout


def test_csv_and_explicit_layout(sweep):
    result = table_script(
        sweep,
        "--csv",
        "--metric",
        "val/perplexity",
        "--rows",
        "model.num_hiddens",
        "--cols",
        "model",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "metric,model.num_hiddens,model,mean,std,ci95_low,ci95_high,n,diverged,failed,incomplete"
    )
    assert lines[1].startswith("val/perplexity,32,rnn,5.25,0.3535")
    assert lines[1].endswith(",2,0,0,0")
    # n = 2: mean ± t_{0.975, 1} s / sqrt(2) = 5.25 ± 12.706 * 0.25
    low, high = (float(v) for v in lines[1].split(",")[5:7])
    assert abs(low - (5.25 - 12.7062 * 0.25)) < 1e-3 and abs(high - (5.25 + 12.7062 * 0.25)) < 1e-3
    assert lines[2] == "val/perplexity,32,lstm,4.0,,,,1,1,0,0"
    assert lines[4] == "val/perplexity,1024,lstm,,,,,0,1,1,0"


def test_default_layout_and_value_order(sweep):
    runs = ablation.load_sweep(sweep)
    assert [run.params["seed"] for run in runs[:2]] == ["0", "1"]  # job order
    assert ablation.varying_keys(runs) == ["model", "model.num_hiddens"]  # seed is averaged
    assert ablation.default_layout(runs) == (["model"], ["model.num_hiddens"])
    assert ablation.ordered_values(runs, "model.num_hiddens") == ["32", "1024"]  # numeric


@pytest.mark.slow
def test_plot_writes_a_png(sweep):
    pytest.importorskip("matplotlib")
    result = table_script(sweep, "--plot", sweep / "table.png")
    assert result.returncode == 0, result.stderr
    assert (sweep / "table.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_not_a_sweep_is_one_line(tmp_path):
    result = table_script(tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("error: no runs")


@pytest.mark.slow
def test_published_figures_under_each_row(sweep):
    """--published table12 adds the study's rnn figures (results/published.yaml) under the
    rnn row; lstm's are table 16's, so the lstm row gets none."""
    result = table_script(
        sweep,
        "--metric",
        "train_perplexity",
        "--metric",
        "val_perplexity",
        "--metric",
        "train_tokens_per_sec",
        "--published",
        "table12",
    )
    assert result.returncode == 0, result.stderr
    assert "| rnn (published) | 5.21 | 1.02 |" in result.stdout
    assert "| rnn (published) | 289,066 | 9,542 |" in result.stdout
    assert result.stdout.count("(published)") == 2  # not for val_perplexity: none published
    assert "lstm (published)" not in result.stdout
    bad = table_script(sweep, "--published", "table18")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --published 'table18' is not")


@pytest.fixture
def seq2seq_sweep(tmp_path):
    """Two seeds of a translation sweep: its metrics live in metrics.json under its keys."""
    for seed, (last, best, test) in enumerate([(10.0, 12.0, 11.0), (14.0, 16.0, 15.0)]):
        run_dir = tmp_path / f"{seed}_model=gru,seed={seed}"
        (run_dir / ".hydra").mkdir(parents=True)
        (run_dir / ".hydra" / "overrides.yaml").write_text(f"- model=gru\n- seed={seed}\n")
        (run_dir / "metrics.json").write_text(
            json.dumps(
                {
                    "task": "seq2seq",
                    "model": "gru",
                    "status": "finished",
                    "objective": "val_sacrebleu",
                    "val_sacrebleu": last,
                    "best_val_sacrebleu": best,
                    "test_sacrebleu": test,
                    "tokens_per_sec": 1000.0 * (seed + 1),
                }
            )
        )
    return tmp_path


def test_metrics_json_keys_and_the_task_defaults(seq2seq_sweep):
    result = table_script(seq2seq_sweep)
    assert result.returncode == 0, result.stderr
    for metric, cell in (
        ("val_sacrebleu", "12.00 ± 2.83 (n=2)"),
        ("best_val_sacrebleu", "14.00 ± 2.83 (n=2)"),  # the best epoch's
        ("test_sacrebleu", "13.00 ± 2.83 (n=2)"),
        ("tokens_per_sec", "1,500 ± 707 (n=2)"),
    ):
        assert f"### {metric}:" in result.stdout
        assert f"| gru | {cell} |" in result.stdout


def test_unknown_metric_is_one_line_listing_the_available(seq2seq_sweep):
    result = table_script(seq2seq_sweep, "--metric", "bleu")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: --metric bleu: no run of {seq2seq_sweep} has it; available: "
        "best_val_sacrebleu, test_sacrebleu, tokens_per_sec, val_sacrebleu"
    ]


def test_rows_given_as_the_swept_parameter_leave_one_column_not_a_diagonal(sweep):
    result = table_script(sweep, "--metric", "val/perplexity", "--rows", "model.num_hiddens")
    assert result.returncode == 0, result.stderr
    assert "| model.num_hiddens | all |" in result.stdout
    assert "| 32 | 4.83 ± 0.76 (n=3, 1 diverged) |" in result.stdout
