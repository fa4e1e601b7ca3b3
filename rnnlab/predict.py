"""The label of a text and its probability, from a trained classifier (rnnlab-predict);
for an IMDB model, the probability that a review is positive.

    python -m rnnlab.predict checkpoint=outputs/.../best.pt "this film was brilliant"
    python -m rnnlab.predict checkpoint=... "a waste of time" "loved every minute"
    python -m rnnlab.predict checkpoint=... file=reviews.txt      # one review per line
    cat reviews.txt | python -m rnnlab.predict checkpoint=... -  # standard input

Settings (`key=value`):
  checkpoint   best.pt or checkpoint.pt of a task=sentiment run (required)
  file         a text file of texts, one per line (- as an argument: standard input)
Every other argument is a text. Prints one line per text: `label<TAB>P(label)<TAB>text`
for a data=labelled run (the most probable label), `P(positive)<TAB>review` for an IMDB
run. A text is tokenised and truncated as in training (data.max_len tokens,
data.truncate), with a warning when it is cut.
"""

import logging
from dataclasses import dataclass

import torch

from rnnlab.data.labelled import BINARY_LABELS, tokenize, truncate
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


def load_classifier(path: str) -> tuple[SentimentClassifier, Vocab, dict, tuple[str, ...]]:
    """The model of a sentiment checkpoint in eval mode, its vocabulary, its config and
    its label names (older checkpoints: IMDB's)."""
    model, saved = load_for_inference(path, SentimentTask)
    names = tuple(saved.get("label_names") or BINARY_LABELS)
    return model, Vocab.from_list(saved["vocab"]), saved["config"], names


@torch.no_grad()
def probabilities(model: SentimentClassifier, vocab: Vocab, data_cfg: dict, text: str) -> list:
    """P(label) of each label, in the order of the label names."""
    logits = logits_of(model, vocab, data_cfg, text)
    if logits.dim() == 0:  # two labels, one logit: the second label's
        positive = torch.sigmoid(logits).item()
        return [1 - positive, positive]
    return torch.softmax(logits, -1).tolist()


@torch.no_grad()
def positive_probability(
    model: SentimentClassifier, vocab: Vocab, data_cfg: dict, review: str
) -> float:
    return torch.sigmoid(logits_of(model, vocab, data_cfg, review)).item()


def logits_of(
    model: SentimentClassifier, vocab: Vocab, data_cfg: dict, review: str
) -> torch.Tensor:
    """The model's logit (two labels: a scalar) or logits (num_classes,) for one text."""
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
    return model(ids.unsqueeze(0), torch.tensor([len(ids)]))[0]


def parse_args(argv: list[str]) -> tuple[str, list[str]]:
    settings, texts = split_arguments(argv, PredictConfig)
    cfg = parse_settings(PredictConfig, settings, USAGE)
    reviews = read_inputs(texts, cfg.file, "review")
    if not reviews:
        raise RnnlabError(f"no review in {argv} (expected {USAGE})")
    return cfg.checkpoint, reviews


def _predict(argv: list[str]) -> None:
    path, reviews = parse_args(argv)
    model, vocab, config, names = load_classifier(path)
    for review in reviews:
        if config["data"]["name"] == "imdb":
            print(f"{positive_probability(model, vocab, config['data'], review):.4f}\t{review}")
            continue
        p = probabilities(model, vocab, config["data"], review)
        best = max(range(len(p)), key=p.__getitem__)
        print(f"{names[best]}\t{p[best]:.4f}\t{review}")


def main(argv: list[str] | None = None) -> None:
    run_command(_predict, argv, __doc__)


if __name__ == "__main__":
    main()
