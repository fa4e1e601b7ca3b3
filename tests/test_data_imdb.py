"""IMDB reviews: tokenizer, vocabulary, truncation, splits and the token cache, on
hand-written reviews and a tiny archive written by the test."""

import io
import tarfile

import pytest
import torch

from rnnlab.data.imdb import load_token_cache
from rnnlab.data.labelled import PAD, build_cache, split_reviews, tokenize, truncate
from rnnlab.data.vocab import UNK
from rnnlab.errors import RnnlabError

TRAIN = (
    [
        "A great film.<br /><br />Great cast!",
        "Bad, bad film... I didn't like it.",
        "great great acting",
        "dull",
    ],
    [1, 0, 1, 0],
)
TEST = (["An unseen word: marvellous", "bad"], [1, 0])


def test_tokenizer_lowercases_drops_line_breaks_and_splits_punctuation():
    assert tokenize("A great film.<br /><br />Great cast!") == [
        "a",
        "great",
        "film",
        ".",
        "great",
        "cast",
        "!",
    ]
    assert tokenize("I didn't like it... (at ALL)") == [
        "i",
        "didn't",
        "like",
        "it",
        ".",
        ".",
        ".",
        "(",
        "at",
        "all",
        ")",
    ]
    assert tokenize("<br/>line<BR />break") == ["line", "break"]


def test_without_punctuation_the_reviews_are_words_only_before_cutting():
    assert tokenize("I didn't like it... (at ALL)", punctuation=False) == [
        "i",
        "didn't",
        "like",
        "it",
        "at",
        "all",
    ]
    data = split_reviews(
        build_cache({"train": TRAIN, "test": TEST}),
        vocab_size=None,
        min_freq=1,
        max_len=3,
        truncate_mode="tail",
        val_fraction=0.25,
        split_seed=0,
        punctuation=False,
    )
    tokens = data.vocab.to_list()
    assert not {".", ",", "!", ":"} & set(tokens)
    reviews = [data.vocab.to_tokens(ids) for ids in [*data.train.ids, *data.val.ids]]
    # "Bad, bad film... I didn't like it." keeps its last three words, no marks among them
    assert ["didn't", "like", "it"] in reviews
    assert data.vocab.to_tokens(data.test.ids[0])[-1] == "<unk>"  # "marvellous", not ":"


def test_vocab_comes_from_the_training_reviews_by_frequency():
    data = split_reviews(
        build_cache({"train": TRAIN, "test": TEST}),
        vocab_size=None,
        min_freq=1,
        max_len=100,
        truncate_mode="head",
        val_fraction=0.25,
        split_seed=0,
    )
    tokens = data.vocab.to_list()
    assert tokens[:2] == [UNK, PAD]
    assert "marvellous" not in tokens  # test words never enter the vocabulary
    # The held-out review is the one of its length (the four lengths differ); the words
    # only it uses are not in the vocabulary: it is built from the training reviews only.
    (val_text,) = [t for t in TRAIN[0] if len(tokenize(t)) == len(data.val.ids[0])]
    val_only = set(tokenize(val_text)).difference(*(tokenize(t) for t in TRAIN[0] if t != val_text))
    assert val_only and not val_only & set(tokens)
    counts = [sum(int((ids == data.vocab[t]).sum()) for ids in data.train.ids) for t in tokens[2:]]
    assert counts == sorted(counts, reverse=True)  # most frequent first
    assert len(data.train) == 3 and len(data.val) == 1 and len(data.test) == 2
    assert data.vocab.to_tokens(data.test.ids[1]) == ["bad"]
    assert data.test.labels.tolist() == [1.0, 0.0]


def test_vocab_size_and_min_freq_limit_the_vocabulary():
    cache = build_cache({"train": TRAIN, "test": TEST})
    small = split_reviews(
        cache,
        vocab_size=4,
        min_freq=1,
        max_len=100,
        truncate_mode="head",
        val_fraction=0.01,
        split_seed=0,
    )
    assert small.vocab.to_list() == [UNK, PAD, ".", "great"]  # 4 each: ties by the token
    frequent = split_reviews(
        cache,
        vocab_size=None,
        min_freq=2,
        max_len=100,
        truncate_mode="head",
        val_fraction=0.01,
        split_seed=0,
    )
    assert set(frequent.vocab.to_list()) == {UNK, PAD, "great", ".", "bad", "film"}
    assert frequent.vocab.to_tokens(frequent.train.ids[0])[:3] == [UNK, "great", "film"]


