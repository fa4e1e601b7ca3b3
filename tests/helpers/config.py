"""Composed Hydra configs, as the entry points compose them, and the tiny settings of the
end-to-end language-model runs."""

import copy
import functools

from hydra import compose, initialize_config_dir

from rnnlab.config import CONF_DIR
from rnnlab.config.run_config import register_schemas
from rnnlab.train import train


def compose_config(overrides=()):
    """The run config as `python -m rnnlab.train OVERRIDES` would see it (composed on the
    typed schemas; `train` checks it once more). A fresh copy each call: the suite composes
    the same overrides many times, and a composition costs ~0.1 s, a copy ~2 ms."""
    return copy.deepcopy(composed(tuple(overrides), with_hydra=False))


def compose_with_hydra(overrides):
    """The run config with its `hydra` node (sweeper, launcher), as a multirun sees it."""
    return copy.deepcopy(composed(tuple(overrides), with_hydra=True))


@functools.cache
def composed(overrides: tuple[str, ...], with_hydra: bool):
    """One composition per distinct overrides (a failed one is not kept: it raises again)."""
    register_schemas()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(
            config_name="config", overrides=list(overrides), return_hydra_config=with_hydra
        )


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


def train_whole_and_resumed(tmp_path, overrides, epochs: int = 4, cut: int = 2):
    """The metrics of one run trained in one go (tmp_path/whole) and of the same run cut
    after `cut` epochs and resumed to `epochs` (tmp_path/split)."""
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
