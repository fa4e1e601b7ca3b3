"""Count-based baselines on the same split as the recurrent models, so their validation
perplexity has a floor to beat.

    python scripts/ngram_baseline.py [--order 5] [OVERRIDES]
    python scripts/ngram_baseline.py data.token=word data.val_fraction=0.1
    python scripts/ngram_baseline.py data=text data.path=FILE data.preprocess=raw

OVERRIDES are the training command's data settings (`key=value`): the data is composed and
loaded as `rnnlab.train OVERRIDES` loads it, so the split and the vocabulary are the run's.
Prints the unigram and add-one (Laplace) bigram perplexities of the held-out part, and of
interpolated Witten-Bell n-grams up to `--order`; with `data.test_path`, of the test text
too.
"""

import argparse
import math
import sys
from collections import Counter

from rnnlab.config.run_config import compose_config
from rnnlab.data import DATA_SOURCES
from rnnlab.errors import RnnlabError


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


class WittenBell:
    """Interpolated Witten-Bell n-gram model of order `order` over ids in [0, vocab_size):
    p(w | h) = (c(h, w) + t(h) p(w | h')) / (c(h) + t(h)), where t(h) is the number of
    distinct tokens seen after h and h' is h without its first token; below the unigram,
    the uniform 1 / vocab_size."""

    def __init__(self, train: list[int], order: int, vocab_size: int):
        self.order, self.vocab_size = order, vocab_size
        self.counts = [Counter() for _ in range(order)]  # [n]: (n-token history, w) -> count
        for n in range(order):
            self.counts[n].update(tuple(train[i - n : i + 1]) for i in range(n, len(train)))
        self.history_totals = [Counter() for _ in range(order)]  # c(h)
        self.followers = [Counter() for _ in range(order)]  # t(h)
        for n, counts in enumerate(self.counts):
            for gram, count in counts.items():
                self.history_totals[n][gram[:-1]] += count
                self.followers[n][gram[:-1]] += 1

    def probability(self, history: tuple[int, ...], token: int) -> float:
        p = 1.0 / self.vocab_size
        for n in range(self.order):  # from the unigram up to the longest history
            if n > len(history):
                break
            h = history[len(history) - n :] if n else ()
            total, distinct = self.history_totals[n][h], self.followers[n][h]
            if total == 0:
                break  # a longer history is unseen too
            p = (self.counts[n][h + (token,)] + distinct * p) / (total + distinct)
        return p

    def perplexity(self, context: list[int], tokens: list[int]) -> float:
        """Of `tokens`, each given the tokens before it (`context` before the first)."""
        text = context[-(self.order - 1) :] + tokens if self.order > 1 else tokens
        start = len(text) - len(tokens)
        nll = -sum(
            math.log(self.probability(tuple(text[max(0, i - self.order + 1) : i]), text[i]))
            for i in range(start, len(text))
        )
        return math.exp(nll / len(tokens))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--order", type=int, default=5, help="longest n-gram (default 5)")
    parser.add_argument("overrides", nargs="*", help="data settings, as for rnnlab.train")
    args = parser.parse_args()
    try:
        data = compose_config(args.overrides).data
        corpus = DATA_SOURCES[data.name].load(data)
    except RnnlabError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    train, val, vocab_size = corpus.train.tolist(), corpus.val.tolist(), len(corpus.vocab)
    held_out = {"val": val}
    if corpus.test is not None:
        held_out["test"] = corpus.test.tolist()
    sizes = ", ".join(f"{split} {len(tokens):,}" for split, tokens in held_out.items())
    print(f"{data.token} tokens: train {len(train):,}, {sizes}, vocab {vocab_size}")
    for split, tokens in held_out.items():
        print(
            f"unigram (add-one) {split} perplexity: "
            f"{unigram_perplexity(train, tokens, vocab_size):.2f}"
        )
        print(
            f"bigram  (add-one) {split} perplexity: "
            f"{bigram_perplexity(train, tokens, vocab_size):.2f}"
        )
    for order in range(3, args.order + 1):
        model = WittenBell(train, order, vocab_size)
        for split, tokens in held_out.items():
            print(
                f"{order}-gram (interpolated Witten-Bell) {split} perplexity: "
                f"{model.perplexity(train, tokens):.2f}"
            )


if __name__ == "__main__":
    main()
