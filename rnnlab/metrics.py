"""Evaluation numbers, kept free of models and data so each can be checked by hand:
perplexity, d2l's sentence BLEU and sacreBLEU's corpus BLEU."""

import math
from collections import Counter

import sacrebleu


def perplexity(mean_cross_entropy: float) -> float:
    """exp of the mean per-token cross-entropy (in nats); inf once the loss overflows.

    It is the effective number of choices the model hesitates between at each token:
    1 is a perfect model, the vocabulary size a uniform guess.
    """
    try:
        return math.exp(mean_cross_entropy)
    except OverflowError:
        return math.inf


def bleu(prediction: list[str], reference: list[str], k: int = 2) -> float:
    """BLEU of one tokenised sentence as the d2l book defines it (section 10.7.6):

        exp(min(0, 1 - len(reference) / len(prediction))) * prod_{n=1..k} p_n ** (1 / 2**n)

    where p_n is the clipped n-gram precision (each reference n-gram matches at most as often
    as it occurs). Longer n-grams weigh more, since matching them is harder; n-gram orders
    longer than the prediction are left out. An empty prediction scores 0.
    """
    if not prediction:
        return 0.0
    len_pred, len_ref = len(prediction), len(reference)
    score = math.exp(min(0.0, 1 - len_ref / len_pred))
    for n in range(1, min(k, len_pred) + 1):
        reference_ngrams = Counter(tuple(reference[i : i + n]) for i in range(len_ref - n + 1))
        matches = 0
        for i in range(len_pred - n + 1):
            ngram = tuple(prediction[i : i + n])
            if reference_ngrams[ngram] > 0:
                matches += 1
                reference_ngrams[ngram] -= 1
        score *= math.pow(matches / (len_pred - n + 1), math.pow(0.5, n))
    return score


def corpus_bleu(hypotheses: list[str], references: list[str]) -> float:
    """The standard corpus BLEU (0-100) of detokenised sentences, one reference each:
    sacreBLEU with its defaults (13a tokenisation, 4-grams, no smoothing at corpus level),
    the number translation papers compare."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    return sacrebleu.corpus_bleu(hypotheses, [references]).score
