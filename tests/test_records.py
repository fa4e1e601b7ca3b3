"""metrics.json, the record a run leaves: what a sweep job returns, what a rerun skips,
the record of a failed job."""

import json
import math

import pytest

from rnnlab.run.records import (
    completed_metrics,
    failure_record,
    key_of,
    objective_value,
    run_record,
    summary,
    write_metrics,
)
from rnnlab.run.sweeps import failed_jobs, record_job_failure


def test_keys_are_tags_with_underscores():
    assert key_of("val/perplexity") == "val_perplexity"
    assert key_of("test/bleu_d2l") == "test_bleu_d2l"


def test_non_finite_values_are_written_as_null(tmp_path):
    write_metrics(tmp_path, {"status": "diverged", "train_loss": math.nan, "epochs": 2})
    assert json.loads((tmp_path / "metrics.json").read_text()) == {
        "status": "diverged",
        "train_loss": None,
        "epochs": 2,
    }


def test_objective_value():
    finished = {
        "status": "finished",
        "objective": "val_perplexity",
        "val_perplexity": 4.2,
        "best_val_perplexity": 3.9,
    }
    assert objective_value(finished) == 3.9  # the kept (best) epoch
    assert objective_value(finished, keep_best=False) == 4.2  # the last epoch
    assert objective_value({**finished, "best_val_perplexity": None}) == 4.2
    for bad in (
        {**finished, "status": "diverged"},
        {"status": "failed", "error": "x"},
        {**finished, "best_val_perplexity": None, "val_perplexity": None},
    ):
        assert objective_value(bad) == math.inf
        assert objective_value(bad, "maximize") == -math.inf
    assert isinstance(objective_value(finished), float)


def test_completed_metrics_and_failure_records(tmp_path):
    assert completed_metrics(tmp_path) is None
    for status, complete in (("finished", True), ("diverged", True), ("failed", False)):
        (tmp_path / "metrics.json").write_text(json.dumps({"status": status}))
        assert (completed_metrics(tmp_path) is not None) == complete
    (tmp_path / "metrics.json").write_text("{truncated")
    assert completed_metrics(tmp_path) is None

    job = tmp_path / "sweep" / "3_optim.lr=-1"
    write_metrics(job, failure_record("lm", "rnn", ValueError("Invalid learning rate: -1")))
    saved = json.loads((job / "metrics.json").read_text())
    assert saved == {
        "task": "lm",
        "model": "rnn",
        "status": "failed",
        "error": "ValueError: Invalid learning rate: -1",
    }


def test_failed_jobs_lists_the_failures_of_the_sweep_in_job_order(tmp_path):
    assert failed_jobs(tmp_path) == []
    record_job_failure(tmp_path, 10, ["optim.lr=2", "seed=0"], "RnnlabError: b")
    record_job_failure(tmp_path, 3, ["optim.lr=-1", "seed=2"], "ValueError: a")
    assert failed_jobs(tmp_path) == [
        ("optim.lr=-1 seed=2", "ValueError: a"),
        ("optim.lr=2 seed=0", "RnnlabError: b"),
    ]


def test_closing_summary_is_short_and_names_the_test_metrics():
    metrics = {
        "task": "seq2seq",
        "status": "finished",
        "objective": "val_sacrebleu",
        "val_sacrebleu": 12.345678901234567,
        "best_val_sacrebleu": 13.1,
        "test_sacrebleu": 12.812345678,
        "test_loss": 2.5,
        "tokens_per_sec": 17012.4,
        "wall_seconds": 95.23456,
        "epochs": 10,
    }
    assert summary(metrics) == (
        "status finished  val_sacrebleu 12.35  best_val_sacrebleu 13.1"
        "  test_sacrebleu 12.81  test_loss 2.5  tokens_per_sec 17,012"
        "  wall_seconds 95.23"
    )


@pytest.mark.parametrize("content", ["[]", "null", '"finished"', "{not json", "\udcff"])
def test_a_damaged_metrics_file_is_no_record(tmp_path, content):
    """Issue 31, defect 14: a job's metrics.json of `[]` crashed a whole skip_finished rerun."""
    from rnnlab.run.records import completed_metrics, read_metrics

    (tmp_path / "metrics.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    assert read_metrics(tmp_path) is None and completed_metrics(tmp_path) is None


def test_two_launches_in_one_sweep_directory_report_only_their_own_failures(tmp_path, monkeypatch):
    """Issue 31, defect 8: sweeps A and B shared .failures/, and B's start wiped A's."""
    from rnnlab.run.sweeps import LAUNCH_VARIABLE

    monkeypatch.setenv(LAUNCH_VARIABLE, "A")
    record_job_failure(tmp_path, 0, ["seed=0"], "RnnlabError: a")
    monkeypatch.setenv(LAUNCH_VARIABLE, "B")
    assert failed_jobs(tmp_path) == []  # B's start sees none of A's
    record_job_failure(tmp_path, 1, ["seed=1"], "RnnlabError: b")
    assert failed_jobs(tmp_path) == [("seed=1", "RnnlabError: b")]
    assert failed_jobs(tmp_path, "A") == [("seed=0", "RnnlabError: a")]


def test_a_launch_that_trained_no_epoch_keeps_the_last_epochs_speed():
    """Issue 31 (found re-checking defect 9): a finished job whose metrics.json was damaged,
    resumed to rebuild it, trains no epoch; its record said tokens_per_sec 0.0."""
    from rnnlab.engine import FitResult

    result = FitResult(epochs=3, last_metrics={"train/tokens_per_sec": 27_704.0})
    record = run_record("lm", "lstm", "val/perplexity", result, {}, 10)
    assert record["tokens_per_sec"] == 27_704.0
    trained = FitResult(epochs=3, train_tokens=1000, train_seconds=0.5, last_metrics={})
    assert run_record("lm", "lstm", "val/perplexity", trained, {}, 10)["tokens_per_sec"] == 2000
