"""Vocab: ids ordered <unk>, reserved, then by frequency; stable across a checkpoint."""

import pytest
import torch

from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError

TOKENS = list("abracadabra")  # a:5 b:2 r:2 c:1 d:1


def test_round_trip_tokens_to_ids_to_tokens():
    vocab = Vocab(TOKENS)
    ids = vocab[TOKENS]
    assert vocab.to_tokens(ids) == TOKENS
    assert vocab.to_tokens(torch.tensor(ids)) == TOKENS
    assert vocab.to_tokens(ids[0]) == "a"


def test_ids_follow_frequency_with_ties_broken_by_token():
    vocab = Vocab(TOKENS)
    assert vocab.idx_to_token == ["<unk>", "a", "b", "r", "c", "d"]
    assert vocab.token_freqs == [("a", 5), ("b", 2), ("r", 2), ("c", 1), ("d", 1)]
    assert len(vocab) == 6


def test_list_of_lists_is_flattened():
    assert Vocab([list("abra"), list("cadabra")]).idx_to_token == Vocab(TOKENS).idx_to_token


def test_min_freq_drops_rare_tokens_to_unk():
    vocab = Vocab(TOKENS, min_freq=2)
    assert vocab.idx_to_token == ["<unk>", "a", "b", "r"]
    assert vocab["c"] == vocab.unk == 0


def test_reserved_tokens_come_right_after_unk():
    vocab = Vocab(TOKENS, reserved_tokens=["<pad>", "<bos>", "<eos>"])
    assert vocab.idx_to_token[:5] == ["<unk>", "<pad>", "<bos>", "<eos>", "a"]
    assert vocab["<eos>"] == 3


def test_unknown_token_maps_to_zero():
    vocab = Vocab(TOKENS)
    assert vocab["z"] == 0
    assert vocab[["a", "z"]] == [1, 0]


def test_to_list_from_list_rebuilds_identical_mapping():
    vocab = Vocab(TOKENS, reserved_tokens=["<pad>"])
    saved = vocab.to_list()
    assert all(type(t) is str for t in saved)
    loaded = Vocab.from_list(saved)
    assert loaded.idx_to_token == vocab.idx_to_token
    assert loaded.token_to_idx == vocab.token_to_idx
    assert loaded[list("cab?")] == vocab[list("cab?")]


def test_saved_list_loads_with_weights_only(tmp_path):
    vocab = Vocab(TOKENS)
    torch.save({"vocab": vocab.to_list()}, tmp_path / "ckpt.pt")
    loaded = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    assert Vocab.from_list(loaded["vocab"]).token_to_idx == vocab.token_to_idx


def test_from_list_rejects_a_list_without_unk_first():
    with pytest.raises(RnnlabError, match="'a'"):
        Vocab.from_list(["a", "<unk>"])
