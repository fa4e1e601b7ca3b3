"""Checkpoints: atomic writes, clear errors, and no code execution from crafted files."""

import errno
import os
import pickle

import pytest
import torch

from rnnlab.errors import RnnlabError
from rnnlab.run.checkpoint import FORMAT, load_checkpoint, save_checkpoint


def test_round_trip_keeps_tensors_and_plain_values(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"model": {"w": torch.arange(3.0)}, "vocab": ["<unk>", "a"], "epoch": 2})
    saved = load_checkpoint(path)
    assert saved["format"] == FORMAT
    assert saved["vocab"] == ["<unk>", "a"] and saved["epoch"] == 2
    assert torch.equal(saved["model"]["w"], torch.arange(3.0))
    assert os.listdir(tmp_path) == ["checkpoint.pt"]


@pytest.mark.parametrize(
    "failure", [KeyboardInterrupt, OSError("disk full")], ids=["ctrl-c", "disk-full"]
)
def test_interrupted_write_leaves_previous_checkpoint(tmp_path, monkeypatch, failure):
    """A write that fails midway (Ctrl-C, a full disk) leaves the previous checkpoint
    loadable and removes its own temporary file."""
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"epoch": 1})

    def crash_midway(obj, handle, *args, **kwargs):
        handle.write(b"half a checkpoint")
        raise failure

    monkeypatch.setattr(torch, "save", crash_midway)
    with pytest.raises((KeyboardInterrupt, RnnlabError)):
        save_checkpoint(path, {"epoch": 2})
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1
    assert not (tmp_path / "checkpoint.pt.tmp").exists()
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.pt"]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(RnnlabError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")


def test_foreign_file_is_refused(tmp_path):
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    with pytest.raises(RnnlabError, match="not a loadable rnnlab checkpoint"):
        load_checkpoint(text)
    plain = tmp_path / "plain.pt"
    torch.save({"weights": torch.ones(2)}, plain)
    with pytest.raises(RnnlabError, match="not an rnnlab checkpoint"):
        load_checkpoint(plain)


class CodePayload:
    """Unpickling this would run `touch`: weights_only loading must refuse it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_text_file_is_named_as_no_checkpoint_not_by_torch_s_bare_byte(tmp_path):
    """Issue 31, defect 14: "hello" as a checkpoint said "...: 101"."""
    text = tmp_path / "text.pt"
    text.write_text("hello\n")
    with pytest.raises(RnnlabError) as error:
        load_checkpoint(text)
    assert str(error.value).endswith(
        "is not a loadable rnnlab checkpoint: not a PyTorch checkpoint file"
    )


def test_a_folder_without_checkpoints_is_named_as_such(tmp_path):
    """Issue 31, defect 14: a folder as a checkpoint said "does not exist"."""
    from rnnlab.run.checkpoint import checkpoint_in

    with pytest.raises(RnnlabError) as error:
        checkpoint_in(tmp_path)
    assert str(error.value) == (
        f"checkpoint={str(tmp_path)!r} is a folder without best.pt or checkpoint.pt; "
        "expected a run directory or a checkpoint file"
    )


def test_pickle_with_code_payload_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "model": CodePayload(marker)}, path, pickle_module=pickle)
    with pytest.raises(RnnlabError, match="not a loadable rnnlab checkpoint") as error:
        load_checkpoint(path)
    assert not marker.exists()
    message = str(error.value)
    assert "system) that could run code" in message  # posix.system or nt.system
    assert "weights_only" not in message and "\n" not in message  # no advice to unlock it


def test_truncated_checkpoint_is_one_line(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"model": {"w": torch.zeros(1000)}})
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(RnnlabError, match="not a loadable rnnlab checkpoint") as error:
        load_checkpoint(path)
    assert "\n" not in str(error.value)


def test_temporary_file_left_by_a_killed_write_is_harmless(tmp_path):
    """SIGKILL during torch.save leaves checkpoint.pt.tmp half-written (no `finally` runs):
    the previous checkpoint still loads, and the next save replaces the leftover."""
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"epoch": 1})
    (tmp_path / "checkpoint.pt.tmp").write_bytes(b"PK\x03\x04 half a checkpoint")
    assert load_checkpoint(path)["epoch"] == 1
    save_checkpoint(path, {"epoch": 2})
    assert load_checkpoint(path)["epoch"] == 2
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.pt"]


def test_disk_full_is_one_line_naming_the_file_and_keeps_the_previous(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"epoch": 1})

    def disk_full(obj, handle, *args, **kwargs):
        handle.write(b"half a checkpoint")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(RnnlabError) as error:
        save_checkpoint(path, {"epoch": 2})
    monkeypatch.undo()
    assert str(error.value) == (
        f"could not write checkpoint {str(path)!r}: No space left on "
        "device; checkpoint.pt is unchanged"
    )
    assert load_checkpoint(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["checkpoint.pt"]


def test_a_real_full_disk_is_one_line(tmp_path, monkeypatch):
    """/dev/full fails every write with ENOSPC, as a full disk does."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    real_open = open
    monkeypatch.setattr(
        "builtins.open",
        lambda file, mode="r", *args, **kwargs: real_open(
            "/dev/full" if str(file).endswith(".tmp") else file, mode, *args, **kwargs
        ),
    )
    with pytest.raises(RnnlabError, match="No space left on device; best.pt was not written"):
        save_checkpoint(tmp_path / "best.pt", {"model": {"w": torch.zeros(100_000)}})


def test_a_full_disk_inside_torchs_archive_writer_is_one_line(tmp_path, monkeypatch):
    """Issue 31, defect 1: on a full disk torch's zip writer raises RuntimeError when it
    closes the archive; the old checkpoint survives and the error is one line."""
    import torch

    from rnnlab.errors import RnnlabError
    from rnnlab.run.checkpoint import load_checkpoint, save_checkpoint

    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"epoch": 1})

    def full_disk(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(RnnlabError, match="could not write checkpoint .* is unchanged") as error:
        save_checkpoint(path, {"epoch": 2})
    assert "\n" not in str(error.value)
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1 and not list(tmp_path.glob("*.tmp"))
