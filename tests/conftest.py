"""Shared fixtures: small synthetic corpora in place of the real datasets, so most tests
need neither the real files nor a run directory under outputs/. Plain helpers and
constants (composed configs, tiny settings, command lines) are in tests/helpers/."""

import os
import random
import re
from pathlib import Path

import pytest
from helpers.sentiment import synthetic_reviews
from helpers.seq2seq import reverse_corpus

import rnnlab.tasks.lm
import rnnlab.tasks.sentiment
from rnnlab.data.labelled import build_cache, split_reviews
from rnnlab.data.timemachine import corpus_from_text


@pytest.fixture
def tiny_corpus():
    """A corpus with an obvious pattern: a model that learns it has perplexity near 1."""
    text = "the time machine is here " * 80
    return corpus_from_text(text, token="char", val_fraction=0.1)


@pytest.fixture
def synthetic_book(monkeypatch, tiny_corpus):
    """The LM task reads the tiny corpus instead of The Time Machine."""
    monkeypatch.setattr(
        rnnlab.data.timemachine, "load_timemachine", lambda *args, **kwargs: tiny_corpus
    )
    return tiny_corpus


@pytest.fixture
def synthetic_imdb(monkeypatch):
    """The sentiment task reads synthetic reviews (helpers.sentiment) instead of IMDB."""
    rng = random.Random(0)
    cache = build_cache({"train": synthetic_reviews(400, rng), "test": synthetic_reviews(200, rng)})

    def load(
        root,
        cache_dir,
        vocab_size,
        min_freq,
        max_len,
        mode,
        val_fraction,
        seed,
        download,
        punctuation=True,
    ):
        return split_reviews(
            cache, vocab_size, min_freq, max_len, mode, val_fraction, seed, punctuation
        )

    monkeypatch.setattr(rnnlab.data.imdb, "load_imdb", load)


@pytest.fixture(scope="module")
def reverse_pairs():
    """The seq2seq reverse-the-words corpus (helpers.seq2seq.reverse_corpus), built once
    per module."""
    return reverse_corpus()


@pytest.fixture
def real_data_dir() -> Path:
    """$RNNLAB_DATA when it holds the real book (CI points it at ../shared/data); tests that
    need the real files skip without it."""
    root = Path(os.environ.get("RNNLAB_DATA") or "/nonexistent").expanduser()
    if not (root / "timemachine.txt").is_file():
        pytest.skip("RNNLAB_DATA does not point at a folder holding timemachine.txt")
    return root


# What makes a test slow (more than a few seconds): it reads the real datasets, or it
# starts rnnlab (or Python) in a new process, which pays torch's import each time.
SLOW_FIXTURES = {"real_data_dir"}
STARTS_A_PROCESS = re.compile(
    r"subprocess\.|synthetic_run\(|translate_cli\(|\brun\(\s*f?\"rnnlab\."
)


def pytest_collection_modifyitems(config, items):
    """Mark `slow` (left out by `make test-fast`) each test that uses a slow fixture or
    starts a process, besides those marked by hand."""
    import inspect

    for item in items:
        function = getattr(item, "function", None)
        try:
            source = inspect.getsource(function) if function else ""
        except (OSError, TypeError):
            source = ""
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or STARTS_A_PROCESS.search(
            source
        ):
            item.add_marker(pytest.mark.slow)
