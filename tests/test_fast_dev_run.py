"""trainer.fast_dev_run (issue 31, item 4): every task runs end to end (train, validation,
test, checkpoints, records) on FAST_DEV_BATCHES batches of each split, in one epoch, and
says so in metrics.json and its closing line."""

import json
import logging

import pytest
from helpers.config import compose_config

import rnnlab.data.fra_eng
from rnnlab.engine import FAST_DEV_BATCHES
from rnnlab.tasks import TASKS
from rnnlab.train import train

SMALL = {
    "lm": ["model.num_hiddens=16", "data.batch_size=4", "data.num_steps=8"],
    "seq2seq": ["task=seq2seq", "model.num_hiddens=16", "data.batch_size=8"],
    "sentiment": ["task=sentiment", "model.num_hiddens=8", "data.batch_size=8"],
}


@pytest.fixture
def task_data(request, monkeypatch, synthetic_book, reverse_pairs):
    """The synthetic book, reverse pairs or reviews in place of each task's dataset."""
    if request.param == "sentiment":
        request.getfixturevalue("synthetic_imdb")
    monkeypatch.setattr(rnnlab.data.fra_eng, "load_fra_eng", lambda *args: reverse_pairs)
    return request.param


@pytest.mark.parametrize("task_data", list(SMALL), indirect=True)
def test_fast_dev_run_runs_each_task_end_to_end_on_a_few_batches(
    tmp_path, task_data, monkeypatch, caplog
):
    steps = []
    task_class = TASKS[task_data]
    original = task_class.training_loss

    def counted(self, *args):
        steps.append(1)
        return original(self, *args)

    monkeypatch.setattr(task_class, "training_loss", counted)
    overrides = [*SMALL[task_data], "trainer.max_epochs=7", "trainer.progress_bar=false"]
    with caplog.at_level(logging.INFO):
        metrics = train(compose_config([*overrides, "trainer.fast_dev_run=true"]), tmp_path, "x")
    assert metrics["status"] == "finished" and metrics["epochs"] == 1
    assert 0 < len(steps) <= FAST_DEV_BATCHES * (2 if task_data == "seq2seq" else 1)
    assert {"checkpoint.pt", "best.pt", "metrics.json"} <= {p.name for p in tmp_path.iterdir()}
    assert json.loads((tmp_path / "metrics.json").read_text())["fast_dev_run"]
    if task_data != "lm":
        assert any(key.startswith("test_") for key in metrics)
    closing = [r.getMessage() for r in caplog.records if "status finished" in r.getMessage()]
    assert "fast_dev_run" in closing[-1]
