"""Evaluation numbers, kept free of models and data so each can be checked by hand."""

import math


def perplexity(mean_cross_entropy: float) -> float:
    """exp of the mean per-token cross-entropy (in nats); inf once the loss overflows.

    It is the effective number of choices the model hesitates between at each token:
    1 is a perfect model, the vocabulary size a uniform guess.
    """
    try:
        return math.exp(mean_cross_entropy)
    except OverflowError:
        return math.inf
