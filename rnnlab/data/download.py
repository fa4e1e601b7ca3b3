"""Where datasets live and how they get there: a registry of files, the data directory and
`fetch`, which finds a file there (checking its sha1) or downloads it.

Each dataset is a single file, so a machine without a network works as soon as the data
directory holds that file (`RNNLAB_DATA=../shared/data` points at the project's mirror).
A download lands in a temporary file beside its final name and is moved into place only
once its sha1 matches, so an interrupted or corrupt download never poses as the dataset.
"""

import hashlib
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from rnnlab.errors import RnnlabError

DOWNLOAD_TIMEOUT_S = 30
_CHUNK_BYTES = 1 << 20
_HINT = "set data.root or RNNLAB_DATA to a folder that holds it"


@dataclass(frozen=True)
class DataFile:
    """One dataset file: its name in the data directory, where upstream serves it, and its
    sha1 there (None when upstream does not serve a fixed file, so nothing is checked).

    `also_accepted` lists other sha1s of files that carry the same data, such as a local
    repack, so a mirror need not hold upstream's exact bytes. `own_data` says how to train
    on a user's data of this kind (the command and the file it reads): a file whose sha1
    differs is most likely the user's own, and the refusal says so.
    """

    file_name: str
    url: str
    sha1: str | None
    also_accepted: tuple[str, ...] = ()
    own_data: str | None = None

    @property
    def accepted_sha1s(self) -> tuple[str, ...]:
        """Every sha1 `fetch` accepts; empty means the file is not checked."""
        return ((self.sha1,) if self.sha1 else ()) + self.also_accepted


_D2L_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"

DATASETS: dict[str, DataFile] = {
    "timemachine": DataFile(
        "timemachine.txt",
        _D2L_URL + "timemachine.txt",
        "090b5e7e70c295757f55df93cb0a180b9691891a",
        own_data="your own text, point data.path at it (data=text data.path={path})",
    ),
    "fra-eng": DataFile(
        "fra-eng.zip",
        _D2L_URL + "fra-eng.zip",
        "94646ad1522d915e7b0f9296181140edcf86a4f5",
        own_data="your own sentence pairs, point data.path at a file of source<TAB>target "
        "lines (task=seq2seq data=pairs data.path=FILE)",
    ),
    # Upstream's tarball (the sha1 the d2l book checks), or the shared mirror's repack that
    # leaves out train/unsup and the .feat files: the labelled reviews are the same.
    "aclImdb": DataFile(
        "aclImdb_v1.tar.gz",
        "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        "01ada507287d82875905620988597833ad4e0903",
        also_accepted=("f16bf12888342f8c8fe397a306ded2a029d81419",),
        own_data="your own labelled texts, point data.path at a TSV, CSV or JSONL file of "
        "labels and texts (task=sentiment data=labelled data.path=FILE)",
    ),
}


def data_root(root: str | None = None) -> Path:
    """The data directory: `root` (the config's data.root) if given, else $RNNLAB_DATA,
    else ~/.cache/rnnlab."""
    chosen = root or os.environ.get("RNNLAB_DATA") or "~/.cache/rnnlab"
    return Path(chosen).expanduser()


def sha1_of(path: str | os.PathLike) -> str:
    """Hex sha1 of a file, read in chunks so a large archive never sits in memory."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(name: str, root: str | None = None, download: bool = True) -> Path:
    """Path of dataset `name` in the data directory, downloading it first if it is absent
    and `download` is true. Raises RnnlabError for an unknown name, a file whose sha1 is
    not the expected one, or a file that is missing and cannot be downloaded."""
    if name not in DATASETS:
        raise RnnlabError(f"unknown dataset {name!r}; expected one of: {', '.join(DATASETS)}")
    entry = DATASETS[name]
    directory = data_root(root)
    path = directory / entry.file_name
    if path.is_file():
        if path.stat().st_size == 0:
            raise RnnlabError(
                f"{path} is empty (0 bytes); delete it to download it again from {entry.url}"
            )
        actual = _unexpected_sha1(path, entry)
        if actual:
            raise RnnlabError(
                f"{path} has sha1 {actual}, expected {' or '.join(entry.accepted_sha1s)}: "
                f"{_advice(entry, path)}"
            )
        return path
    if not download:
        raise RnnlabError(
            f"{entry.file_name} not found in {directory} and download is off; "
            f"get it from {entry.url}, or {_HINT}"
        )
    _download(entry, path)
    return path


def _advice(entry: DataFile, path: Path) -> str:
    """What to do with a file that is not the dataset: train on it as the user's own data,
    where a source reads such files, or download the dataset again."""
    again = f"delete it to download it again from {entry.url}"
    if entry.own_data is None:
        return again
    to_train = entry.own_data.format(path=path)
    return f"it is not the bundled {entry.file_name}; to train on {to_train}, or {again}"


def _unexpected_sha1(path: Path, entry: DataFile) -> str | None:
    """The file's sha1 if `entry` does not accept it, else None."""
    if not entry.accepted_sha1s:
        return None
    actual = sha1_of(path)
    return None if actual in entry.accepted_sha1s else actual


def _download(entry: DataFile, path: Path) -> None:
    """Download into a temporary file beside `path`, check it, then rename it into place;
    the temporary file is removed on any failure."""
    directory = path.parent
    tmp_name = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=directory, prefix=f".{entry.file_name}.", suffix=".part", delete=False
        ) as out:
            tmp_name = out.name
            _copy_url(entry.url, out, entry.file_name)
        actual = _unexpected_sha1(Path(tmp_name), entry)
        if actual:
            raise RnnlabError(
                f"{entry.file_name} downloaded from {entry.url} has sha1 {actual}, expected "
                f"{' or '.join(entry.accepted_sha1s)}; nothing was saved in {directory}"
            )
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError as exc:  # URLError, timeouts and disk errors are all OSErrors
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise RnnlabError(
            f"could not download {entry.file_name} into {directory} from {entry.url} "
            f"({reason}); {_HINT}"
        ) from exc
    finally:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)


def _copy_url(url: str, out, label: str) -> None:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        total = response.headers.get("Content-Length")
        with tqdm(
            total=int(total) if total else None,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=label,
            leave=False,
        ) as bar:
            for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
                out.write(chunk)
                bar.update(len(chunk))
