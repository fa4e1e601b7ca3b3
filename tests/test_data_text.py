"""`data=text`: a language model on any text (a file, a folder or a glob), its splits and
vocabulary, the tools on such a run, and bad data as one line that writes nothing."""

import sys

import pytest
from helpers.cli import REPO, assert_one_line_error, run
from helpers.config import TINY, compose_config
from omegaconf import OmegaConf

import rnnlab.train
from rnnlab.data.download import fetch
from rnnlab.data.text import TextConfig, load_text
from rnnlab.data.timemachine import detokenize, load_timemachine
from rnnlab.data.vocab import UNK
from rnnlab.errors import RnnlabError
from rnnlab.evaluate import evaluate
from rnnlab.generate import GenerateConfig, generate

LINE = "Hello, World! It's 42 o'clock.\n\tdef f(x): return x * 2  # ok\n"
SMALL = {"batch_size": 2, "num_steps": 5}


def corpus_of(**settings):
    return load_text(OmegaConf.structured(TextConfig(**{**SMALL, **settings})))


def text_of(corpus, ids, token="char") -> str:
    return detokenize(corpus.vocab.to_tokens(ids.tolist()), token)


def test_raw_keeps_the_text_as_it_is(tmp_path):
    (tmp_path / "a.txt").write_text(LINE * 30)
    corpus = corpus_of(path=str(tmp_path / "a.txt"), preprocess="raw")
    assert text_of(corpus, corpus.train) + text_of(corpus, corpus.val) == LINE * 30
    assert {"H", ",", "4", "\n", "\t", "#", "'"} <= set(corpus.vocab.idx_to_token)


def test_text_cleaning_is_the_books(tmp_path):
    (tmp_path / "a.txt").write_text(LINE * 30)
    corpus = corpus_of(path=str(tmp_path / "a.txt"))
    assert set(corpus.vocab.idx_to_token) <= set("abcdefghijklmnopqrstuvwxyz ") | {UNK}
    assert text_of(corpus, corpus.train).startswith("hello world it s o clock def f x return")


def test_word_tokens_are_split_at_whitespace(tmp_path):
    (tmp_path / "a.txt").write_text(LINE * 30)
    corpus = corpus_of(path=str(tmp_path / "a.txt"), preprocess="raw", token="word")
    assert corpus.vocab.to_tokens(corpus.train[:4].tolist()) == ["Hello,", "World!", "It's", "42"]
    assert len(corpus.train) + len(corpus.val) == len((LINE * 30).split())


def test_a_folder_is_its_files_in_sorted_order_hidden_ones_left_out(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("second file\n" * 20)
    (tmp_path / "a.txt").write_text("first file" * 20)  # no newline at its end
    (tmp_path / ".hidden.txt").write_text("SECRET" * 100)
    corpus = corpus_of(path=str(tmp_path), preprocess="raw", val_fraction=0.05)
    whole = text_of(corpus, corpus.train) + text_of(corpus, corpus.val)
    assert whole == "first file" * 20 + "\n" + "second file\n" * 20


def test_a_glob_reads_only_its_matches(tmp_path):
    for name, text in [("b.py", "print(2)\n"), ("a.py", "print(1)\n"), ("c.txt", "words\n")]:
        (tmp_path / name).write_text(text * 20)
    corpus = corpus_of(path=str(tmp_path / "*.py"), preprocess="raw")
    whole = text_of(corpus, corpus.train) + text_of(corpus, corpus.val)
    assert whole == "print(1)\n" * 20 + "print(2)\n" * 20


def test_val_path_and_test_path_are_their_own_texts_with_the_training_vocabulary(tmp_path):
    (tmp_path / "train.txt").write_text("abc abc " * 40)
    (tmp_path / "val.txt").write_text("cab Zed")
    (tmp_path / "test.txt").write_text("bca!")
    corpus = corpus_of(
        path=str(tmp_path / "train.txt"),
        val_path=str(tmp_path / "val.txt"),
        test_path=str(tmp_path / "test.txt"),
        preprocess="raw",
    )
    assert text_of(corpus, corpus.train) == "abc abc " * 40  # no end held out
    assert corpus.vocab.idx_to_token[1:] == [" ", "a", "b", "c"]  # none of Z, e, d, !
    assert text_of(corpus, corpus.val) == "cab " + UNK * 3
    assert corpus.test.tolist()[-1] == corpus.vocab.unk


def test_the_held_out_end_is_not_in_the_vocabulary(tmp_path):
    (tmp_path / "a.txt").write_text("ab " * 100 + "xyz")
    corpus = corpus_of(path=str(tmp_path / "a.txt"), preprocess="raw")
    assert "x" not in corpus.vocab.idx_to_token
    assert corpus.val.tolist()[-3:] == [corpus.vocab.unk] * 3


def test_the_book_as_a_text_splits_as_data_timemachine(real_data_dir):
    book = load_timemachine(str(real_data_dir), download=False)
    text = corpus_of(path=str(real_data_dir / "timemachine.txt"))
    assert text_of(text, text.train) == text_of(book, book.train)
    assert len(text.val) == len(book.val)


def test_sha1_mismatch_of_the_book_advises_data_path(tmp_path):
    (tmp_path / "timemachine.txt").write_text("my own novel\n")
    with pytest.raises(RnnlabError) as refusal:
        fetch("timemachine", str(tmp_path), download=False)
    message = str(refusal.value)
    assert f"data=text data.path={tmp_path / 'timemachine.txt'}" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "name, file_name, command",
    [
        ("fra-eng", "fra-eng.zip", "task=seq2seq data=pairs data.path=FILE"),
        ("aclImdb", "aclImdb_v1.tar.gz", "task=sentiment data=labelled data.path=FILE"),
    ],
)
def test_sha1_mismatch_of_a_bundled_archive_advises_its_own_data_source(
    tmp_path, name, file_name, command
):
    (tmp_path / file_name).write_text("source\ttarget\n")  # the user's file, misnamed
    with pytest.raises(RnnlabError) as refusal:
        fetch(name, str(tmp_path), download=False)
    message = str(refusal.value)
    assert f"it is not the bundled {file_name}" in message and command in message
    assert "\n" not in message


