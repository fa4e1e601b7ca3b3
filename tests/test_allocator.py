"""trainer.allocator: `keep` (the default) has glibc keep the memory a run frees; `system`
leaves glibc alone. Speed is measured in scripts/bench_scan.py, not here."""

import sys

import pytest
from helpers.config import TINY, compose_config

import rnnlab.data.timemachine
from rnnlab.run import allocator
from rnnlab.train import train


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux")
def test_keep_sets_glibcs_thresholds_here():
    assert allocator.keep_freed_memory() is True


def test_no_glibc_is_no_error(monkeypatch):
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    allocator.keep_freed_memory.cache_clear()
    try:
        assert allocator.keep_freed_memory() is False
    finally:
        allocator.keep_freed_memory.cache_clear()


@pytest.mark.parametrize(("choice", "calls"), [("keep", 1), ("system", 0)])
def test_a_run_applies_its_allocator_setting(tmp_path, tiny_corpus, monkeypatch, choice, calls):
    monkeypatch.setattr(
        rnnlab.data.timemachine, "load_timemachine", lambda *args, **kwargs: tiny_corpus
    )
    called = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: called.append(1) or True)
    cfg = compose_config([*TINY, "trainer.max_epochs=1", f"trainer.allocator={choice}"])
    train(cfg, tmp_path / "run", "lstm")
    assert len(called) == calls


def test_an_unknown_allocator_is_one_line():
    from rnnlab.config.run_config import typed_config
    from rnnlab.config.schema import ConfigError

    with pytest.raises(ConfigError, match=r"trainer.allocator='jemalloc' is not one of: keep"):
        typed_config(compose_config(["trainer.allocator=jemalloc"]))
