"""H. G. Wells' *The Time Machine* as a language-modelling corpus, prepared as in the d2l
book (chapter 9): letters only, lower case, split into characters or words.

The validation split is the *end* of the book rather than random sentences, so the model
is scored on text it has never seen any part of, and both splits stay one continuous
stream for the sequential sampler.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnlab.data.download import fetch
from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError

TOKEN_KINDS = ("char", "word")


@dataclass
class LMCorpus:
    """A tokenised corpus: `train` and `val` are 1-D int64 token ids, `val` the text that
    follows `train`."""

    vocab: Vocab
    train: torch.Tensor
    val: torch.Tensor


def preprocess(text: str) -> str:
    """Every run of non-letters becomes one space and letters become lower case, so the
    character vocabulary is the 26 letters and the space."""
    return re.sub("[^A-Za-z]+", " ", text).lower()


def tokenize(text: str, token: str) -> list[str]:
    """Characters (`token="char"`) or whitespace-separated words (`token="word"`)."""
    _check_token(token)
    return list(text) if token == "char" else text.split()


def detokenize(tokens: list[str], token: str) -> str:
    """The inverse of `tokenize` on preprocessed text: characters join with nothing, words
    with spaces."""
    _check_token(token)
    return ("" if token == "char" else " ").join(tokens)


def corpus_from_text(
    text: str,
    token: str = "char",
    min_freq: int = 0,
    val_fraction: float = 0.1,
    *,
    source: str = "text",
) -> LMCorpus:
    """Preprocess and tokenise `text`, build the vocabulary over all of it, and keep the
    last `val_fraction` of the tokens (rounded down) for validation.

    `source` names the text in error messages (a file path, say).
    """
    _check_token(token)
    _check_val_fraction(val_fraction)
    text = preprocess(text)
    if not text.strip():
        raise RnnlabError(f"{source} has no letters to tokenize; expected English text")
    tokens = tokenize(text, token)
    num_val = int(len(tokens) * val_fraction)
    if num_val == 0 or num_val == len(tokens):
        raise RnnlabError(
            f"{source} has {len(tokens)} {token} tokens, too few to split with "
            f"val_fraction={val_fraction}; expected both splits to be non-empty"
        )
    vocab = Vocab(tokens, min_freq=min_freq)
    ids = torch.tensor(vocab[tokens], dtype=torch.long)
    return LMCorpus(vocab=vocab, train=ids[:-num_val], val=ids[-num_val:])


def load_timemachine(
    root: str | None = None,
    token: str = "char",
    min_freq: int = 0,
    val_fraction: float = 0.1,
    download: bool = True,
) -> LMCorpus:
    """The Time Machine from the data directory (see `download.fetch`), tokenised and
    split; with character tokens the vocabulary has 28 entries (letters, space, <unk>)."""
    _check_token(token)
    _check_val_fraction(val_fraction)
    path = fetch("timemachine", root, download)
    return corpus_from_text(_read_utf8(path), token, min_freq, val_fraction, source=str(path))


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


def _check_val_fraction(val_fraction: float) -> None:
    if not isinstance(val_fraction, int | float) or not 0 < val_fraction < 1:
        raise RnnlabError(f"data.val_fraction={val_fraction!r} is not in (0, 1)")