@pytest.mark.parametrize(
    ("mode", "expected"), [("head", [0, 1, 2, 3]), ("tail", [6, 7, 8, 9]), ("both", [0, 1, 8, 9])]
)
def test_truncate_keeps_head_tail_or_both_ends(mode, expected):
    assert truncate(torch.arange(10), 4, mode).tolist() == expected
    assert truncate(torch.arange(3), 4, mode).tolist() == [0, 1, 2]


def test_bad_options_are_one_line_errors():
    cache = build_cache({"train": TRAIN, "test": TEST})
    for kwargs, fragment in [
        ({"truncate_mode": "middle"}, "data.truncate='middle'"),
        ({"max_len": 0}, "data.max_len=0"),
        ({"val_fraction": 1.0}, "data.val_fraction=1.0"),
        ({"vocab_size": 2}, "data.vocab_size=2"),
    ]:
        options = {
            "vocab_size": None,
            "min_freq": 1,
            "max_len": 10,
            "truncate_mode": "head",
            "val_fraction": 0.25,
            "split_seed": 0,
            **kwargs,
        }
        with pytest.raises(RnnlabError, match=fragment.replace(".", r"\.")):
            split_reviews(cache, **options)


def write_archive(path, with_unsup=False):
    """A tar.gz laid out like aclImdb_v1.tar.gz, holding TRAIN and TEST."""
    with tarfile.open(path, "w:gz") as tar:
        files = {"aclImdb/README": "readme"}
        for split, (texts, labels) in (("train", TRAIN), ("test", TEST)):
            for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
                files[f"aclImdb/{split}/{'pos' if label else 'neg'}/{i}_7.txt"] = text
        if with_unsup:
            files["aclImdb/train/unsup/0_0.txt"] = "unlabelled"
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("with_unsup", [False, True])
def test_archive_is_tokenised_once_into_the_cache(tmp_path, with_unsup):
    archive = tmp_path / "aclImdb_v1.tar.gz"
    write_archive(archive, with_unsup)
    cache = load_token_cache(archive, tmp_path / "cache")
    assert cache["train_labels"].tolist() == [0, 0, 1, 1] or sorted(
        cache["train_labels"].tolist()
    ) == [0, 0, 1, 1]
    assert len(cache["test_labels"]) == 2 and "unlabelled" not in cache["tokens"]
    (cached,) = (tmp_path / "cache").iterdir()
    assert not list((tmp_path / "cache").glob(".*tmp"))
    archive.unlink()  # a second load reads the cache, not the archive
    write_archive(archive, with_unsup)  # same bytes → same cache name (sha1 of the archive)
    before = cached.stat().st_mtime_ns
    assert load_token_cache(archive, tmp_path / "cache")["tokens"] == cache["tokens"]
    assert cached.stat().st_mtime_ns == before


def test_a_damaged_cache_is_rebuilt(tmp_path):
    archive = tmp_path / "aclImdb_v1.tar.gz"
    write_archive(archive)
    cache = load_token_cache(archive, tmp_path / "cache")
    (cached,) = (tmp_path / "cache").iterdir()
    cached.write_bytes(cached.read_bytes()[:100])  # an interrupted copy, say
    assert load_token_cache(archive, tmp_path / "cache")["tokens"] == cache["tokens"]


def test_a_foreign_cache_is_rebuilt(tmp_path):
    """Issue 31, defect 14: a loadable cache that is not ours gave KeyError: 'train_offsets'."""
    archive = tmp_path / "aclImdb_v1.tar.gz"
    write_archive(archive)
    cache = load_token_cache(archive, tmp_path / "cache")
    (cached,) = (tmp_path / "cache").iterdir()
    torch.save({"tokens": ["x"]}, cached)
    assert load_token_cache(archive, tmp_path / "cache").keys() == cache.keys()


def test_an_archive_without_reviews_is_a_clear_error(tmp_path):
    archive = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(archive, "w:gz"):
        pass
    with pytest.raises(RnnlabError, match="holds no aclImdb/train"):
        load_token_cache(archive, tmp_path / "cache")
