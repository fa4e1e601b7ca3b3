"""BLEU: d2l's sentence formula on hand-worked cases, and the corpus score against sacreBLEU."""

import math

import pytest
import sacrebleu

from rnnlab.metrics import bleu, corpus_bleu


def test_perfect_match_is_one():
    assert bleu("je suis chez moi .".split(), "je suis chez moi .".split(), k=4) == 1.0


def test_no_overlap_is_zero():
    assert bleu("il pleut".split(), "je suis chez moi .".split(), k=2) == 0.0


def test_empty_prediction_is_zero():
    assert bleu([], "va !".split(), k=2) == 0.0


def test_brevity_penalty():
    # Every 1- and 2-gram of the prediction matches; it is half the reference's length:
    # exp(1 - 4/2) * 1 * 1.
    assert bleu("a b".split(), "a b c d".split(), k=2) == pytest.approx(math.exp(-1))
    # Longer than the reference: no penalty, only the precisions (3/4 and 2/3).
    expected = (3 / 4) ** (1 / 2) * (2 / 3) ** (1 / 4)
    assert bleu("a b c x".split(), "a b c".split(), k=2) == pytest.approx(expected)


def test_matches_are_clipped_and_long_ngrams_weigh_more():
    # "the" occurs once in the reference, so only one of the three counts: p1 = 1/3.
    assert bleu("the the the".split(), "the cat sat".split(), k=1) == pytest.approx(
        (1 / 3) ** (1 / 2)
    )
    # p1 = 2/3, p2 = 1/2; with k = 3 the unmatched trigram makes it 0.
    assert bleu("a b d".split(), "a b c".split(), k=2) == pytest.approx(
        (2 / 3) ** (1 / 2) * (1 / 2) ** (1 / 4)
    )
    assert bleu("a b d".split(), "a b c".split(), k=3) == 0.0
    # n-gram orders longer than the prediction are skipped.
    assert bleu("a b".split(), "a b".split(), k=4) == 1.0


def test_corpus_bleu_is_sacrebleu_with_its_signature():
    hypotheses = ["Je suis chez moi.", "il est calme.", "Va !", "J'ai perdu."]
    references = ["Je suis à la maison.", "Il est calme.", "Va !", "J'ai perdu."]
    cased = sacrebleu.corpus_bleu(hypotheses, [references])
    result = corpus_bleu(hypotheses, [[r] for r in references])
    assert result.score == cased.score and 0 < cased.score < 100
    assert (
        result.signature
        == "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:" + sacrebleu.__version__
    )
    lower = corpus_bleu(hypotheses, [[r] for r in references], lowercase=True)
    assert lower.score == sacrebleu.corpus_bleu(hypotheses, [references], lowercase=True).score
    assert lower.score > cased.score and "|case:lc|" in lower.signature
    assert corpus_bleu(references, [[r] for r in references]).score == pytest.approx(100.0)


def test_multi_reference_corpus_bleu_is_sacrebleus_with_a_variable_number():
    hypotheses = ["Je suis chez moi.", "Va !", "Il est calme."]
    references = [
        ["Je suis à la maison.", "Je suis chez moi."],
        ["Va !"],
        ["Il est tranquille.", "Il est calme.", "Il est serein."],
    ]
    streams = [
        ["Je suis à la maison.", "Va !", "Il est tranquille."],
        ["Je suis chez moi.", None, "Il est calme."],
        [None, None, "Il est serein."],
    ]
    result = corpus_bleu(hypotheses, references)
    assert result.score == sacrebleu.corpus_bleu(hypotheses, streams).score == pytest.approx(100)
    assert result.signature.startswith("nrefs:var|")
    single = corpus_bleu(hypotheses, [refs[:1] for refs in references])
    assert single.score < result.score  # a second reference can only add matches


def test_corpus_bleu_needs_references_for_every_hypothesis():
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        corpus_bleu(["a", "b"], [["a"]])
    with pytest.raises(ValueError, match="at least one reference"):
        corpus_bleu(["a"], [[]])
