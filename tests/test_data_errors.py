"""Damaged data reads as one line naming the file: an empty book, truncated or corrupt
archives (rnnlab/data/archive.py), and the checks the loaders build on."""

import gzip
import io
import tarfile
import zipfile

import pytest

from rnnlab.data import download
from rnnlab.data.archive import check_archive, open_archive
from rnnlab.data.timemachine import load_timemachine
from rnnlab.errors import RnnlabError

PAIRS = "Go.\tVa !\nHi.\tSalut !\n" * 200


@pytest.fixture
def unchecked_book(monkeypatch):
    """timemachine.txt accepted whatever its sha1, so a test can write its own."""
    entry = download.DataFile("timemachine.txt", "file:///nowhere/timemachine.txt", None)
    monkeypatch.setitem(download.DATASETS, "timemachine", entry)


def test_empty_book_is_named(tmp_path, unchecked_book):
    (tmp_path / "timemachine.txt").write_text("")
    with pytest.raises(RnnlabError, match=r"timemachine\.txt is empty \(0 bytes\)"):
        load_timemachine(str(tmp_path), download=False)


def test_book_without_letters_is_named(tmp_path, unchecked_book):
    (tmp_path / "timemachine.txt").write_text("1898 ... \n\n 42")
    with pytest.raises(RnnlabError, match=r"timemachine\.txt has no letters"):
        load_timemachine(str(tmp_path), download=False)


def make_zip(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("fra-eng/fra.txt", PAIRS)
    return path


def make_tar_gz(path):
    data = PAIRS.encode() * 20
    with tarfile.open(path, "w:gz") as archive:
        for name in ("aclImdb/train/pos/0_9.txt", "aclImdb/test/neg/1_2.txt"):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_intact_archives_open_and_read(tmp_path):
    with open_archive(make_zip(tmp_path / "fra-eng.zip")) as archive:
        assert archive.read("fra-eng/fra.txt").decode() == PAIRS
    check_archive(tmp_path / "fra-eng.zip")
    with open_archive(make_tar_gz(tmp_path / "aclImdb_v1.tar.gz")) as archive:
        assert len(archive.getnames()) == 2
    check_archive(tmp_path / "aclImdb_v1.tar.gz")


def test_truncated_zip_is_named(tmp_path):
    truncate(make_zip(tmp_path / "fra-eng.zip"))
    with pytest.raises(RnnlabError, match=r"fra-eng\.zip is a truncated or corrupt zip archive"):
        with open_archive(tmp_path / "fra-eng.zip"):
            pass


def test_zip_with_a_damaged_member_is_named(tmp_path):
    path = make_zip(tmp_path / "fra-eng.zip")
    data = bytearray(path.read_bytes())
    start = len(b"PK\x03\x04") + 26 + len("fra-eng/fra.txt")  # first member's data
    data[start + 5 : start + 25] = bytes(20)
    path.write_bytes(bytes(data))
    with pytest.raises(RnnlabError, match="truncated or corrupt zip archive"):
        with open_archive(path) as archive:
            archive.read("fra-eng/fra.txt")
    with pytest.raises(RnnlabError, match="truncated or corrupt zip archive"):
        check_archive(path)


@pytest.mark.parametrize("keep", [0.3, 0.9])
def test_truncated_tar_gz_is_named_when_read(tmp_path, keep):
    truncate(make_tar_gz(tmp_path / "aclImdb_v1.tar.gz"), keep)
    with pytest.raises(
        RnnlabError,
        match=r"aclImdb_v1\.tar\.gz is a truncated or corrupt "
        r"tar\.gz archive",
    ):
        check_archive(tmp_path / "aclImdb_v1.tar.gz")


def test_file_that_is_not_gzip_is_named(tmp_path):
    (tmp_path / "aclImdb_v1.tar.gz").write_text("<html>404 not found</html>")
    with pytest.raises(RnnlabError, match="truncated or corrupt tar.gz archive"):
        with open_archive(tmp_path / "aclImdb_v1.tar.gz"):
            pass


def test_gzip_that_is_not_tar_is_named(tmp_path):
    (tmp_path / "data.tar.gz").write_bytes(gzip.compress(b"just text, no tar headers" * 30))
    with pytest.raises(RnnlabError, match="truncated or corrupt tar.gz archive"):
        check_archive(tmp_path / "data.tar.gz")


def test_missing_archive_and_unknown_suffix_are_named(tmp_path):
    with pytest.raises(RnnlabError, match=r"fra-eng\.zip does not exist"):
        with open_archive(tmp_path / "fra-eng.zip"):
            pass
    with pytest.raises(RnnlabError, match=r"not a \.zip or \.tar\.gz archive"):
        with open_archive(tmp_path / "data.rar"):
            pass


def test_errors_of_the_reader_itself_pass_through(tmp_path):
    with pytest.raises(KeyError):  # a missing member is the loader's to explain
        with open_archive(make_zip(tmp_path / "fra-eng.zip")) as archive:
            archive.read("fra-eng/missing.txt")
