"""One process per run directory: a second training started in a busy directory stops in
one line naming the directory and the other process, and changes nothing there."""

import os
import signal

import pytest
from helpers.cli import assert_one_line_error
from helpers.runs import synthetic_run, wait_until_paused
from helpers.synthetic_train import write_book

from rnnlab.run.run_dir import RunDirBusy, run_dir_lock


def test_lock_refuses_a_second_holder_and_names_the_first(tmp_path):
    with run_dir_lock(tmp_path):
        with pytest.raises(RunDirBusy, match=rf"{tmp_path}.*pid {os.getpid()}") as busy:
            with run_dir_lock(tmp_path):
                pass
        assert "\n" not in str(busy.value)
    with run_dir_lock(tmp_path):  # released at the end of the block
        pass


def snapshot(directory):
    return {
        path.relative_to(directory): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def test_second_run_in_a_busy_directory_changes_nothing(tmp_path):
    data, run_dir = write_book(tmp_path / "data"), tmp_path / "run"
    first = synthetic_run(data, run_dir, pause_epoch=2, wait=False)
    try:
        wait_until_paused(first, run_dir)  # epoch 1 saved, holding the directory
        before = snapshot(run_dir)
        second = synthetic_run(data, run_dir, "optim.lr=0.001")  # another config, same dir
        assert_one_line_error(second, str(run_dir), f"pid {first.pid}", "in use")
        assert snapshot(run_dir) == before
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=60)
