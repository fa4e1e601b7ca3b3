"""`rnnlab.evaluate file=PATH`: a user's own file scored with the checkpoint's vocabulary
gives what training reported for the same text, and a file in the wrong format is one line
naming the file, the line and the expected format."""

import random

import pytest
from helpers.config import TINY, compose_config
from helpers.sentiment import SMALL, synthetic_reviews
from helpers.seq2seq import TINY as SEQ2SEQ
from helpers.seq2seq import reverse_corpus
from omegaconf import OmegaConf

import rnnlab.tasks.lm
import rnnlab.tasks.seq2seq
from rnnlab.data import DATA_SOURCES
from rnnlab.data.timemachine import detokenize
from rnnlab.errors import RnnlabError
from rnnlab.evaluate import evaluate, main
from rnnlab.inference.files import file_data
from rnnlab.train import train


def test_lm_file_perplexity_is_the_validation_perplexity_of_the_same_text(
    tmp_path, tiny_corpus, monkeypatch, capsys
):
    monkeypatch.setattr(
        rnnlab.data.timemachine, "load_timemachine", lambda *args, **kwargs: tiny_corpus
    )
    metrics = train(compose_config(TINY + ["data.batch_size=1"]), tmp_path, "lstm")
    text = tmp_path / "held_out.txt"
    text.write_text(detokenize(tiny_corpus.vocab.to_tokens(tiny_corpus.val.tolist()), "char"))
    scores = evaluate(str(tmp_path / "checkpoint.pt"), "test", [], file=str(text))
    assert set(scores) == {"file/loss", "file/perplexity"}
    assert scores["file/perplexity"] == pytest.approx(metrics["val_perplexity"], rel=1e-5)

    main([str(tmp_path), f"file={text}"])  # a run directory, bare: its best.pt
    assert capsys.readouterr().out.splitlines()[1].startswith("file/perplexity\t")


def test_seq2seq_file_bleu_is_the_test_bleu_of_the_same_pairs(tmp_path, monkeypatch):
    corpus = reverse_corpus()
    monkeypatch.setattr(rnnlab.data.fra_eng, "load_fra_eng", lambda *args: corpus)
    metrics = train(compose_config(SEQ2SEQ + ["trainer.max_epochs=2"]), tmp_path, "gru")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(
        "".join(
            f"{' '.join(src)}\t{french}\n"
            for src, french in zip(corpus.test.src_tokens, corpus.test.tgt_text, strict=True)
        )
    )  # French as written
    scores = evaluate(str(tmp_path / "best.pt"), "test", [], file=str(pairs))
    assert scores["file/sacrebleu"] == pytest.approx(metrics["test_sacrebleu"])
    assert scores["file/loss"] == pytest.approx(metrics["test_loss"], rel=1e-5)


@pytest.mark.usefixtures("synthetic_imdb")
def test_sentiment_file_accuracy_is_the_test_accuracy_of_the_same_reviews(tmp_path):
    metrics = train(compose_config(SMALL + ["trainer.max_epochs=1"]), tmp_path, "gru")
    rng = random.Random(0)  # the synthetic IMDB's test reviews, as the fixture draws them
    synthetic_reviews(400, rng)
    texts, labels = synthetic_reviews(200, rng)
    reviews = tmp_path / "reviews.tsv"
    reviews.write_text(
        "".join(
            f"{'pos' if label else 'neg'}\t{text}\n"
            for text, label in zip(texts, labels, strict=True)
        )
    )
    scores = evaluate(str(tmp_path / "best.pt"), "test", [], file=str(reviews))
    assert scores["file/accuracy"] == pytest.approx(metrics["test_accuracy"])


SIZES = {
    "lm": {"num_steps": 8, "batch_size": 4},
    "seq2seq": {"num_steps": 8},
    "sentiment": {"max_len": 50},
}


def config(task, **data):
    """A run config of `task` whose data settings are `data` (the rest at their defaults)."""
    source = next(s for s in DATA_SOURCES.values() if s.task == task)
    data = OmegaConf.structured(source.Config(**SIZES[task], **data))
    return OmegaConf.create({"task": {"name": task}, "data": data})


SAVED = {
    "vocab": ["<unk>", "<pad>", "a", "b"],
    "src_vocab": ["<unk>", "<pad>", "<bos>", "<eos>", "a"],
    "tgt_vocab": ["<unk>", "<pad>", "<bos>", "<eos>", "b"],
}


@pytest.mark.parametrize(
    ("task", "content", "message"),
    [
        ("lm", "", "is empty; expected any text"),
        ("lm", "ab ab", "has 5 char tokens after preprocessing; scoring needs at least 16"),
        (
            "sentiment",
            "pos\ta fine film\ngreat film\n",
            "line 2 is not a labelled review: 'great film'; expected one review per line: pos, "
            "neg, 1 or 0, a tab, the review",
        ),
        ("sentiment", "maybe\tok\n", "line 1 is not a labelled review"),
        (
            "seq2seq",
            "go .\tva !\n\nhello\n",
            "line 3 has no tab: 'hello'; expected "
            "one pair per line: the source sentence, a tab, its translation",
        ),
    ],
)
def test_a_file_in_the_wrong_format_is_one_line(tmp_path, task, content, message):
    path = tmp_path / "input.txt"
    path.write_text(content)
    with pytest.raises(RnnlabError) as error:
        file_data(task, str(path), SAVED, config(task))
    assert str(error.value) == f"file={str(path)!r} {message}" or message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(RnnlabError, match="does not exist"):
        file_data("lm", str(tmp_path / "nope.txt"), SAVED, config("lm"))


def test_scoring_keys_may_be_given_for_a_checkpoint_whose_config_predates_them():
    from rnnlab.evaluate import run_config

    config = OmegaConf.to_container(compose_config(["model.num_hiddens=8"]), resolve=True)
    del config["eval"]  # a run older than the adaptive reading
    saved = {"config": config}
    cfg = run_config(saved, ["eval.dynamic_lr=2", "data.root=/elsewhere"], "best.pt")
    assert (cfg.eval.dynamic_lr, cfg.data.root) == (2, "/elsewhere")
    with pytest.raises(RnnlabError, match="model.nope=1"):
        run_config(saved, ["model.nope=1"], "best.pt")


def test_evaluate_refuses_an_eval_setting_out_of_its_range():
    """Issue 31: `evaluate eval.length_penalty=-5` was accepted and ignored; the saved
    config with the overrides goes through the run's schemas, as training's does."""
    from rnnlab.evaluate import run_config

    config = OmegaConf.to_container(compose_config(["task=seq2seq"]), resolve=True)
    with pytest.raises(RnnlabError) as error:
        run_config({"config": config}, ["eval.length_penalty=-5"], "best.pt")
    assert str(error.value) == "eval.length_penalty=-5.0 is not a number >= 0"


@pytest.mark.parametrize(
    "override", ["data.val_fraction=0.9", "model.num_hiddens=32", "trainer.max_epochs=3"]
)
def test_evaluate_refuses_what_fixes_the_model_or_the_split(tmp_path, synthetic_book, override):
    """Issue 31, defect 7: `evaluate data.val_fraction=0.9` scored a 'validation split' of
    mostly training text, and `model.num_hiddens=32` was accepted and ignored."""
    train(compose_config([*TINY, "trainer.max_epochs=1"]), tmp_path, "lstm")
    key = override.partition("=")[0]
    with pytest.raises(RnnlabError, match=rf"^{key} is the trained run's .* evaluate takes eval"):
        evaluate(str(tmp_path), "val", [override])
    assert "val/perplexity" in evaluate(str(tmp_path), "val", ["data.download=false"])
