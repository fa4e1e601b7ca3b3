"""The Large Movie Review Dataset (Maas et al., 2011): 25,000 training and 25,000 test
reviews, each labelled positive (1) or negative (0), as token-id tensors.

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

from rnnlab.config.schema import NATURAL, POSITIVE, Check, in_range, one_of, setting
from rnnlab.data.download import fetch, sha1_of
from rnnlab.data.vocab import UNK, Vocab
from rnnlab.errors import RnnlabError

log = logging.getLogger(__name__)

PAD = "<pad>"
TRUNCATE_MODES = ("head", "tail", "both")
TOKENIZER_VERSION = 2  # bump when `tokenize` changes, so old caches are not reused
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")
_WORD = re.compile(r"\w")
_MEMBER = re.compile(r"aclImdb/(train|test)/(pos|neg)/\d+_\d+\.txt$")


def tokenize(review: str, punctuation: bool = True) -> list[str]:
    """Lower case, HTML line breaks removed, words (with their apostrophes: "don't") and
    punctuation marks as separate tokens: "Great<br />film!" → ["great", "film", "!"];
    without `punctuation`, the words only (as Keras' copy of IMDB holds them)."""
    tokens = _TOKEN.findall(_BREAK.sub(" ", review).lower())
    return tokens if punctuation else [t for t in tokens if is_word(t)]


def is_word(token: str) -> bool:
    """A word token, not a punctuation mark (`tokenize` makes each mark its own token)."""
    return bool(_WORD.match(token))


@dataclass
class Reviews:
    """Reviews as token ids: `ids[i]` a 1-D int64 tensor, `labels` (n,) float 0./1."""

    ids: list[torch.Tensor]
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.ids)

    def first(self, n: int) -> "Reviews":
        """The first `n` reviews (trainer.fast_dev_run)."""
        return Reviews(self.ids[:n], self.labels[:n])

    def lengths(self) -> torch.Tensor:
        return torch.tensor([len(x) for x in self.ids], dtype=torch.int64)


@dataclass
class SentimentData:
    vocab: Vocab
    train: Reviews
    val: Reviews
    test: Reviews


def truncate(ids: torch.Tensor, max_len: int, mode: str) -> torch.Tensor:
    """At most `max_len` ids: the first (head), the last (tail), or both ends (the first
    half and the last half: reviews often open with the plot and close with the verdict)."""
    if len(ids) <= max_len:
        return ids
    if mode == "head":
        return ids[:max_len]
    if mode == "tail":
        return ids[len(ids) - max_len :]
    head = max_len // 2
    return torch.cat([ids[:head], ids[len(ids) - (max_len - head) :]])


def build_vocab(
    token_list: list[str], counts: torch.Tensor, vocab_size: int | None, min_freq: int
) -> Vocab:
    """The most frequent tokens (ties by the token), `<unk>` and `<pad>` first.
    counts[i] is how often token_list[i] occurs in the training reviews; `vocab_size`
    counts the two special tokens too (None: no limit)."""
    order = sorted(range(len(token_list)), key=lambda i: (-int(counts[i]), token_list[i]))
    kept = [token_list[i] for i in order if counts[i] >= max(min_freq, 1)]
    if vocab_size is not None:
        kept = kept[: max(vocab_size - 2, 0)]
    return Vocab.from_list([UNK, PAD, *kept])


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


def split_reviews(
    cache: dict,
    vocab_size: int | None,
    min_freq: int,
    max_len: int,
    truncate_mode: str,
    val_fraction: float,
    split_seed: int,
    punctuation: bool = True,
) -> SentimentData:
    """Train, validation and test reviews as run ids, with the vocabulary of the training
    reviews (validation excluded); `val_fraction` of the training reviews, drawn with
    `split_seed`, validate. Without `punctuation`, the marks are dropped before the
    vocabulary is counted and the reviews cut to `max_len`. `cache` is what
    `build_cache` returns."""
    check_options(vocab_size, min_freq, max_len, truncate_mode, val_fraction, punctuation)
    token_list = cache["tokens"]
    train_all, test = _split(cache, "train"), _split(cache, "test")
    if not punctuation:
        words = torch.tensor([is_word(t) for t in token_list])
        train_all, test = (
            Reviews([x[words[x]] for x in r.ids], r.labels) for r in (train_all, test)
        )
    order = torch.randperm(len(train_all), generator=torch.Generator().manual_seed(split_seed))
    num_val = round(val_fraction * len(train_all))
    val_index, train_index = order[:num_val].tolist(), order[num_val:].tolist()
    train = Reviews([train_all.ids[i] for i in train_index], train_all.labels[train_index])
    val = Reviews([train_all.ids[i] for i in val_index], train_all.labels[val_index])
    counts = torch.bincount(torch.cat(train.ids), minlength=len(token_list))
    vocab = build_vocab(token_list, counts, vocab_size, min_freq)
    remap = torch.tensor(vocab[token_list], dtype=torch.int64)  # cache id → run id
    return SentimentData(
        vocab, *(_prepare(r, remap, max_len, truncate_mode) for r in (train, val, test))
    )


