"""task=seq2seq's sacreBLEU is the standard one: the task's hypotheses, detokenised, scored
by `sacrebleu.corpus_bleu` against the French references exactly as the file has them."""

import pytest
import sacrebleu
from helpers.config import compose_config

from rnnlab.data.fra_eng import corpus_from_text
from rnnlab.data.sentences import preprocess, tokenize
from rnnlab.tasks.seq2seq import Seq2SeqTask

WORDS = ["chat", "chien", "livre", "vélo", "café", "train", "jardin", "piano"]


def hand_made_text() -> str:
    """Cased French with typographic spaces (as fra.txt has them); every English sentence
    translated twice."""
    lines = []
    for i, word in enumerate(WORDS * 3):
        lines += [
            f"Tom sees {word} {i}.\tTom voit le {word} {i}.",
            f"Tom sees {word} {i}.\tTom regarde le {word}\u202f{i} !",
        ]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def scored():
    """The task's test scores for hypotheses made from the references (one word changed
    in every second one), and what sacreBLEU says of the same text."""
    text = hand_made_text()
    corpus = corpus_from_text(
        text, num_examples=None, num_steps=8, min_freq=1, val_fraction=0.2, test_fraction=0.3
    )
    task = Seq2SeqTask(
        compose_config(
            ["task=seq2seq", "model.num_hiddens=8", "model.embed_size=4", "eval.beam_size=2"]
        ),
        corpus,
    )
    test = corpus.test
    # what a model might write (cased here; the task sees it lower-cased, as the model does)
    written = [
        ref.replace("\u202f", " ").replace(" le ", " un ") if i % 2 else ref.replace("\u202f", " ")
        for i, ref in enumerate(test.tgt_text)
    ]
    task.translate = lambda model, split, beam_size: [tokenize(preprocess(h)) for h in written]
    task._loss = lambda model, split: 0.0
    return task.test(model=None), written, test


def test_single_reference_score_is_sacrebleu_on_the_raw_references(scored):
    scores, written, test = scored
    assert len(set(test.tgt_text)) == len(test) > 4 and "\u202f" in "".join(test.tgt_text)
    cased = sacrebleu.corpus_bleu(written, [test.tgt_text])
    lower = sacrebleu.corpus_bleu(written, [test.tgt_text], lowercase=True)
    assert scores["test/sacrebleu"] == pytest.approx(cased.score, abs=1e-9)
    assert scores["test/sacrebleu_lc"] == pytest.approx(lower.score, abs=1e-9)
    assert 20 < cased.score < 100
    metric = sacrebleu.BLEU()
    metric.corpus_score(written, [test.tgt_text])
    assert scores["test/sacrebleu_signature"] == str(metric.get_signature())
    assert "|case:lc|" in scores["test/sacrebleu_lc_signature"]


def test_multi_reference_score_takes_every_translation_of_a_sentence(scored):
    scores, written, test = scored
    first, references = {}, {}
    for i, english in enumerate(" ".join(s) for s in test.src_tokens):
        first.setdefault(english, i)
        references.setdefault(english, []).append(test.tgt_text[i])
    hypotheses = [written[i] for i in first.values()]
    streams = [list(refs) for refs in zip(*references.values(), strict=True)]  # two each
    expected = sacrebleu.corpus_bleu(hypotheses, streams)
    assert scores["test/sacrebleu_multiref"] == pytest.approx(expected.score, abs=1e-9)
    assert scores["test/sacrebleu_multiref"] > scores["test/sacrebleu"]
    assert scores["test/sacrebleu_multiref_signature"].startswith("nrefs:2|case:mixed")
    lower = sacrebleu.corpus_bleu(hypotheses, streams, lowercase=True).score
    assert scores["test/sacrebleu_multiref_lc"] == pytest.approx(lower, abs=1e-9)
