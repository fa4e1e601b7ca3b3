"""The run overview: parameters per module and the resolved config, logged at the start of
a run unless trainer.summary=false."""

import logging
import re

from helpers.config import TINY, compose_config
from torch import nn

import rnnlab.tasks.lm
from rnnlab.models.lm import build_lm
from rnnlab.run.overview import config_overview, model_overview
from rnnlab.train import train


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10, 4)  # 40
        self.head = nn.Linear(4, 3)  # 4 * 3 + 3 = 15


def test_model_overview_counts_parameters_per_module():
    assert model_overview(Tiny()) == [
        "model Tiny: 55 parameters",
        "  embedding  Embedding            40",
        "  head       Linear               15",
    ]


def test_config_overview_is_one_line_per_group():
    config = {
        "seed": 0,
        "model": {"cell": "lstm", "num_hiddens": 8},
        "optim": {"lr": 0.1, "betas": {"b1": 0.9}},
    }
    assert config_overview(config) == [
        "config",
        "  seed=0",
        "  model  cell=lstm num_hiddens=8",
        "  optim  lr=0.1 betas.b1=0.9",
    ]


def test_a_run_logs_its_overview_unless_told_not_to(tmp_path, tiny_corpus, monkeypatch, caplog):
    monkeypatch.setattr(
        rnnlab.data.timemachine, "load_timemachine", lambda *args, **kwargs: tiny_corpus
    )
    with caplog.at_level(logging.INFO):
        train(compose_config(TINY + ["trainer.max_epochs=1"]), tmp_path / "a", "lstm")
    assert "model RNNLM: " in caplog.text
    assert re.search(r"\n  model +cell=lstm .*num_hiddens=16 ", caplog.text)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        train(
            compose_config(TINY + ["trainer.max_epochs=1", "trainer.summary=false"]),
            tmp_path / "b",
            "lstm",
        )
    assert "model RNNLM" not in caplog.text and "num_hiddens=16" not in caplog.text


def test_the_overview_names_a_minimal_cells_mode_resolved():
    cfg = compose_config(["model=mingru", "model.num_hiddens=4", "model.num_layers=1"]).model
    assert cfg.mode is None  # the config's null: the cell's default
    lines = model_overview(build_lm(5, cfg))
    assert [line for line in lines if line.endswith("  mode=parallel")]
