"""Shared fixtures: composed Hydra configs and a small synthetic corpus, so most tests
need neither the real datasets nor a run directory under outputs/."""

import os
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from rnnlab.config import CONF_DIR
from rnnlab.data.timemachine import corpus_from_text


def compose_config(overrides=()):
    """The run config as `python -m rnnlab.train OVERRIDES` would see it."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def train_whole_and_resumed(tmp_path, overrides, epochs: int = 4, cut: int = 2):
    """The metrics of one run trained in one go (tmp_path/whole) and of the same run cut
    after `cut` epochs and resumed to `epochs` (tmp_path/split)."""
    from rnnlab.train import train

    whole = train(
        compose_config([*overrides, f"trainer.max_epochs={epochs}"]), tmp_path / "whole", "x"
    )
    train(compose_config([*overrides, f"trainer.max_epochs={cut}"]), tmp_path / "split", "x")
    resumed = train(
        compose_config([*overrides, f"trainer.max_epochs={epochs}", "trainer.resume=true"]),
        tmp_path / "split",
        "x",
    )
    return whole, resumed


# Tiny, fast settings for end-to-end runs on the synthetic corpus.
TINY = [
    "model.num_hiddens=16",
    "data.batch_size=4",
    "data.num_steps=8",
    "trainer.max_epochs=3",
    "trainer.progress_bar=false",
    "task.sample_length=10",
    "scheduler=none",  # the lm's 200-step warm-up would keep a tiny corpus's few steps near lr 0
]


@pytest.fixture
def tiny_corpus():
    """A corpus with an obvious pattern: a model that learns it has perplexity near 1."""
    text = "the time machine is here " * 80
    return corpus_from_text(text, token="char", val_fraction=0.1)


@pytest.fixture
def synthetic_book(monkeypatch, tiny_corpus):
    """The LM task reads the tiny corpus instead of The Time Machine."""
    import rnnlab.tasks.lm

    monkeypatch.setattr(rnnlab.tasks.lm, "load_timemachine", lambda *args, **kwargs: tiny_corpus)
    return tiny_corpus


@pytest.fixture
def real_data_dir() -> Path:
    """$RNNLAB_DATA when it holds the real book (CI points it at ../shared/data); tests that
    need the real files skip without it."""
    root = Path(os.environ.get("RNNLAB_DATA") or "/nonexistent").expanduser()
    if not (root / "timemachine.txt").is_file():
        pytest.skip("RNNLAB_DATA does not point at a folder holding timemachine.txt")
    return root
