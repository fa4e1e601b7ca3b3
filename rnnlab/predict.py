"""The probability that a review is positive, from a trained sentiment model.

    python -m rnnlab.predict checkpoint=outputs/.../best.pt "this film was brilliant"
    python -m rnnlab.predict checkpoint=... "a waste of time" "loved every minute"

`checkpoint=PATH` (a `best.pt` or `checkpoint.pt` of a `task=sentiment` run) is the one
key=value argument; every other argument is a review, printed as `P(positive)<TAB>review`.
The review is tokenised and truncated as in training.
"""

import sys

import torch

from rnnlab.data.imdb import tokenize, truncate
from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError
from rnnlab.models.classifier import SentimentClassifier
from rnnlab.run.checkpoint import load_for_inference
from rnnlab.tasks.sentiment import SentimentTask

USAGE = 'expected: checkpoint=PATH "review text" ["another review" ...]'


def load_classifier(path: str) -> tuple[SentimentClassifier, Vocab, dict]:
    """The model of a sentiment checkpoint in eval mode, its vocabulary and its config."""
    model, saved = load_for_inference(path, SentimentTask)
    return model, Vocab.from_list(saved["vocab"]), saved["config"]


@torch.no_grad()
def positive_probability(model: SentimentClassifier, vocab: Vocab, data_cfg: dict,
                         review: str) -> float:
    ids = torch.tensor(vocab[tokenize(review)] or [vocab.unk], dtype=torch.int64)
    ids = truncate(ids, data_cfg["max_len"], data_cfg["truncate"])
    return torch.sigmoid(model(ids.unsqueeze(0), torch.tensor([len(ids)]))).item()


def parse_args(argv: list[str]) -> tuple[str, list[str]]:
    paths = [a.removeprefix("checkpoint=") for a in argv if a.startswith("checkpoint=")]
    reviews = [a for a in argv if not a.startswith("checkpoint=")]
    if len(paths) != 1 or not reviews:
        raise RnnlabError(f"bad arguments {argv}; {USAGE}")
    return paths[0], reviews


def main(argv: list[str] | None = None) -> None:
    try:
        path, reviews = parse_args(sys.argv[1:] if argv is None else argv)
        model, vocab, config = load_classifier(path)
        for review in reviews:
            print(f"{positive_probability(model, vocab, config['data'], review):.4f}\t{review}")
    except RnnlabError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
