"""English-French pairs: d2l's cleaning, skipped lines, the held-out split, the arrays."""

import os
from pathlib import Path

import pytest
import torch

from rnnlab.data.fra_eng import corpus_from_text, load_fra_eng
from rnnlab.data.pairs import BOS, EOS, PAD, RESERVED_TOKENS, parse_pairs, split_of
from rnnlab.data.sentences import detokenize, preprocess
from rnnlab.data.vocab import UNK
from rnnlab.errors import RnnlabError


def pairs_text(n: int) -> str:
    """n distinct pairs, each English sentence translated twice."""
    lines = []
    for i in range(n // 2):
        lines += [f"I saw {i}.\tJ'ai vu\u202f{i}.", f"I saw {i}.\tJe vis {i} !"]
    return "\n".join(lines)


def test_preprocess_as_in_d2l():
    assert preprocess("Go.") == "go ."
    assert preprocess("Cours\u202f!") == "cours !"  # narrow no-break space
    assert preprocess("Hello,\xa0world!") == "hello , world !"
    assert preprocess("I'm home .") == "i'm home ."  # a space already there stays single


def test_detokenize_undoes_the_inserted_space_before_full_stops_and_commas():
    assert detokenize("oui , je suis chez moi .".split()) == "oui, je suis chez moi."
    assert detokenize("va !".split()) == "va !"


def test_lines_without_a_pair_are_skipped_and_counted():
    text = "Go.\tVa !\tCC-BY 2.0 (France)\nno tab here\n\nHi.\t \nRun!\tCours !\n"
    src, tgt, french, skipped = parse_pairs(text)
    assert src == [["go", "."], ["run", "!"]]
    assert tgt == [["va", "!"], ["cours", "!"]]  # columns after the second are ignored
    assert french == ["Va !", "Cours !"]  # as in the file
    assert skipped == 2  # the line without a tab and the one with an empty French side
    assert parse_pairs(text, num_examples=1)[0] == [["go", "."]]


def test_no_valid_pair_is_a_one_line_error():
    with pytest.raises(RnnlabError, match="no valid pairs") as error:
        corpus_from_text("just words\nmore words", source="fra.txt")
    assert "\n" not in str(error.value)


def test_split_is_deterministic_disjoint_and_keeps_translations_together():
    a = corpus_from_text(pairs_text(400), num_examples=None, val_fraction=0.1, test_fraction=0.1)
    b = corpus_from_text(pairs_text(400), num_examples=None, val_fraction=0.1, test_fraction=0.1)
    sentences = {}
    for name in ("train", "val", "test"):
        assert getattr(a, name).tgt_tokens == getattr(b, name).tgt_tokens
        sentences[name] = {" ".join(s) for s in getattr(a, name).src_tokens}
        assert len(getattr(a, name)) == 2 * len(sentences[name])  # both translations
    assert not sentences["train"] & sentences["val"]
    assert not sentences["train"] & sentences["test"]
    assert not sentences["val"] & sentences["test"]
    assert 10 <= len(sentences["test"]) <= 30  # about 10% of 200 sentences
    other_seed = corpus_from_text(
        pairs_text(400), num_examples=None, val_fraction=0.1, test_fraction=0.1, split_seed=1
    )
    assert other_seed.test.src_tokens != a.test.src_tokens


def test_a_held_out_sentence_stays_held_out_with_more_examples():
    for sentence in (["i", "saw", str(i), "."] for i in range(100)):
        assert split_of(sentence, 0.1, 0.1, seed=0) == split_of(sentence, 0.1, 0.1, seed=0)
    small = corpus_from_text(pairs_text(200), num_examples=200, test_fraction=0.2)
    large = corpus_from_text(pairs_text(400), num_examples=400, test_fraction=0.2)
    small_test = {" ".join(s) for s in small.test.src_tokens}
    large_test = {" ".join(s) for s in large.test.src_tokens}
    assert small_test < large_test


def test_held_out_examples_scores_a_larger_run_on_the_smaller_runs_pairs():
    small = corpus_from_text(pairs_text(200), num_examples=200, test_fraction=0.2)
    large = corpus_from_text(
        pairs_text(400), num_examples=400, test_fraction=0.2, held_out_examples=200
    )
    for name in ("val", "test"):
        assert getattr(large, name).tgt_text == getattr(small, name).tgt_text
        assert getattr(large, name).src_tokens == getattr(small, name).src_tokens
    assert len(large.train) > len(small.train)
    # the held-out sentences past the first 200 pairs are neither scored nor trained on
    unlimited = corpus_from_text(pairs_text(400), num_examples=400, test_fraction=0.2)
    assert large.train.src_tokens == unlimited.train.src_tokens
    assert len(unlimited.test) > len(large.test)
    with pytest.raises(RnnlabError, match="held_out_examples=2;"):
        corpus_from_text(pairs_text(400), num_examples=400, held_out_examples=2)


def test_too_few_pairs_for_the_split_is_an_error():
    with pytest.raises(RnnlabError, match="split empty"):
        corpus_from_text("Go.\tVa !\nHi.\tSalut !", num_examples=None)


def test_special_tokens_and_arrays():
    corpus = corpus_from_text(pairs_text(400), num_examples=None, num_steps=5, min_freq=1)
    for vocab in (corpus.src_vocab, corpus.tgt_vocab):
        assert vocab.to_list()[:4] == [UNK, *RESERVED_TOKENS]
    pad, bos, eos = (corpus.tgt_vocab[t] for t in (PAD, BOS, EOS))
    train = corpus.train
    assert train.src.shape == train.tgt_in.shape == train.tgt_out.shape == (len(train), 5)
    assert (train.tgt_in[:, 0] == bos).all()
    assert torch.equal(train.tgt_in[:, 1:], train.tgt_out[:, :-1])  # shifted right by one
    # "j'ai vu 7 ." + <eos> fills the 5 steps; "je vis 7 !" + <eos> too.
    first = corpus.tgt_vocab.to_tokens(train.tgt_out[0])
    assert first == train.tgt_tokens[0][:4] + [EOS]
    src_first = corpus.src_vocab.to_tokens(train.src[0])
    assert src_first == train.src_tokens[0] + [EOS]
    padded = corpus_from_text(pairs_text(400), num_examples=None, num_steps=8, min_freq=1)
    n = len(padded.train.tgt_tokens[0]) + 1
    row = padded.train.tgt_out[0].tolist()
    assert row[:n] == padded.tgt_vocab[padded.train.tgt_tokens[0] + [EOS]]
    assert row[n:] == [pad] * (8 - n)
    truncated = corpus_from_text(pairs_text(400), num_examples=None, num_steps=3)
    assert truncated.train.src.shape[1] == 3 and eos not in truncated.train.src[0].tolist()


def test_vocabularies_count_the_training_split_only():
    corpus = corpus_from_text(pairs_text(400), num_examples=None, min_freq=1)
    train_words = {w for s in corpus.train.src_tokens for w in s}
    test_only = {w for s in corpus.test.src_tokens for w in s} - train_words
    assert test_only  # the numbers in held-out sentences
    assert all(corpus.src_vocab[w] == corpus.src_vocab.unk for w in test_only)
    # The references BLEU scores against keep those words, not <unk>.
    assert not any(UNK in s for s in corpus.test.tgt_tokens)
    assert any(
        corpus.tgt_vocab[w] == corpus.tgt_vocab.unk for s in corpus.test.tgt_tokens for w in s
    )


@pytest.fixture
def fra_eng_dir() -> Path:
    root = Path(os.environ.get("RNNLAB_DATA") or "/nonexistent").expanduser()
    if not (root / "fra-eng.zip").is_file():
        pytest.skip("RNNLAB_DATA does not point at a folder holding fra-eng.zip")
    return root


def test_real_pairs(fra_eng_dir):
    corpus = load_fra_eng(str(fra_eng_dir), num_examples=600, download=False)
    assert len(corpus.train) + len(corpus.val) + len(corpus.test) == 600
    assert corpus.num_skipped == 0
    assert corpus.train.src_tokens[0] == ["go", "."]
    assert corpus.train.tgt_tokens[0] == ["va", "!"]