def test_generate_and_evaluate_work_on_a_text_run(tmp_path):
    (tmp_path / "train.txt").write_text("Ab, cd!\n" * 150)
    (tmp_path / "val.txt").write_text("Ab, cd!\n" * 10)
    (tmp_path / "test.txt").write_text("Ab, cd!\n" * 10)
    text = [
        "data=text",
        f"data.path={tmp_path / 'train.txt'}",
        f"data.val_path={tmp_path / 'val.txt'}",
        f"data.test_path={tmp_path / 'test.txt'}",
        "data.preprocess=raw",
        "optim.lr=0.05",
        "trainer.max_epochs=8",
        "task.sample_prefix=Ab",
    ]
    run_dir = tmp_path / "run"
    metrics = rnnlab.train.train(compose_config(TINY + text), run_dir, "lstm")
    assert metrics["test_perplexity"] < 2.0  # learnt the pattern; unigram would be ~6
    scores = evaluate(str(run_dir), "test", [])
    assert scores["test/perplexity"] == pytest.approx(metrics["test_perplexity"], rel=1e-5)
    assert evaluate(str(run_dir), "val", [])["val/perplexity"] == pytest.approx(
        metrics["best_val_perplexity"], rel=1e-5
    )
    (continued,) = generate(GenerateConfig(checkpoint=str(run_dir), prefix="Ab,", num_preds=13))
    assert continued == "Ab, cd!\nAb, cd!\n"  # case, punctuation and newlines as trained


def test_a_text_run_resumes_and_refuses_another_texts_vocabulary(tmp_path):
    (tmp_path / "a.txt").write_text("abc, abd. " * 60)
    (tmp_path / "b.txt").write_text("xyz; " * 120)
    run_dir = tmp_path / "run"
    text = ["data=text", f"data.path={tmp_path / 'a.txt'}", "data.preprocess=raw"]
    rnnlab.train.train(compose_config(TINY + text + ["trainer.max_epochs=1"]), run_dir, "lstm")
    resumed = TINY + text + ["trainer.max_epochs=2", "trainer.resume=true"]
    assert rnnlab.train.train(compose_config(resumed), run_dir, "lstm")["epochs"] == 2
    other = [item.replace("a.txt", "b.txt").replace("=2", "=3") for item in resumed]
    with pytest.raises(RnnlabError, match="a different vocab"):
        rnnlab.train.train(compose_config(other), run_dir, "lstm")


BAD = {
    "missing file": (lambda d: str(d / "nope.txt"), "does not exist"),
    "folder without files": (lambda d: str(d / "empty"), "is a folder without files"),
    "glob without matches": (lambda d: str(d / "*.md"), "matches no files"),
    "empty file": (lambda d: str(d / "zero.txt"), "is empty"),
    "not utf-8": (lambda d: str(d / "latin.txt"), "line 2 is not utf-8 text"),
    "shorter than one batch": (lambda d: str(d / "short.txt"), "too long for a training text"),
    "a folder where files are expected": (lambda d: str(d / "*"), "matches the folder"),
    "whitespace only": (lambda d: str(d / "blank.txt"), "has no text"),
}


@pytest.fixture
def bad_files(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "zero.txt").write_text("")
    (tmp_path / "blank.txt").write_text(" \n\n  \t\n")
    (tmp_path / "latin.txt").write_bytes(b"plain line\ncaf\xe9\n")
    (tmp_path / "short.txt").write_text("a few words\n")
    return tmp_path


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_data_is_one_line_exit_2_and_writes_nothing(case, bad_files, monkeypatch, capsys):
    path, fragment = BAD[case]
    run_dir = bad_files / "run"
    argv = ["rnnlab-train", "data=text", f"data.path={path(bad_files)}", "data.preprocess=raw"]
    argv.append(f"hydra.run.dir={run_dir}")
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_:
        rnnlab.train.cli()
    assert exit_.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert path(bad_files).rstrip("*") in lines[0]  # the file, or the folder globbed
    assert not run_dir.exists()


def test_bad_data_from_the_shell_writes_no_run_directory(tmp_path):
    run_dir = tmp_path / "run"
    (tmp_path / "val.txt").write_bytes(b"\xff\xfe")
    (tmp_path / "train.txt").write_text("some text " * 200)
    result = run(
        "rnnlab.train",
        "data=text",
        f"data.path={tmp_path / 'train.txt'}",
        f"data.val_path={tmp_path / 'val.txt'}",
        f"hydra.run.dir={run_dir}",
        cwd=REPO,
    )
    assert_one_line_error(result, f"{tmp_path / 'val.txt'} line 1 is not utf-8", "data.encoding")
    assert not run_dir.exists()


def test_an_encoding_option_reads_other_files(tmp_path):
    (tmp_path / "latin.txt").write_bytes(b"plain line\ncaf\xe9\n" * 10)
    corpus = corpus_of(path=str(tmp_path / "latin.txt"), encoding="latin-1", preprocess="raw")
    assert "é" in corpus.vocab.idx_to_token


def test_data_text_without_a_path_is_refused():
    from rnnlab.config.run_config import compose_config as typed

    with pytest.raises(RnnlabError, match="data.path=null: expected the text to train on"):
        typed(["data=text"])
