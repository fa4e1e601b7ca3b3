"""Count-based baselines on the same split as the recurrent models, so their validation
perplexity has a floor to beat.

    python scripts/ngram_baseline.py [--token char|word] [--val-fraction 0.1]

Prints the unigram and add-one (Laplace) bigram perplexities of the held-out part.
"""

import argparse
import math
from collections import Counter

from rnnlab.data.timemachine import load_timemachine


def unigram_perplexity(train: list[int], val: list[int], vocab_size: int) -> float:
    counts = Counter(train)
    total = len(train)
    nll = -sum(math.log((counts[t] + 1) / (total + vocab_size)) for t in val)
    return math.exp(nll / len(val))


def bigram_perplexity(train: list[int], val: list[int], vocab_size: int) -> float:
    """Add-one smoothing: p(b | a) = (c(a, b) + 1) / (c(a) + V). The first validation token
    is conditioned on the last training token, as the text runs on."""
    pairs = Counter(zip(train, train[1:], strict=False))
    firsts = Counter(train[:-1])
    context = [train[-1], *val[:-1]]
    nll = -sum(
        math.log((pairs[a, b] + 1) / (firsts[a] + vocab_size))
        for a, b in zip(context, val, strict=True)
    )
    return math.exp(nll / len(val))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", default="char", choices=["char", "word"])
    parser.add_argument("--val-fraction", type=float, default=0.1)
    args = parser.parse_args()
    corpus = load_timemachine(token=args.token, val_fraction=args.val_fraction)
    train, val, vocab_size = corpus.train.tolist(), corpus.val.tolist(), len(corpus.vocab)
    print(f"{args.token} tokens: train {len(train):,}, val {len(val):,}, vocab {vocab_size}")
    print(f"unigram (add-one) val perplexity: {unigram_perplexity(train, val, vocab_size):.2f}")
    print(f"bigram  (add-one) val perplexity: {bigram_perplexity(train, val, vocab_size):.2f}")


if __name__ == "__main__":
    main()
