"""Text classification: IMDB's movie reviews (positive or negative), or any labelled
texts (`data=labelled`). Two labels: one logit per text and binary cross-entropy; more: a
logit per label and cross-entropy (a softmax). Accuracy and macro-F1 (the mean of the
labels' F1, which a majority-class guess cannot inflate). The model is chosen by
validation accuracy (a seeded slice of the training texts) and reported on the test split
(IMDB: all 25,000 test reviews).
"""

import logging
from dataclasses import dataclass

import torch
from omegaconf import OmegaConf
from torch.nn import functional as F

from rnnlab.config.schema import POSITIVE, one_of, setting
from rnnlab.data import DATA_SOURCES
from rnnlab.data.bucketing import bucket_batches, pad_batch, sorted_batches
from rnnlab.data.embeddings import load_pretrained
from rnnlab.data.labelled import BINARY_LABELS, PAD, Reviews, SentimentData
from rnnlab.data.vocab import Vocab
from rnnlab.engine import move_to
from rnnlab.errors import RnnlabError
from rnnlab.metrics import macro_f1
from rnnlab.models.classifier import ClassifierConfig, SentimentClassifier, build_classifier
from rnnlab.models.modes import evaluating
from rnnlab.tasks.base import Task, first_of_each_split

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
    """Labelled texts (IMDB reviews: positive or negative) through a recurrent classifier."""

    name = "sentiment"
    Config, ModelConfig, EvalConfig = SentimentTaskConfig, ClassifierConfig, SentimentEvalConfig
    objective = "val/accuracy"
    objective_direction = "maximize"
    checkpoint_keys = ("vocab",)  # and label_names (older checkpoints: IMDB's two)

    def __init__(self, cfg, data: SentimentData | None = None):
        """`data` replaces IMDB (tests: a synthetic set of reviews)."""
        super().__init__(cfg)
        self.data = data or DATA_SOURCES[cfg.data.name].load(cfg.data)
        self.vocab = self.data.vocab
        self.pad_id = self.vocab[PAD]
        self.label_names = tuple(self.data.label_names)
        self.binary = len(self.label_names) == 2
        self._correct = self._seen = None  # training accuracy, accumulated on the device
        log.info(
            "%d train, %d val, %d test texts; vocabulary %d; labels %s",
            len(self.data.train),
            len(self.data.val),
            len(self.data.test),
            len(self.vocab),
            ", ".join(self.label_names),
        )

    def build_model(self) -> SentimentClassifier:
        model_cfg = self.cfg.model
        model = build_classifier(len(self.vocab), model_cfg, self.pad_id, len(self.label_names))
        path = model_cfg.pretrained_embeddings
        if path:
            found = load_pretrained(path, self.vocab, model.embedding.weight)
            log.info(
                "pretrained embeddings: %d of %d words found in %s", found, len(self.vocab), path
            )
        if model_cfg.freeze_embeddings:
            model.embedding.weight.requires_grad_(False)
        if model.bag is not None and model.bag.weighting == "nb":
            if not self.binary:
                raise RnnlabError(
                    f"model.bag_weighting=nb needs two labels; the data has "
                    f"{len(self.label_names)} (use model.bag_weighting=mean)"
                )
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
        self.data = first_of_each_split(self.data, num_batches * self.cfg.data.batch_size)

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
        """batch: X (batch, num_steps), lengths (batch,), labels (batch,). Texts are
        independent, so nothing carries over. The token count is the real tokens read."""
        X, lengths, y = batch
        logits = model(X, lengths)
        correct = (self.predict(logits) == y.long()).sum()
        self._correct = correct if self._correct is None else self._correct + correct
        self._seen = (self._seen or 0) + len(y)
        return self.loss(logits, y), int(lengths.sum()), None

    def loss(self, logits: torch.Tensor, y: torch.Tensor, reduction: str = "mean"):
        """Binary cross-entropy of one logit (two labels), else cross-entropy."""
        if self.binary:
            return F.binary_cross_entropy_with_logits(logits, y.float(), reduction=reduction)
        return F.cross_entropy(logits, y.long(), reduction=reduction)

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        """The class id of each text: logit > 0 (two labels), else the largest logit."""
        return (logits > 0).long() if self.binary else logits.argmax(-1)

    def train_metrics(self, mean_loss: float) -> dict:
        accuracy = self._correct.item() / self._seen if self._seen else float("nan")
        return {"train/accuracy": accuracy}

    def evaluate(self, model) -> dict:
        return {f"val/{key}": value for key, value in self.score(model, self.data.val).items()}

    def test(self, model) -> dict:
        return {f"test/{key}": value for key, value in self.score(model, self.data.test).items()}

    def score(self, model, reviews: Reviews) -> dict:
        """{"loss": mean cross-entropy, "accuracy", "macro_f1"} of `model` on `reviews`."""
        device = next(model.parameters()).device
        num_classes = len(self.label_names)
        loss = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.int64)
        confusion = torch.zeros(num_classes * num_classes, device=device, dtype=torch.int64)
        batches = sorted_batches(reviews.lengths(), self.cfg.eval.batch_size)
        with evaluating(model):
            for X, lengths, y in review_batches(reviews, batches, self.pad_id):
                X, y = move_to((X, y), device)
                logits = model(X, lengths)
                loss += self.loss(logits, y, reduction="sum")
                predicted, truth = self.predict(logits), y.long()
                correct += (predicted == truth).sum()
                confusion += torch.bincount(
                    truth * num_classes + predicted, minlength=num_classes * num_classes
                )
        return {
            "loss": loss.item() / len(reviews),
            "accuracy": correct.item() / len(reviews),
            "macro_f1": macro_f1(confusion.reshape(num_classes, num_classes).tolist()),
        }

    def checkpoint_extras(self) -> dict:
        return {"vocab": self.vocab.to_list(), "label_names": list(self.label_names)}

    @staticmethod
    def model_from_checkpoint(saved: dict) -> SentimentClassifier:
        model_cfg = OmegaConf.create(saved["config"]["model"])
        model_cfg.pretrained_embeddings = None  # the trained table is in the checkpoint
        vocab = Vocab.from_list(saved["vocab"])
        num_classes = len(saved.get("label_names") or BINARY_LABELS)
        return build_classifier(len(vocab), model_cfg, vocab[PAD], num_classes)
