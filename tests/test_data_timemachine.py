"""timemachine: d2l's preprocessing, tokenisation, and a validation split that is the end
of the text."""

import pytest
import torch

from rnnlab.data.timemachine import (
    corpus_from_text,
    detokenize,
    load_timemachine,
    preprocess,
    tokenize,
)
from rnnlab.errors import RnnlabError

TEXT = "The Time Machine, by H. G. Wells [1898]\n\nI. The Time Traveller (for so it will be"


def test_preprocess_keeps_lowercase_letters_and_single_spaces():
    assert preprocess("It's 8 o'clock --\nTime!") == "it s o clock time "
    assert preprocess(TEXT).startswith("the time machine by h g wells i the time traveller")


def test_tokenize_chars_and_words():
    assert tokenize("ab c", "char") == ["a", "b", " ", "c"]
    assert tokenize("the time  machine ", "word") == ["the", "time", "machine"]


def test_bad_token_kind_is_rejected():
    with pytest.raises(RnnlabError, match=r"data.token='bpe' is not one of: char, word"):
        tokenize("abc", "bpe")
    with pytest.raises(RnnlabError, match="'bpe'"):
        corpus_from_text(TEXT, token="bpe")


@pytest.mark.parametrize("val_fraction", [0, 1, -0.1, 1.5])
def test_bad_val_fraction_is_rejected(val_fraction):
    with pytest.raises(RnnlabError, match=rf"val_fraction={val_fraction}"):
        corpus_from_text(TEXT, val_fraction=val_fraction)


@pytest.mark.parametrize("text", ["", "1234 -- !!"])
def test_text_without_letters_is_rejected(text):
    with pytest.raises(RnnlabError, match="no letters"):
        corpus_from_text(text)


def test_text_too_short_to_split_is_rejected():
    with pytest.raises(RnnlabError, match="too few to split"):
        corpus_from_text("abc", val_fraction=0.1)


def test_validation_split_is_the_last_fraction_rounded_down():
    text = "abcdefghij" * 10 + "xyz"  # 103 characters
    corpus = corpus_from_text(text, "char", val_fraction=0.1)
    assert (len(corpus.train), len(corpus.val)) == (93, 10)
    everything = torch.cat([corpus.train, corpus.val])
    assert corpus.vocab.to_tokens(everything) == list(text)
    assert "".join(corpus.vocab.to_tokens(corpus.val)) == "defghijxyz"
    assert corpus.train.dtype == corpus.val.dtype == torch.int64


def test_word_tokens_and_min_freq():
    corpus = corpus_from_text(
        "the cat and the dog and the end", "word", min_freq=2, val_fraction=0.25
    )
    assert corpus.vocab.idx_to_token == ["<unk>", "the", "and"]
    assert corpus.vocab.to_tokens(corpus.val) == ["the", "<unk>"]
    assert len(corpus.train) == 6


def test_non_utf8_file_names_the_file(monkeypatch, tmp_path):
    from rnnlab.data import download

    (tmp_path / "timemachine.txt").write_bytes(b"caf\xe9 time machine")
    monkeypatch.setitem(
        download.DATASETS, "timemachine", download.DataFile("timemachine.txt", "file:///x", None)
    )
    with pytest.raises(RnnlabError, match=r"timemachine\.txt is not UTF-8"):
        load_timemachine(root=str(tmp_path), download=False)


def test_real_book_char_vocab_has_28_entries(real_data_dir):
    corpus = load_timemachine(root=str(real_data_dir), download=False)
    assert len(corpus.vocab) == 28
    assert corpus.vocab.idx_to_token[:3] == ["<unk>", " ", "e"]  # d2l's order
    total = len(corpus.train) + len(corpus.val)
    assert len(corpus.val) == total // 10


@pytest.mark.parametrize("token", ["char", "word"])
def test_detokenize_inverts_tokenize_on_preprocessed_text(token):
    text = preprocess(TEXT).strip()
    assert detokenize(tokenize(text, token), token) == text


# --- d2l's corpus (data.preprocess=d2l, data.max_tokens): the study's training text ---

BOOK = (
    "The Time Machine, by H. G. Wells [1898]\r\n\n\n\n\nI\n\n\n\x0c"
    "The Time Traveller (for so it will be convenient to speak of him)\n"
    "was expounding a recondite matter to us. His grey eyes shone and\n"
    "twinkled, and his usually pale face was flushed and animated.\n"
) * 3


def d2l_corpus(text: str, max_tokens: int = -1) -> list[str]:
    """d2l's own construction (d2l/torch.py: read_time_machine, tokenize(lines, 'char'),
    load_corpus_time_machine), written out here as the reference."""
    import io
    import re

    lines = [
        re.sub("[^A-Za-z]+", " ", line).strip().lower()  # open(...).readlines()
        for line in io.StringIO(text, newline=None).readlines()
    ]
    tokens = [list(line) for line in lines]
    corpus = [token for line in tokens for token in line]
    return corpus[:max_tokens] if max_tokens > 0 else corpus


def test_d2l_preprocessing_is_d2l_corpus_line_by_line():
    corpus = corpus_from_text(BOOK, preprocessing="d2l", val_fraction=0.1)
    tokens = corpus.vocab.to_tokens(torch.cat([corpus.train, corpus.val]).tolist())
    assert tokens == d2l_corpus(BOOK)
    # lines are joined with nothing between them, as d2l does: words run together
    assert "".join(tokens).startswith("the time machine by h g wellsithe time traveller")


def test_max_tokens_trains_on_the_first_tokens_and_holds_out_the_end_of_the_book():
    whole = corpus_from_text(BOOK, preprocessing="d2l", val_fraction=0.1)
    first = corpus_from_text(BOOK, preprocessing="d2l", val_fraction=0.1, max_tokens=100)
    assert first.vocab.to_tokens(first.train.tolist()) == d2l_corpus(BOOK, 100)
    assert torch.equal(first.val, whole.val)  # the held-out end is the whole book's
    assert first.vocab.idx_to_token == whole.vocab.idx_to_token  # d2l: vocab of the book


@pytest.mark.parametrize("max_tokens", [0, -5, 10**9, 2.5])
def test_max_tokens_out_of_range_is_refused(max_tokens):
    with pytest.raises(RnnlabError, match=r"data.max_tokens=.* is not an integer in \[1, "):
        corpus_from_text(BOOK, preprocessing="d2l", max_tokens=max_tokens)


def test_unknown_preprocessing_is_refused():
    with pytest.raises(RnnlabError, match="data.preprocess='nltk' is not one of: text, d2l"):
        corpus_from_text(BOOK, preprocessing="nltk")


def test_the_studys_corpus_from_the_real_book(real_data_dir):
    """d2l's book: 170,580 characters, 28 tokens; the study trained on the first 10,000."""
    whole = load_timemachine(root=str(real_data_dir), preprocessing="d2l", download=False)
    assert len(whole.train) + len(whole.val) == 170_580 and len(whole.vocab) == 28
    study = load_timemachine(
        root=str(real_data_dir), preprocessing="d2l", max_tokens=10_000, download=False
    )
    assert len(study.train) == 10_000 and torch.equal(study.val, whole.val)
    text = (real_data_dir / "timemachine.txt").read_text()
    assert study.vocab.to_tokens(study.train.tolist()) == d2l_corpus(text, 10_000)
