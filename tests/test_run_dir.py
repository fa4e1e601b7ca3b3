"""One process per run directory: a second training started in a busy directory stops in
one line naming the directory and the other process, and changes nothing there."""

import os
import signal
from pathlib import Path

import pytest
from helpers.cli import assert_one_line_error
from helpers.runs import synthetic_run, wait_until_paused
from helpers.synthetic_train import write_book

from rnnlab.errors import RnnlabError
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


# A run directory that cannot be written is one line before Hydra makes it (issue 31,
# defect 15).


def test_a_run_dir_path_that_is_a_file_is_one_line(tmp_path):
    from rnnlab.config.argv import check_run_dir

    (tmp_path / "taken").write_text("not a folder")
    for run_dir in (tmp_path / "taken", tmp_path / "taken" / "run"):
        with pytest.raises(RnnlabError, match="'.*taken' is a file; expected a folder"):
            check_run_dir([f"hydra.run.dir={run_dir}"])
    with pytest.raises(RnnlabError, match="^hydra.sweep.dir="):
        check_run_dir(["-m", f"hydra.sweep.dir={tmp_path / 'taken'}"])


def test_a_read_only_run_dir_is_one_line(tmp_path, monkeypatch):
    """A read-only filesystem, as os.access reports it (root passes a chmod)."""
    from rnnlab.config.argv import check_run_dir

    monkeypatch.setattr("os.access", lambda path, mode: Path(path) != tmp_path)
    for run_dir in (tmp_path, tmp_path / "new" / "run"):
        with pytest.raises(RnnlabError, match="cannot be written .a read-only filesystem"):
            check_run_dir([f"hydra.run.dir={run_dir}"])
    check_run_dir([f"hydra.run.dir={tmp_path.parent / 'elsewhere'}"])  # writable: no error
    check_run_dir(["--help"])  # writes no run


def test_a_run_dir_that_is_a_file_stops_the_command_in_one_line(tmp_path):
    from helpers.cli import run

    (tmp_path / "taken").write_text("not a folder")
    result = run("rnnlab.train", f"hydra.run.dir={tmp_path / 'taken'}", "trainer.max_epochs=1")
    assert_one_line_error(result, "is a file; expected a folder")
