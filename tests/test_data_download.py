"""download: the registry, the data directory's precedence, and fetch's guarantees (a file
is found and checked, or downloaded atomically, or the user gets one line saying why not)."""

import hashlib
import os
import re
import urllib.error
import urllib.request

import pytest

from rnnlab.data import download
from rnnlab.data.download import DATASETS, DataFile, data_root, fetch, sha1_of
from rnnlab.errors import RnnlabError

HEX40 = re.compile(r"[0-9a-f]{40}")
CONTENT = b"It was a dark and stormy night.\n" * 100


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _register(monkeypatch, url="file:///nowhere/toy.txt", sha1=None, **kw) -> DataFile:
    entry = DataFile("toy.txt", url, sha1, **kw)
    monkeypatch.setitem(DATASETS, "toy", entry)
    return entry


def test_registry_has_the_three_datasets_with_checksums():
    assert {n: e.file_name for n, e in DATASETS.items()} == {
        "timemachine": "timemachine.txt",
        "fra-eng": "fra-eng.zip",
        "aclImdb": "aclImdb_v1.tar.gz",
    }
    for entry in DATASETS.values():
        assert entry.url.endswith("/" + entry.file_name)
        assert entry.accepted_sha1s
        assert all(HEX40.fullmatch(s) for s in entry.accepted_sha1s)
    # The shared mirror's IMDB repack is accepted besides upstream's tarball.
    assert "f16bf12888342f8c8fe397a306ded2a029d81419" in DATASETS["aclImdb"].accepted_sha1s
    assert DATASETS["aclImdb"].sha1 in DATASETS["aclImdb"].accepted_sha1s


def test_data_root_prefers_argument_then_env_then_home_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path / "env"))
    assert data_root(str(tmp_path / "arg")) == tmp_path / "arg"
    assert data_root(None) == tmp_path / "env"
    monkeypatch.delenv("RNNLAB_DATA")
    assert data_root(None) == tmp_path / "home" / ".cache" / "rnnlab"
    assert data_root("~/d") == tmp_path / "home" / "d"


def test_sha1_of_matches_hashlib(tmp_path):
    (tmp_path / "f").write_bytes(CONTENT)
    assert sha1_of(tmp_path / "f") == _sha1(CONTENT)


def test_fetch_finds_existing_file_without_downloading(monkeypatch, tmp_path):
    _register(monkeypatch, sha1=_sha1(CONTENT))
    (tmp_path / "toy.txt").write_bytes(CONTENT)
    monkeypatch.setattr(urllib.request, "urlopen", pytest.fail)
    assert fetch("toy", str(tmp_path)) == tmp_path / "toy.txt"


def test_fetch_unknown_name_lists_valid_names():
    with pytest.raises(RnnlabError, match="timemachine, fra-eng, aclImdb"):
        fetch("ptb")


def test_checksum_mismatch_names_file_and_both_sha1s(monkeypatch, tmp_path):
    expected = "0" * 40
    _register(monkeypatch, sha1=expected)
    (tmp_path / "toy.txt").write_bytes(CONTENT)
    with pytest.raises(RnnlabError) as info:
        fetch("toy", str(tmp_path))
    message = str(info.value)
    assert "toy.txt" in message and expected in message and _sha1(CONTENT) in message


def test_alternative_sha1_is_accepted(monkeypatch, tmp_path):
    _register(monkeypatch, sha1="0" * 40, also_accepted=(_sha1(CONTENT),))
    (tmp_path / "toy.txt").write_bytes(CONTENT)
    assert fetch("toy", str(tmp_path)).read_bytes() == CONTENT


def test_missing_file_without_download_names_file_dir_and_url(monkeypatch, tmp_path):
    entry = _register(monkeypatch)
    with pytest.raises(RnnlabError) as info:
        fetch("toy", str(tmp_path), download=False)
    message = str(info.value)
    assert "toy.txt" in message and str(tmp_path) in message and entry.url in message
    assert "RNNLAB_DATA" in message and "\n" not in message


def test_download_from_file_url_lands_verified(monkeypatch, tmp_path):
    upstream = tmp_path / "upstream" / "toy.txt"
    upstream.parent.mkdir()
    upstream.write_bytes(CONTENT)
    _register(monkeypatch, url=upstream.as_uri(), sha1=_sha1(CONTENT))
    root = tmp_path / "data" / "nested"  # created on demand
    assert fetch("toy", str(root)) == root / "toy.txt"
    assert (root / "toy.txt").read_bytes() == CONTENT
    assert os.listdir(root) == ["toy.txt"]  # no temporary file left beside it


def test_download_with_wrong_sha1_leaves_nothing_behind(monkeypatch, tmp_path):
    upstream = tmp_path / "upstream.txt"
    upstream.write_bytes(CONTENT)
    _register(monkeypatch, url=upstream.as_uri(), sha1="0" * 40)
    root = tmp_path / "data"
    with pytest.raises(RnnlabError, match=_sha1(CONTENT)):
        fetch("toy", str(root))
    assert os.listdir(root) == []


def test_unreachable_url_is_one_line_error(monkeypatch, tmp_path):
    entry = _register(monkeypatch, url="http://example.invalid/toy.txt")

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    with pytest.raises(RnnlabError) as info:
        fetch("toy", str(tmp_path))
    message = str(info.value)
    assert "\n" not in message
    assert "toy.txt" in message and str(tmp_path) in message and entry.url in message
    assert os.listdir(tmp_path) == []


def test_download_timeout_is_passed_to_urlopen(monkeypatch, tmp_path):
    _register(monkeypatch, url="http://example.invalid/toy.txt")
    seen = {}

    def record(url, timeout=None):
        seen["timeout"] = timeout
        raise TimeoutError("timed out")

    monkeypatch.setattr(urllib.request, "urlopen", record)
    with pytest.raises(RnnlabError, match="timed out"):
        fetch("toy", str(tmp_path))
    assert seen["timeout"] == download.DOWNLOAD_TIMEOUT_S


@pytest.mark.parametrize("name", ["timemachine", "fra-eng", "aclImdb"])
def test_real_data_files_pass_their_checksums(name, real_data_dir):
    root = real_data_dir
    if not (root / DATASETS[name].file_name).is_file():
        pytest.skip(f"{DATASETS[name].file_name} is not in {root}")
    path = fetch(name, str(root), download=False)
    assert sha1_of(path) in DATASETS[name].accepted_sha1s
