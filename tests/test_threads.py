"""trainer.num_threads=null: torch's default less the cores other processes keep busy,
judged from /proc/stat readings (fake ones here: no timing, no real load)."""

import logging

import pytest

from rnnlab.run import threads
from rnnlab.run.threads import busy_fractions, choose_threads, cpu_times, default_threads

#            user nice system idle iowait irq softirq steal
BEFORE = """cpu  200 0 100 1000 0 0 0 0
cpu0 100 0 50 500 0 0 0 0
cpu1 100 0 50 500 0 0 0 0
intr 12345
"""
AFTER = """cpu  300 0 100 1090 10 0 0 0
cpu0 195 0 50 505 0 0 0 0
cpu1 105 0 50 585 10 0 0 0
intr 12399
"""


def test_cpu_times_and_busy_fractions_read_proc_stat():
    assert cpu_times(BEFORE) == {0: (150, 650), 1: (150, 650)}
    busy = busy_fractions(cpu_times(BEFORE), cpu_times(AFTER))
    assert busy == {0: pytest.approx(95 / 100), 1: pytest.approx(5 / 100)}  # iowait is idle


@pytest.mark.parametrize(
    ("default", "cpus", "busy", "expected"),
    [
        (2, {0, 1}, {0: 0.0, 1: 0.02}, 2),  # a quiet machine: torch's default, unchanged
        (2, {0, 1}, {0: 0.97, 1: 0.01}, 1),  # one core spinning elsewhere: one thread
        (2, {0, 1}, {0: 1.0, 1: 1.0}, 1),  # all busy: still one
        (8, {0, 1, 2, 3}, {0: 0.9, 5: 1.0}, 3),  # cores outside the affinity do not count
        (2, {0, 1, 2, 3}, {}, 2),  # never more than torch's default
    ],
)
def test_choose_threads_leaves_out_busy_cores(default, cpus, busy, expected):
    assert choose_threads(default, cpus, busy) == expected


def test_default_threads_samples_proc_stat_and_logs_its_choice(tmp_path, monkeypatch, caplog):
    stat = tmp_path / "stat"
    readings = iter([BEFORE, AFTER])
    monkeypatch.setattr(type(stat), "read_text", lambda self: next(readings))
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1})
    with caplog.at_level(logging.INFO):
        assert default_threads(2, stat, sample_seconds=0) == 1
    [line] = caplog.messages
    assert line == (
        "trainer.num_threads=null: 1 thread(s) (torch's default 2; 2 usable "
        "core(s), busy: cpu0 95%)"
    )


def test_without_proc_stat_torch_default_is_kept(tmp_path):
    assert default_threads(3, tmp_path / "missing", sample_seconds=0) == 3