def check_options(
    vocab_size, min_freq, max_len, truncate_mode, val_fraction, punctuation=True
) -> None:
    if vocab_size is not None and vocab_size < 3:
        raise RnnlabError(
            f"data.vocab_size={vocab_size} must be at least 3 (<unk>, <pad> and a word) or null"
        )
    if min_freq < 0:
        raise RnnlabError(f"data.min_freq={min_freq} must be >= 0")
    if max_len < 1:
        raise RnnlabError(f"data.max_len={max_len} must be a positive number of tokens")
    if truncate_mode not in TRUNCATE_MODES:
        raise RnnlabError(
            f"data.truncate={truncate_mode!r} is not one of: {', '.join(TRUNCATE_MODES)}"
        )
    if not 0.0 < val_fraction < 1.0:
        raise RnnlabError(f"data.val_fraction={val_fraction} must be in (0, 1)")
    if not isinstance(punctuation, bool):
        raise RnnlabError(f"data.punctuation={punctuation!r} must be true or false")


def _split(cache: dict, split: str) -> Reviews:
    flat, offsets = cache[f"{split}_ids"], cache[f"{split}_offsets"]
    ids = list(torch.split(flat.long(), torch.diff(offsets).tolist()))
    return Reviews(ids, cache[f"{split}_labels"].float())


def _prepare(reviews: Reviews, remap: torch.Tensor, max_len: int, mode: str) -> Reviews:
    """Run ids, truncated; an empty review becomes one `<unk>` so every length is >= 1."""
    ids = [
        truncate(remap[x], max_len, mode) if len(x) else torch.zeros(1, dtype=torch.int64)
        for x in reviews.ids
    ]
    return Reviews(ids, reviews.labels)


def cache_path(archive: Path, cache_dir: str | None) -> Path:
    directory = Path(cache_dir or "~/.cache/rnnlab").expanduser()
    return directory / f"imdb-{sha1_of(archive)[:12]}-v{TOKENIZER_VERSION}.pt"


def load_token_cache(archive: Path, cache_dir: str | None) -> dict:
    """The tokenised archive, built and saved on first use (see the module docstring)."""
    path = cache_path(archive, cache_dir)
    if path.is_file():
        try:
            return torch.load(path, weights_only=True)
        except Exception:  # a foreign or damaged file: rebuild it
            log.warning("rebuilding unreadable IMDB cache %s", path)
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


def build_cache(splits: dict[str, tuple[list[str], list[int]]]) -> dict:
    """{"train": (texts, labels), "test": (texts, labels)} → plain tensors and the token
    list (ids in first-seen order): per split flat int32 ids + offsets + int labels."""
    token_to_id: dict[str, int] = {}
    cache = {}
    for split, (texts, labels) in splits.items():
        reviews = [
            [token_to_id.setdefault(t, len(token_to_id)) for t in tokenize(text)] for text in texts
        ]
        lengths = torch.tensor([0] + [len(r) for r in reviews])
        cache[f"{split}_ids"] = torch.tensor(
            [i for r in reviews for i in r], dtype=torch.int32
        )  # half the bytes of int64
        cache[f"{split}_offsets"] = torch.cumsum(lengths, 0)
        cache[f"{split}_labels"] = torch.tensor(labels, dtype=torch.int64)
    cache["tokens"] = list(token_to_id)
    return cache


@dataclass
class ImdbConfig:
    """data=imdb: the vocabulary, how reviews are cut, the validation slice, the batches."""

    name: str = setting("imdb", one_of(["imdb"]), on_resume="must_match")
    root: str | None = setting(
        None, on_resume="free"
    )  # data directory; null: $RNNLAB_DATA, else ~/.cache/rnnlab
    cache_dir: str | None = setting(
        None, on_resume="free"
    )  # the tokenised reviews' cache; null: ~/.cache/rnnlab
    download: bool = setting(True, on_resume="free")  # false: never touch the network
    vocab_size: int | None = setting(
        20000, Check(lambda x: x >= 3, "an integer >= 3 or null"), on_resume="must_match"
    )
    min_freq: int = setting(1, NATURAL, on_resume="must_match")  # rarer words become <unk>
    max_len: int = setting(400, POSITIVE)  # tokens kept per review
    truncate: str = setting("both", one_of(TRUNCATE_MODES))  # which tokens a long review keeps
    punctuation: bool = setting(True)  # false: words only (as Keras' copy of IMDB)
    val_fraction: float = setting(0.1, in_range(0, 1, low_open=True))  # of the training reviews
    split_seed: int = setting(0)  # fixed, so every seed selects on the same slice
    batch_size: int = setting(64, POSITIVE)
    pool_batches: int = setting(50, POSITIVE)  # batches drawn as pools sorted by length


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
