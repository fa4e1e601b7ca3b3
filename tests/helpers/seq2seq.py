"""task=seq2seq on a synthetic reverse-the-words task (no real data): its corpus, tiny
settings, a run that trains on it, and the translation command line."""

import random
import subprocess
import sys

import pytest

import rnnlab.tasks.seq2seq
from helpers.cli import REPO
from helpers.config import compose_config
from rnnlab.data.fra_eng import corpus_from_text
from rnnlab.train import train

# A small GRU learns to reverse 2-5 words in a few seconds.
TINY = [
    "task=seq2seq",
    "model=gru",
    "model.num_hiddens=64",
    "model.embed_size=16",
    "model.num_layers=1",
    "model.dropout=0",  # it acts between stacked layers only
    "data.batch_size=16",
    "data.num_steps=7",
    "optim.lr=0.01",
    "trainer.max_epochs=7",
    "trainer.progress_bar=false",
    "eval.beam_size=3",
]


def reverse_corpus(num_pairs=2000):
    """Distinct sentences of 2-5 words over 8 words; the "French" is the reverse."""
    rng = random.Random(0)
    lines = set()
    while len(lines) < num_pairs:
        words = [rng.choice("abcdefgh") for _ in range(rng.randint(2, 5))]
        lines.add(" ".join(words) + "\t" + " ".join(reversed(words)))
    return corpus_from_text(
        "\n".join(sorted(lines)),
        num_examples=None,
        num_steps=7,
        min_freq=1,
        val_fraction=0.1,
        test_fraction=0.1,
    )


def run(tmp_path, corpus, overrides, name="run"):
    """(metrics, run directory) of a training run on `corpus` instead of fra-eng."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rnnlab.data.fra_eng, "load_fra_eng", lambda *args: corpus)
        metrics = train(compose_config(overrides), tmp_path / name, "gru")
    return metrics, tmp_path / name


def translate_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "rnnlab.translate", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
