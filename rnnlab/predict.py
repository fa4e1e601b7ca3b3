"""The probability that a review is positive, from a trained sentiment model
(rnnlab-predict).

    python -m rnnlab.predict checkpoint=outputs/.../best.pt "this film was brilliant"
    python -m rnnlab.predict checkpoint=... "a waste of time" "loved every minute"
    python -m rnnlab.predict checkpoint=... file=reviews.txt      # one review per line
    cat reviews.txt | python -m rnnlab.predict checkpoint=... -  # standard input

Settings (`key=value`):
  checkpoint   best.pt or checkpoint.pt of a task=sentiment run (required)
  file         a text file of reviews, one per line (- as an argument: standard input)
Every other argument is a review. Prints `P(positive)<TAB>review`, one line each. A
review is tokenised and truncated as in training (data.max_len tokens, data.truncate),
with a warning when it is cut.
"""

import logging
from dataclasses import dataclass

import torch

from rnnlab.data.imdb import tokenize, truncate
from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError
from rnnlab.inference.command_line import (
    parse_settings,
    read_inputs,
    run_command,
    split_arguments,
)
from rnnlab.models.classifier import SentimentClassifier
from rnnlab.run.checkpoint import load_for_inference
from rnnlab.tasks.sentiment import SentimentTask

log = logging.getLogger(__name__)
USAGE = 'checkpoint=PATH "review text" ["another review" ...]; see --help'


@dataclass
class PredictConfig:
    checkpoint: str = "???"
    file: str | None = None


def load_classifier(path: str) -> tuple[SentimentClassifier, Vocab, dict]:
    """The model of a sentiment checkpoint in eval mode, its vocabulary and its config."""
    model, saved = load_for_inference(path, SentimentTask)
    return model, Vocab.from_list(saved["vocab"]), saved["config"]


@torch.no_grad()
def positive_probability(
    model: SentimentClassifier, vocab: Vocab, data_cfg: dict, review: str
) -> float:
    tokens = tokenize(review, data_cfg["punctuation"])
    ids = torch.tensor(vocab[tokens] or [vocab.unk], dtype=torch.int64)
    if len(ids) > data_cfg["max_len"]:
        log.warning(
            "a review of %d tokens is cut to the %d the model was trained on "
            "(data.max_len, data.truncate=%s): %.40r...",
            len(ids),
            data_cfg["max_len"],
            data_cfg["truncate"],
            review,
        )
    ids = truncate(ids, data_cfg["max_len"], data_cfg["truncate"])
    return torch.sigmoid(model(ids.unsqueeze(0), torch.tensor([len(ids)]))).item()


def parse_args(argv: list[str]) -> tuple[str, list[str]]:
    settings, texts = split_arguments(argv, PredictConfig)
    cfg = parse_settings(PredictConfig, settings, USAGE)
    reviews = read_inputs(texts, cfg.file, "review")
    if not reviews:
        raise RnnlabError(f"no review in {argv} (expected {USAGE})")
    return cfg.checkpoint, reviews


def _predict(argv: list[str]) -> None:
    path, reviews = parse_args(argv)
    model, vocab, config = load_classifier(path)
    for review in reviews:
        print(f"{positive_probability(model, vocab, config['data'], review):.4f}\t{review}")


def main(argv: list[str] | None = None) -> None:
    run_command(_predict, argv, __doc__)


if __name__ == "__main__":
    main()
