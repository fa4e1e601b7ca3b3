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
