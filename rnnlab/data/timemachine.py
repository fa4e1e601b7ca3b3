"""H. G. Wells' *The Time Machine* as a language-modelling corpus, prepared as in the d2l
book (chapter 9): letters only, lower case, split into characters or words.

The validation split is the *end* of the book rather than random sentences, so the model
is scored on text it has never seen any part of, and both splits stay one continuous
stream for the sequential sampler.

Three ways to clean the text (`preprocess`), for the book and for any text
(`data=text`, rnnlab/data/text.py):
- "text" (the default): the whole book at once, every run of non-letters one space, so
  words on either side of a line break stay apart.
- "d2l": exactly `d2l.load_corpus_time_machine`: each line reduced to lower-case letters
  and spaces and stripped, then the lines' characters concatenated with nothing between
  them (so "machine" at a line's end runs into the next line's first word). 170,580
  characters for the whole book; the published ablation study trained on its first
  10,000 (`max_tokens`, d2l's default), which this module reproduces.
- "raw": the text as it is (case, punctuation, digits, newlines), as char-rnn reads
  Shakespeare or source code.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnlab.config.schema import NATURAL, POSITIVE, in_range, one_of, setting
from rnnlab.data.download import fetch
from rnnlab.data.sampling import SAMPLINGS
from rnnlab.data.vocab import UNK, Vocab
from rnnlab.errors import RnnlabError

TOKEN_KINDS = ("char", "word")
PREPROCESSINGS = ("text", "d2l", "raw")


@dataclass
class LMCorpus:
    """A tokenised corpus: `train`, `val` and `test` are 1-D int64 token ids, `val` the
    text that follows `train` (or a separate text); `test` is None when the source has
    no test split (the book)."""

    vocab: Vocab
    train: torch.Tensor
    val: torch.Tensor
    test: torch.Tensor | None = None


def preprocess(text: str) -> str:
    """Every run of non-letters becomes one space and letters become lower case, so the
    character vocabulary is the 26 letters and the space."""
    return re.sub("[^A-Za-z]+", " ", text).lower()


def preprocess_d2l(text: str) -> str:
    """d2l's `read_time_machine` + `load_corpus_time_machine`: per line, non-letter runs
    become one space, the line is stripped and lower-cased; the lines are then joined with
    no separator (d2l concatenates the lines' tokens)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # as readlines()
    return "".join(re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in lines)


def clean(text: str, preprocessing: str) -> str:
    """`text` cleaned as `preprocessing` ("text", "d2l" or "raw") says."""
    _check_preprocessing(preprocessing)
    if preprocessing == "raw":
        return text
    return preprocess(text) if preprocessing == "text" else preprocess_d2l(text)


def text_tokens(text: str, token: str, preprocessing: str, source: str) -> list[str]:
    """`text` cleaned and split into tokens; `source` names it when nothing is left."""
    _check_token(token)
    text = clean(text, preprocessing)
    if not text.strip():
        expected = (
            "text" if preprocessing == "raw" else "letters to tokenize; expected English text"
        )
        raise RnnlabError(f"{source} has no {expected}")
    return tokenize(text, token)


def split_end(tokens: list[str], val_fraction: float, source: str, token: str):
    """(train, val): the last `val_fraction` of `tokens` (rounded down) held out."""
    _check_val_fraction(val_fraction)
    num_val = int(len(tokens) * val_fraction)
    if num_val == 0 or num_val == len(tokens):
        raise RnnlabError(
            f"{source} has {len(tokens)} {token} tokens, too few to split with "
            f"val_fraction={val_fraction}; expected both splits to be non-empty"
        )
    return tokens[:-num_val], tokens[-num_val:]


def tokenize(text: str, token: str) -> list[str]:
    """Characters (`token="char"`) or whitespace-separated words (`token="word"`)."""
    _check_token(token)
    return list(text) if token == "char" else text.split()


def detokenize(tokens: list[str], token: str) -> str:
    """The inverse of `tokenize` on preprocessed text: characters join with nothing, words
    with spaces."""
    _check_token(token)
    return ("" if token == "char" else " ").join(tokens)


def foreign_token(vocabulary: list[str], token: str) -> str | None:
    """A token of `vocabulary` (`Vocab.to_list()`) that `tokenize(text, token)` never gives,
    or None: for "char", one longer than a character; for "word", one holding whitespace
    (the space of a character vocabulary). `<unk>` belongs to both."""
    _check_token(token)
    for known in vocabulary:
        if known != UNK and (len(known) != 1 if token == "char" else known.split() != [known]):
            return known
    return None


def corpus_from_text(
    text: str,
    token: str = "char",
    min_freq: int = 0,
    val_fraction: float = 0.1,
    *,
    source: str = "text",
    preprocessing: str = "text",
    max_tokens: int | None = None,
) -> LMCorpus:
    """Preprocess and tokenise `text`, build the vocabulary over all of it, and keep the
    last `val_fraction` of the tokens (rounded down) for validation.

    `preprocessing` is "text", "d2l" or "raw" (see the module docstring). `max_tokens` keeps only
    the first `max_tokens` tokens of the book for training (d2l's `max_tokens`; the study
    trained on 10,000 characters); the validation split stays the end of the whole book,
    so it is never trained on and every run gains a held-out perplexity. `source` names
    the text in error messages (a file path, say).
    """
    _check_val_fraction(val_fraction)
    tokens = text_tokens(text, token, preprocessing, source)
    train, val = split_end(tokens, val_fraction, source, token)
    vocab = Vocab(tokens, min_freq=min_freq)
    train, val = token_ids(vocab, train), token_ids(vocab, val)
    if max_tokens is not None:
        _check_max_tokens(max_tokens, len(train), token)
        train = train[:max_tokens]
    return LMCorpus(vocab=vocab, train=train, val=val)


def token_ids(vocab: Vocab, tokens: list[str]) -> torch.Tensor:
    """(len(tokens),) int64 ids; a token not in `vocab` is `<unk>`."""
    return torch.tensor(vocab[tokens], dtype=torch.long)


def load_timemachine(
    root: str | None = None,
    token: str = "char",
    min_freq: int = 0,
    val_fraction: float = 0.1,
    download: bool = True,
    preprocessing: str = "text",
    max_tokens: int | None = None,
) -> LMCorpus:
    """The Time Machine from the data directory (see `download.fetch`), tokenised and
    split; with character tokens the vocabulary has 28 entries (letters, space, <unk>)."""
    _check_token(token)
    _check_val_fraction(val_fraction)
    _check_preprocessing(preprocessing)
    path = fetch("timemachine", root, download)
    return corpus_from_text(
        _read_utf8(path),
        token,
        min_freq,
        val_fraction,
        source=str(path),
        preprocessing=preprocessing,
        max_tokens=max_tokens,
    )


def _read_utf8(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RnnlabError(
            f"{path} is not UTF-8 text (byte {exc.start}); expected the plain-text book"
        ) from exc


def _check_token(token: str) -> None:
    if token not in TOKEN_KINDS:
        raise RnnlabError(f"data.token={token!r} is not one of: {', '.join(TOKEN_KINDS)}")


def _check_preprocessing(preprocessing: str) -> None:
    if preprocessing not in PREPROCESSINGS:
        raise RnnlabError(
            f"data.preprocess={preprocessing!r} is not one of: {', '.join(PREPROCESSINGS)}"
        )


def _check_max_tokens(max_tokens, num_train: int, token: str) -> None:
    if (
        isinstance(max_tokens, bool)
        or not isinstance(max_tokens, int)
        or not 1 <= max_tokens <= num_train
    ):
        raise RnnlabError(
            f"data.max_tokens={max_tokens!r} is not an integer in [1, {num_train}] "
            f"(the {token} tokens before the held-out end of the book) or null"
        )


def _check_val_fraction(val_fraction: float) -> None:
    if not isinstance(val_fraction, int | float) or not 0 < val_fraction < 1:
        raise RnnlabError(f"data.val_fraction={val_fraction!r} is not in (0, 1)")


@dataclass
class LMDataConfig:
    """What every language-model source shares: its tokens, their cleaning, the held-out
    end and how batches are cut (each source adds where its text comes from)."""

    name: str = setting("", on_resume="must_match")  # each source's own name
    token: str = setting("char", one_of(TOKEN_KINDS), on_resume="must_match")
    min_freq: int = setting(0, NATURAL, on_resume="must_match")  # rarer tokens become <unk>
    preprocess: str = setting("text", one_of(PREPROCESSINGS))  # raw: the text as it is
    val_fraction: float = setting(0.1, in_range(0, 1, low_open=True))  # the held-out end
    sampling: str = setting("sequential", one_of(SAMPLINGS))  # sequential carries the state
    batch_size: int = setting(32, POSITIVE)
    num_steps: int = setting(35, POSITIVE)


@dataclass
class TimeMachineConfig(LMDataConfig):
    """data=timemachine: the book, its tokens, its held-out end, and how batches are cut."""

    name: str = setting("timemachine", one_of(["timemachine"]), on_resume="must_match")
    root: str | None = setting(
        None, on_resume="free"
    )  # data directory; null: $RNNLAB_DATA, else ~/.cache/rnnlab
    download: bool = setting(True, on_resume="free")  # false: never touch the network
    max_tokens: int | None = setting(None, POSITIVE)  # train on the first N tokens only


class TimeMachine:
    """The `data=timemachine` source: H. G. Wells' book, for the language model."""

    name, task, Config = "timemachine", "lm", TimeMachineConfig

    @staticmethod
    def load(data: TimeMachineConfig) -> LMCorpus:
        return load_timemachine(
            data.root,
            data.token,
            data.min_freq,
            data.val_fraction,
            data.download,
            preprocessing=data.preprocess,
            max_tokens=data.max_tokens,
        )
