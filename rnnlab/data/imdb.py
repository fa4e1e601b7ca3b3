"""The Large Movie Review Dataset (Maas et al., 2011): 25,000 training and 25,000 test
reviews, each labelled positive (1) or negative (0), as token-id tensors: the labelled
texts of rnnlab/data/labelled.py, with its own test split and a token cache.

Why a token cache and no extracted folder: the archive holds 50,000 small files, and
tokenising them costs more than reading them. So the first run reads the reviews
straight from the tar.gz (about 5 s), tokenises them once and saves every review as ids
into ONE cache file (`imdb-<archive sha1>-v<TOKENIZER_VERSION>.pt` in `data.cache_dir`),
written to a temporary name and renamed into place: an interrupted run leaves no
half-written cache that could pose as a complete one, and a later run loads the cache in
about a second. The cache ids index a corpus-wide token list; the run's vocabulary
(`data.vocab_size`, `data.min_freq`, counted on the run's training reviews only) is a
cheap remapping of those ids. Both upstream's archive and the shared mirror's repack
(no `train/unsup`) are read; unlabelled reviews are ignored.
"""

import io
import logging
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnlab.config.schema import one_of, setting
from rnnlab.data.download import fetch, sha1_of
from rnnlab.data.labelled import (
    LabelledSettings,
    SentimentData,
    build_cache,
    check_options,
    split_reviews,
)
from rnnlab.errors import RnnlabError

log = logging.getLogger(__name__)

TOKENIZER_VERSION = 2  # bump when `labelled.tokenize` changes, so old caches are not reused
_MEMBER = re.compile(r"aclImdb/(train|test)/(pos|neg)/\d+_\d+\.txt$")


def load_imdb(
    root: str | None,
    cache_dir: str | None,
    vocab_size: int | None,
    min_freq: int,
    max_len: int,
    truncate_mode: str,
    val_fraction: float,
    split_seed: int,
    download: bool = True,
    punctuation: bool = True,
) -> SentimentData:
    """The three splits of the archive in the data directory (see `split_reviews`)."""
    check_options(vocab_size, min_freq, max_len, truncate_mode, val_fraction, punctuation)
    cache = load_token_cache(fetch("aclImdb", root, download), cache_dir)
    return split_reviews(
        cache, vocab_size, min_freq, max_len, truncate_mode, val_fraction, split_seed, punctuation
    )


def cache_path(archive: Path, cache_dir: str | None) -> Path:
    directory = Path(cache_dir or "~/.cache/rnnlab").expanduser()
    return directory / f"imdb-{sha1_of(archive)[:12]}-v{TOKENIZER_VERSION}.pt"


CACHE_KEYS = {
    f"{split}_{part}" for split in ("train", "test") for part in ("ids", "offsets", "labels")
}
CACHE_KEYS.add("tokens")  # what `rnnlab.data.labelled.build_cache` writes


def load_token_cache(archive: Path, cache_dir: str | None) -> dict:
    """The tokenised archive, built and saved on first use (see the module docstring)."""
    path = cache_path(archive, cache_dir)
    if path.is_file():
        try:
            cache = torch.load(path, weights_only=True)
        except Exception:  # a foreign or damaged file: rebuild it
            cache = None
        if isinstance(cache, dict) and CACHE_KEYS <= cache.keys():
            return cache
        log.warning("rebuilding unreadable IMDB cache %s", path)  # damaged, or not ours
    log.info("tokenising %s once into %s", archive, path)
    cache = tokenize_archive(archive)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        torch.save(cache, tmp)
        os.replace(tmp, path)
    except OSError as error:
        raise RnnlabError(
            f"cannot write the IMDB token cache {path} ({error}); set "
            "data.cache_dir to a writable folder"
        ) from None
    return cache


def tokenize_archive(archive: Path) -> dict:
    """Every labelled review of the tar.gz, tokenised (see `build_cache`)."""
    splits = {"train": ([], []), "test": ([], [])}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                match = _MEMBER.search(member.name)
                if not member.isfile() or not match:
                    continue
                texts, labels = splits[match[1]]
                texts.append(io.TextIOWrapper(tar.extractfile(member), encoding="utf-8").read())
                labels.append(int(match[2] == "pos"))
    except (OSError, tarfile.TarError, EOFError) as error:
        raise RnnlabError(
            f"cannot read the IMDB reviews from {archive} ({error}); delete it to download it again"
        ) from None
    for split, (texts, _) in splits.items():
        if not texts:
            raise RnnlabError(f"{archive} holds no aclImdb/{split}/(pos|neg)/*.txt reviews")
    return build_cache(splits)


@dataclass
class ImdbConfig(LabelledSettings):
    """data=imdb: where the archive and its token cache are (and the settings every
    labelled source has)."""

    name: str = setting("imdb", one_of(["imdb"]), on_resume="must_match")
    root: str | None = setting(
        None, on_resume="free"
    )  # data directory; null: $RNNLAB_DATA, else ~/.cache/rnnlab
    cache_dir: str | None = setting(
        None, on_resume="free"
    )  # the tokenised reviews' cache; null: ~/.cache/rnnlab
    download: bool = setting(True, on_resume="free")  # false: never touch the network


class Imdb:
    """The `data=imdb` source: the Large Movie Review Dataset, for classification."""

    name, task, Config = "imdb", "sentiment", ImdbConfig

    @staticmethod
    def load(data: ImdbConfig) -> SentimentData:
        return load_imdb(
            data.root,
            data.cache_dir,
            data.vocab_size,
            data.min_freq,
            data.max_len,
            data.truncate,
            data.val_fraction,
            data.split_seed,
            data.download,
            data.punctuation,
        )
