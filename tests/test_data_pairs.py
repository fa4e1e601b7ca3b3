"""data=pairs: a user's sentence pairs for translation, tokenised without assuming a
language; data=fra_eng is its instance with d2l's tokenizer; each bad file is one line
before any run directory exists."""

import json

import pytest
from helpers.config import compose_config
from helpers.own_data import PAIRS_SMALL, pairs_text, refused, refused_file
from omegaconf import OmegaConf

from rnnlab.config.run_config import typed_config
from rnnlab.data.fra_eng import FraEngConfig
from rnnlab.data.fra_eng import corpus_from_text as fra_eng_corpus
from rnnlab.data.pairs import Pairs, tokenizer_of
from rnnlab.data.sentences import D2L, SentenceTokenizer, join_words, split_words
from rnnlab.errors import RnnlabError
from rnnlab.evaluate import evaluate
from rnnlab.train import train
from rnnlab.translate import TranslateConfig, translate_with_checkpoint


@pytest.mark.parametrize(
    "sentence, tokens",
    [
        ("Ça va, Zoë?", ["Ça", "va", ",", "Zoë", "?"]),
        ("Привет, мир!", ["Привет", ",", "мир", "!"]),
        ("¿Qué tal?", ["¿", "Qué", "tal", "?"]),
        ("नमस्ते दुनिया।", ["नमस्ते", "दुनिया", "।"]),  # vowel signs stay in their word
        ("l'homme", ["l", "'", "homme"]),  # no French rule: every mark is a token
        ("  a\u00a0b  ", ["a", "b"]),
    ],
)
def test_words_split_on_spaces_and_unicode_marks(sentence, tokens):
    assert split_words(sentence) == tokens


def test_words_join_without_spaces_inside_marks():
    assert join_words(["ça", "va", ",", "zoë", "?"]) == "ça va, zoë?"
    assert join_words(["¿", "qué", "tal", "?"]) == "¿qué tal?"
    assert join_words(["er", "sagt", "(", "leise", ")", "nein", "."]) == "er sagt (leise) nein."


def test_lowercase_is_a_choice_and_nfc_joins_accents():
    decomposed = "Cafe\u0301"  # e + combining acute
    assert SentenceTokenizer("words").tokens(decomposed) == ["caf\u00e9"]
    assert SentenceTokenizer("words", lowercase=False).tokens(decomposed) == ["Caf\u00e9"]


def test_d2l_tokenizer_is_the_books_cleaning():
    assert D2L.tokens("Go.\u202fNow!") == ["go", ".", "now", "!"]
    assert D2L.text(["j'ai", "vu", "."]) == "j'ai vu."


def pairs_config(path, *overrides):
    return typed_config(compose_config([*PAIRS_SMALL, f"data.path={path}", *overrides])).data


def test_a_file_of_pairs_is_split_by_source_sentence(tmp_path):
    path = tmp_path / "de-en.tsv"
    path.write_text(pairs_text(300))
    corpus = Pairs.load(pairs_config(path))
    sizes = [len(corpus.train), len(corpus.val), len(corpus.test)]
    assert sum(sizes) == 300 and min(sizes) > 0
    held_out = {" ".join(s) for s in corpus.val.src_tokens + corpus.test.src_tokens}
    assert not held_out & {" ".join(s) for s in corpus.train.src_tokens}
    assert corpus.tokenizer == SentenceTokenizer("words", True)
    assert "groß" in corpus.src_vocab.token_to_idx  # lower case, ß kept
    targets = {line.split("\t")[1] for line in pairs_text(300).splitlines()}
    assert set(corpus.test.tgt_text) <= targets  # the references as they stand in the file


def test_fra_eng_is_the_pairs_source_with_d2ls_tokenizer():
    assert tokenizer_of(OmegaConf.structured(FraEngConfig)) == D2L
    corpus = fra_eng_corpus(
        "".join(f"Go {i}.\tVa {i} !\n" for i in range(200)), num_examples=None, min_freq=1
    )
    assert corpus.tokenizer == D2L
    assert corpus.train.src_tokens[0][::2] == ["go", "."]


def test_train_translate_and_evaluate_on_own_pairs(tmp_path):
    path = tmp_path / "de-en.tsv"
    path.write_text(pairs_text(400))
    run_dir = tmp_path / "run"
    metrics = train(compose_config([*PAIRS_SMALL, f"data.path={path}"]), run_dir, "gru")
    assert metrics["status"] == "finished"
    assert "tok:13a" in metrics["test_sacrebleu_signature"]
    assert json.loads((run_dir / "metrics.json").read_text())["test_sacrebleu"] >= 0
    out = translate_with_checkpoint(
        TranslateConfig(checkpoint=str(run_dir), beam_size=2), ["Katze rot!"]
    )
    assert len(out) == 1 and "<" not in out[0]
    (tmp_path / "more.tsv").write_text("Haus rot.\thouse red.\nKatze!\tcat!\n")
    scores = evaluate(str(run_dir), "test", [], str(tmp_path / "more.tsv"))
    assert "file/sacrebleu" in scores


BAD_PAIRS = [
    ("missing", None, "does not exist"),
    ("folder", "folder", "is a directory"),
    ("empty.tsv", "\n  \n", "is empty"),
    ("latin1.tsv", "Haus\thouse\nK\u00e4se\tcheese\n".encode("latin-1"), "line 2 is not UTF-8"),
    ("notab.tsv", "Haus\thouse\nKatze cat\n", "line 2 has no tab: 'Katze cat'"),
    ("oneside.tsv", "Haus\thouse\n\t!\n", "line 2 has an empty side"),
    ("few.tsv", pairs_text(300), "fewer than one batch (data.batch_size=500)"),
]
EXTRA = {"few.tsv": ["data.batch_size=500"]}


@pytest.mark.parametrize("name, content, message", BAD_PAIRS, ids=[c[0] for c in BAD_PAIRS])
def test_a_bad_pairs_file_is_one_line_and_leaves_no_run_directory(
    tmp_path, monkeypatch, capsys, name, content, message
):
    argv = [*PAIRS_SMALL, *EXTRA.get(name, [])]
    assert message in refused_file(monkeypatch, capsys, tmp_path / name, content, argv)


def test_data_path_unset_is_one_line(monkeypatch, capsys):
    assert "data.path is not set" in refused(monkeypatch, capsys, PAIRS_SMALL)


def test_load_refuses_a_bad_file_without_the_command_line(tmp_path):
    (tmp_path / "notab.tsv").write_text("Haus\thouse\nKatze cat\n")
    with pytest.raises(RnnlabError, match="line 2 has no tab"):
        Pairs.load(pairs_config(tmp_path / "notab.tsv"))
