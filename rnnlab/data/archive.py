"""Opening a dataset archive (.zip, .tar.gz) so that damage reads as one clear line.

A truncated or corrupt archive fails in different places and with different exceptions
(zipfile.BadZipFile when the zip's directory is cut off, "Bad CRC" or zlib.error on reading
a damaged member, EOFError or tarfile.ReadError part-way through a .tar.gz). Loaders open
archives with `open_archive` and read them inside its `with` block; any of those failures,
whether at open or while reading, becomes an RnnlabError naming the file and what to do.

    with open_archive(path) as archive:          # zipfile.ZipFile or tarfile.TarFile
        text = archive.read("fra-eng/fra.txt")   # (zip) or archive.extractfile(member) (tar)
"""

import gzip
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rnnlab.errors import RnnlabError

DAMAGE = (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)


@contextmanager
def open_archive(path: str | Path) -> Iterator[zipfile.ZipFile | tarfile.TarFile]:
    """The archive at `path`, by its suffix (.zip; .tar.gz or .tgz), open for the block."""
    path = Path(path)
    if path.name.endswith(".zip"):
        kind, opener = "zip", zipfile.ZipFile
    elif path.name.endswith((".tar.gz", ".tgz")):
        kind, opener = "tar.gz", lambda p: tarfile.open(p, "r:gz")
    else:
        raise RnnlabError(f"{path} is not a .zip or .tar.gz archive; expected one of those")
    if not path.is_file():
        raise RnnlabError(f"{path} does not exist; expected the {kind} archive there")
    try:
        with opener(path) as archive:
            yield archive
    except DAMAGE as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise RnnlabError(
            f"{path} is a truncated or corrupt {kind} archive ({reason}); "
            "delete it so that it is downloaded again, or replace it"
        ) from None


def check_archive(path: str | Path) -> None:
    """Read every member of the archive once (CRCs for zip, the whole stream for tar.gz),
    raising RnnlabError on damage: for archives whose sha1 is not known in advance."""
    with open_archive(path) as archive:
        if isinstance(archive, zipfile.ZipFile):
            bad = archive.testzip()
            if bad is not None:
                raise zipfile.BadZipFile(f"bad CRC in member {bad}")
        else:
            for member in archive:
                if member.isfile():
                    archive.extractfile(member).read()
