"""Text classification data: labelled texts as token ids, from any file of labelled texts
(`data=labelled data.path=FILE`, TSV, CSV or JSONL: rnnlab/data/label_files.py); the
IMDB movie reviews (`data=imdb`, rnnlab/data/imdb.py) are one instance, read from their
archive through a token cache.

Texts are lower-cased, HTML line breaks removed, and split into words and punctuation
marks (`tokenize`). The labels are any strings, numbered in sorted order (`label_names`):
two labels train one logit (the second label is the positive class), more a softmax
(rnnlab/tasks/sentiment.py). A file is split by a seeded permutation: `test_fraction`
of the examples for the test split, then `val_fraction` of the rest to pick the best
epoch (as IMDB's training reviews are split); the vocabulary comes from the training
split only.
"""

import dataclasses
import re
from dataclasses import dataclass

import torch

from rnnlab.config.schema import NATURAL, POSITIVE, Check, in_range, one_of, setting
from rnnlab.data.label_files import FORMATS, expected, format_of, read_examples
from rnnlab.data.user_file import check_at_least_one_batch, read_user_file
from rnnlab.data.vocab import UNK, Vocab
from rnnlab.errors import RnnlabError

PAD = "<pad>"
TRUNCATE_MODES = ("head", "tail", "both")
BINARY_LABELS = ("neg", "pos")  # IMDB's, and what a checkpoint without label names had
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")
_WORD = re.compile(r"\w")


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
    """Texts as token ids: `ids[i]` a 1-D int64 tensor, `labels` (n,) class ids (IMDB:
    float 0./1.)."""

    ids: list[torch.Tensor]
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.ids)

    def first(self, n: int) -> "Reviews":
        """The first `n` texts (trainer.fast_dev_run)."""
        return Reviews(self.ids[:n], self.labels[:n])

    def lengths(self) -> torch.Tensor:
        return torch.tensor([len(x) for x in self.ids], dtype=torch.int64)


@dataclass
class SentimentData:
    """The three splits over one vocabulary; `label_names[i]` is the label of class id i."""

    vocab: Vocab
    train: Reviews
    val: Reviews
    test: Reviews
    label_names: tuple[str, ...] = BINARY_LABELS


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
class LabelledSettings:
    """What every source of labelled texts shares: the vocabulary, how texts are cut, the
    validation slice, the batches."""

    vocab_size: int | None = setting(
        20000, Check(lambda x: x >= 3, "an integer >= 3 or null"), on_resume="must_match"
    )
    min_freq: int = setting(1, NATURAL, on_resume="must_match")  # rarer words become <unk>
    max_len: int = setting(400, POSITIVE)  # tokens kept per text
    truncate: str = setting("both", one_of(TRUNCATE_MODES))  # which tokens a long text keeps
    punctuation: bool = setting(True)  # false: words only (as Keras' copy of IMDB)
    val_fraction: float = setting(0.1, in_range(0, 1, low_open=True))  # of the training texts
    split_seed: int = setting(0)  # fixed, so every seed selects on the same slice
    batch_size: int = setting(64, POSITIVE)
    pool_batches: int = setting(50, POSITIVE)  # batches drawn as pools sorted by length


@dataclass
class LabelledConfig(LabelledSettings):
    """data=labelled: a file of labelled texts, its format, and the test slice (and the
    settings every labelled source has)."""

    name: str = setting("labelled", one_of(["labelled"]), on_resume="must_match")
    path: str | None = setting(None)  # TSV, CSV or JSONL, UTF-8
    format: str = setting("auto", one_of(FORMATS))  # auto: by the suffix (.csv, .jsonl, else tsv)
    label_field: str = setting("label")  # the label's CSV column or JSON key
    text_field: str = setting("text")  # the text's CSV column or JSON key
    test_fraction: float = setting(0.1, in_range(0, 1, low_open=True))  # of the file

    def check(self) -> list[str]:
        if self.label_field == self.text_field:
            return [f"label_field and data.text_field are both {self.label_field!r}"]
        return []


def label_ids(
    examples: list[tuple[int, str, str]], source: str, names: tuple[str, ...] | None = None
) -> tuple[list[int], tuple[str, ...]]:
    """(class id of each example, the label names in order): `names` if given (a trained
    model's: an unknown label is an error naming its line), else the sorted labels, of
    which there must be two or more."""
    found = sorted({label for _, label, _ in examples})
    if names is None:
        if len(found) < 2:
            raise RnnlabError(
                f"{source} has a single label ({found[0]!r}) in all {len(examples)} "
                "examples; classification needs two or more"
            )
        names = tuple(found)
    index = {name: i for i, name in enumerate(names)}
    for number, label, _ in examples:
        if label not in index:
            raise RnnlabError(
                f"{source} line {number} has the label {label!r}, which the model does "
                f"not know; its labels: {', '.join(names)}"
            )
    return [index[label] for _, label, _ in examples], names


def file_examples(path: str, data) -> list[tuple[int, str, str]]:
    """(line number, label, text) of each example in the file `path`, read in the format
    `data` (a labelled run's data settings) names."""
    fmt = format_of(path, data.format)
    text = read_user_file(path, expected=expected(fmt, data.label_field, data.text_field))
    return read_examples(text, fmt, data.label_field, data.text_field, f"data.path={path!r}")


def load_labelled(data: LabelledConfig) -> SentimentData:
    """The file's examples in three splits (see the module docstring)."""
    source = f"data.path={data.path!r}"
    examples = file_examples(data.path, data)
    labels, names = label_ids(examples, source)
    order = torch.randperm(len(examples), generator=torch.Generator().manual_seed(data.split_seed))
    num_test = round(data.test_fraction * len(examples))
    test, rest = order[:num_test].tolist(), order[num_test:].tolist()
    split = {
        name: ([examples[i][2] for i in rows], [labels[i] for i in rows])
        for name, rows in (("train", rest), ("test", test))
    }
    prepared = split_reviews(
        build_cache(split),
        data.vocab_size,
        data.min_freq,
        data.max_len,
        data.truncate,
        data.val_fraction,
        data.split_seed,
        data.punctuation,
    )
    for name in ("val", "test"):
        if not len(getattr(prepared, name)):
            raise RnnlabError(
                f"{source}: {len(examples)} examples leave the {name} split empty with "
                f"data.val_fraction={data.val_fraction}, data.test_fraction="
                f"{data.test_fraction}; add examples or raise the fraction"
            )
    check_at_least_one_batch(len(prepared.train), data.batch_size, data.path, "training examples")
    return dataclasses.replace(prepared, label_names=names)


class Labelled:
    """The `data=labelled` source: a user's file of labelled texts, for classification."""

    name, task, Config = "labelled", "sentiment", LabelledConfig
    load = staticmethod(load_labelled)
    check = load  # what `rnnlab.data.check_data` runs before the run directory is made
