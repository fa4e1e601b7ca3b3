"""Sentiment classification of IMDB movie reviews: one logit per review, binary
cross-entropy, accuracy. The model is chosen by validation accuracy (a seeded slice of
the training reviews) and reported on all 25,000 test reviews.
"""

import dataclasses
import logging
from dataclasses import dataclass

import torch
from omegaconf import OmegaConf
from torch.nn import functional as F

from rnnlab.config.schema import POSITIVE, one_of, setting
from rnnlab.data import DATA_SOURCES
from rnnlab.data.bucketing import bucket_batches, pad_batch, sorted_batches
from rnnlab.data.embeddings import load_pretrained
from rnnlab.data.imdb import PAD, Reviews, SentimentData
from rnnlab.data.vocab import Vocab
from rnnlab.engine import move_to
from rnnlab.models.classifier import ClassifierConfig, SentimentClassifier, build_classifier
from rnnlab.models.modes import evaluating
from rnnlab.tasks.base import Task

log = logging.getLogger(__name__)


def review_batches(reviews: Reviews, batches: list[torch.Tensor], pad_id: int):
    """(X (batch, longest) right-padded ids, lengths (batch,), labels (batch,)) per batch."""
    for index in batches:
        X, lengths = pad_batch([reviews.ids[i] for i in index.tolist()], pad_id)
        yield X, lengths, reviews.labels[index]


@dataclass
class SentimentTaskConfig:
    """task=sentiment: nothing beyond its name (the model and data groups hold the rest)."""

    name: str = setting("sentiment", one_of(["sentiment"]), on_resume="must_match")


@dataclass
class SentimentEvalConfig:
    """The classifier's `eval` group."""

    batch_size: int = setting(
        256, POSITIVE, on_resume="free"
    )  # reviews per validation and test batch


class SentimentTask(Task):
    """Positive or negative: IMDB reviews through a recurrent classifier."""

    name = "sentiment"
    Config, ModelConfig, EvalConfig = SentimentTaskConfig, ClassifierConfig, SentimentEvalConfig
    objective = "val/accuracy"
    objective_direction = "maximize"
    checkpoint_keys = ("vocab",)

    def __init__(self, cfg, data: SentimentData | None = None):
        """`data` replaces IMDB (tests: a synthetic set of reviews)."""
        super().__init__(cfg)
        self.data = data or DATA_SOURCES[cfg.data.name].load(cfg.data)
        self.vocab = self.data.vocab
        self.pad_id = self.vocab[PAD]
        self._correct = self._seen = None  # training accuracy, accumulated on the device
        log.info(
            "IMDB: %d train, %d val, %d test reviews; vocabulary %d",
            len(self.data.train),
            len(self.data.val),
            len(self.data.test),
            len(self.vocab),
        )

    def build_model(self) -> SentimentClassifier:
        model_cfg = self.cfg.model
        model = build_classifier(len(self.vocab), model_cfg, self.pad_id)
        path = model_cfg.pretrained_embeddings
        if path:
            found = load_pretrained(path, self.vocab, model.embedding.weight)
            log.info(
                "pretrained embeddings: %d of %d words found in %s", found, len(self.vocab), path
            )
        if model_cfg.freeze_embeddings:
            model.embedding.weight.requires_grad_(False)
        if model.bag is not None and model.bag.weighting == "nb":
            train = self.data.train
            batches = sorted_batches(train.lengths(), self.cfg.eval.batch_size)
            kept = model.bag.fit_ratios(review_batches(train, batches, self.pad_id))
            log.info(
                "n-gram bag: NB ratios for %d of %d rows (in >= %d training reviews)",
                kept,
                model.bag.table.num_embeddings,
                model.bag.min_count,
            )
        return model

    def keep_first_batches(self, num_batches: int) -> None:
        data, reviews = self.data, num_batches * self.cfg.data.batch_size
        self.data = dataclasses.replace(
            data,
            train=data.train.first(reviews),
            val=data.val.first(reviews),
            test=data.test.first(reviews),
        )

    def train_batches(self, epoch: int):
        self._correct = self._seen = None
        train = self.data.train
        batches = bucket_batches(
            train.lengths(),
            self.cfg.data.batch_size,
            self.epoch_generator(epoch),
            self.cfg.data.pool_batches,
        )
        return review_batches(train, batches, self.pad_id)

    def num_train_batches(self) -> int:
        return -(-len(self.data.train) // self.cfg.data.batch_size)

    def training_loss(self, model, batch, state):
        """batch: X (batch, num_steps), lengths (batch,), labels (batch,). Reviews are
        independent, so nothing carries over. The token count is the real tokens read."""
        X, lengths, y = batch
        logits = model(X, lengths)
        correct = ((logits > 0) == (y > 0.5)).sum()
        self._correct = correct if self._correct is None else self._correct + correct
        self._seen = (self._seen or 0) + len(y)
        return F.binary_cross_entropy_with_logits(logits, y), int(lengths.sum()), None

    def train_metrics(self, mean_loss: float) -> dict:
        accuracy = self._correct.item() / self._seen if self._seen else float("nan")
        return {"train/accuracy": accuracy}

    def evaluate(self, model) -> dict:
        loss, accuracy = self.score(model, self.data.val)
        return {"val/loss": loss, "val/accuracy": accuracy}

    def test(self, model) -> dict:
        loss, accuracy = self.score(model, self.data.test)
        return {"test/loss": loss, "test/accuracy": accuracy}

    def score(self, model, reviews: Reviews) -> tuple[float, float]:
        """(mean binary cross-entropy, accuracy) of `model` on `reviews`."""
        device = next(model.parameters()).device
        loss = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.int64)
        batches = sorted_batches(reviews.lengths(), self.cfg.eval.batch_size)
        with evaluating(model):
            for X, lengths, y in review_batches(reviews, batches, self.pad_id):
                X, y = move_to((X, y), device)
                logits = model(X, lengths)
                loss += F.binary_cross_entropy_with_logits(logits, y, reduction="sum")
                correct += ((logits > 0) == (y > 0.5)).sum()
        return loss.item() / len(reviews), correct.item() / len(reviews)

    def checkpoint_extras(self) -> dict:
        return {"vocab": self.vocab.to_list()}

    @staticmethod
    def model_from_checkpoint(saved: dict) -> SentimentClassifier:
        model_cfg = OmegaConf.create(saved["config"]["model"])
        model_cfg.pretrained_embeddings = None  # the trained table is in the checkpoint
        vocab = Vocab.from_list(saved["vocab"])
        return build_classifier(len(vocab), model_cfg, vocab[PAD])
