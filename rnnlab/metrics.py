"""Evaluation numbers, kept free of models and data so each can be checked by hand:
perplexity, d2l's sentence BLEU, sacreBLEU's corpus BLEU and macro-F1."""

import math
from collections import Counter
from dataclasses import dataclass

from sacrebleu.metrics import BLEU


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


@dataclass(frozen=True)
class CorpusBleu:
    """A sacreBLEU score (0-100) and its signature, e.g.
    `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`: what a reader needs to
    compare it with a published figure."""

    score: float
    signature: str


def corpus_bleu(
    hypotheses: list[str], references: list[list[str]], lowercase: bool = False
) -> CorpusBleu:
    """The standard corpus BLEU of detokenised sentences: sacreBLEU's `BLEU` metric with
    its defaults (13a tokenisation, 4-grams, exponential smoothing, which at corpus level
    only acts on a zero n-gram count), cased unless `lowercase` (signature `case:lc`).
    `references[i]` holds hypothesis i's references, one or more (their number may vary:
    the signature then says `nrefs:var`). Score against the references as they stand in
    the data, not against normalised tokens, or the number is not the one papers report."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    if any(not refs for refs in references):
        raise ValueError("every hypothesis needs at least one reference")
    # sacreBLEU takes reference *streams* (stream j: every hypothesis' j-th reference),
    # None where a hypothesis has fewer.
    streams = [
        [refs[j] if j < len(refs) else None for refs in references]
        for j in range(max(map(len, references)))
    ]
    metric = BLEU(lowercase=lowercase)
    score = metric.corpus_score(hypotheses, streams).score
    return CorpusBleu(score, str(metric.get_signature()))


def macro_f1(confusion: list[list[int]]) -> float:
    """The mean over classes of F1 = 2 TP / (2 TP + FP + FN), from `confusion[i][j]`: how
    many examples of class i were predicted as class j. A class that neither occurs nor is
    predicted is left out of the mean (its F1 is undefined); one that occurs but is never
    predicted right counts as 0."""
    scores = []
    for k in range(len(confusion)):
        true_positives = confusion[k][k]
        occurs = sum(confusion[k])
        predicted = sum(row[k] for row in confusion)
        if occurs + predicted:
            scores.append(2 * true_positives / (occurs + predicted))
    return sum(scores) / len(scores) if scores else float("nan")
