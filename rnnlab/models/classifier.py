"""The text classifier: token ids → embedding → recurrent stack → pooling over time
→ dropout → one logit for two classes (the second, e.g. a positive review), one per class
for more (a softmax); optionally with a bag of n-grams beside the
stack (`model.bag_ngrams`, rnnlab/models/ngram_bag.py) whose vector joins the pooled one
(after its dropout) before the head.

Padding never reaches the result: the stack takes a mask (`build_recurrent(...,
padded=True)`: the nn cells run as a `PaddedRecurrent`, each direction reading only real
steps; the scratch cells hold their state at padded steps), and max/mean pooling skip
padded steps.
"""

from dataclasses import dataclass

import torch
from torch import nn

from rnnlab.config.schema import DROPOUT, NATURAL, POSITIVE, Check, one_of, setting
from rnnlab.errors import RnnlabError
from rnnlab.models.dropout import TokenDropoutEmbedding
from rnnlab.models.init import apply_init_
from rnnlab.models.ngram_bag import WEIGHTINGS, NgramBag
from rnnlab.models.recurrent import RecurrentConfig, build_recurrent

POOLINGS = ("last", "max", "mean")


def parse_pooling(pooling: str) -> list[str]:
    """ "max+mean" → ["max", "mean"]: the pooled vectors are concatenated."""
    kinds = str(pooling).split("+")
    if not kinds or any(kind not in POOLINGS for kind in kinds) or len(set(kinds)) < len(kinds):
        raise RnnlabError(
            f"model.pooling={pooling!r} must be one of {', '.join(POOLINGS)} or "
            "several joined by '+' (e.g. max+mean)"
        )
    return kinds


def _is_pooling(value) -> bool:
    try:
        parse_pooling(value)
    except RnnlabError:
        return False
    return True


@dataclass
class ClassifierConfig(RecurrentConfig):
    """The classifier: the shared stack over embedded words, its pooling, an optional
    n-gram bag beside it, and the head."""

    embed_size: int = setting(128, POSITIVE)
    num_hiddens: int = setting(64, POSITIVE)
    num_layers: int = setting(1, POSITIVE)
    bidirectional: bool = setting(True)
    dropout: float = setting(0.3, DROPOUT)  # on the embeddings, between layers, before the head
    pooling: str = setting(
        "max+mean", Check(_is_pooling, "last, max, mean, or several joined by +")
    )
    pretrained_embeddings: str | None = setting(None)  # GloVe/word2vec text file
    freeze_embeddings: bool = setting(False)
    bag_ngrams: int = setting(0, NATURAL)  # a bag of n-grams up to this n; 0: none
    bag_buckets: int = setting(262144, POSITIVE)  # hash rows shared by the n-grams (n >= 2)
    bag_size: int = setting(16, POSITIVE)  # the bag's vector, joined to the pooled one
    bag_weighting: str = setting("mean", one_of(WEIGHTINGS))  # mean (fastText) | nb (NBSVM)
    bag_min_count: int = setting(2, POSITIVE)  # nb: n-grams in fewer reviews get no weight

    def check(self) -> list[str]:
        return super().check() + self.init_for("sentiment", ("default", "keras"))


class SentimentClassifier(nn.Module):
    """Classifier around a recurrent stack that takes a mask (`build_recurrent` with
    `padded=True`): one logit for `num_classes=2`, else `num_classes`."""

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        recurrent: nn.Module,
        pooling: str = "last",
        dropout: float = 0.0,
        pad_id: int = 1,
        embedding_dropout: float = 0.0,
        bag: NgramBag | None = None,
        num_classes: int = 2,
    ):
        super().__init__()
        self.pad_id = pad_id
        self.pooling = parse_pooling(pooling)
        self.embedding = TokenDropoutEmbedding(
            vocab_size, embed_size, embedding_dropout, padding_idx=pad_id
        )
        # Keras' uniform(±0.05) rather than nn's N(0, 1): Adam moves each weight by about
        # lr per step, so rows that start 20x larger barely move in the few epochs IMDB
        # allows (the tutorial LSTM: 64.5% test accuracy after one epoch with N(0, 1)).
        with torch.no_grad():
            self.embedding.weight.uniform_(-0.05, 0.05)
            self.embedding.weight[pad_id] = 0
        self.recurrent = recurrent
        self.dropout = nn.Dropout(dropout)  # on the embeddings (Keras' `dropout`) and the pool
        width = (2 if recurrent.bidirectional else 1) * recurrent.hidden_size
        self.bag = bag
        outputs = 1 if num_classes == 2 else num_classes
        self.head = nn.Linear(len(self.pooling) * width + (bag.size if bag else 0), outputs)

    def forward(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """X: (batch, num_steps) right-padded ids, lengths: (batch,) ≥ 1 → logits (batch,)
        for two classes, (batch, num_classes) for more."""
        inputs = self.dropout(self.embedding(X.T))  # (num_steps, batch, embed_size)
        mask = torch.arange(X.shape[1], device=X.device).unsqueeze(1) < lengths.to(X.device)
        outputs, state = self.recurrent(inputs, mask=mask)
        pooled = [self._pool(kind, outputs, state, mask, lengths) for kind in self.pooling]
        features = self.dropout(torch.cat(pooled, dim=-1))
        if self.bag is not None:
            features = torch.cat([features, self.bag(X, lengths)], dim=-1)
        return self.head(features).squeeze(-1)

    def _pool(self, kind, outputs, state, mask, lengths) -> torch.Tensor:
        """outputs: (num_steps, batch, D * num_hiddens), zeros at padded steps → (batch,
        D * num_hiddens)."""
        if kind == "last":  # final H of the top layer, each direction: (D, batch, hiddens)
            H = state[0] if isinstance(state, tuple) else state
            num_directions = 2 if self.recurrent.bidirectional else 1
            return torch.cat(H[-num_directions:].unbind(0), dim=-1)
        if kind == "max":
            return outputs.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(dim=0).values
        return outputs.sum(dim=0) / lengths.to(outputs.device, outputs.dtype).unsqueeze(-1)


def build_classifier(
    vocab_size: int, model_cfg, pad_id: int = 1, num_classes: int = 2
) -> SentimentClassifier:
    """A `SentimentClassifier` from the `model` config group (cell, impl, sizes, pooling,
    init, the n-gram bag) for `num_classes` labels."""
    recurrent = build_recurrent(model_cfg, model_cfg.embed_size, padded=True)
    order = model_cfg.bag_ngrams
    bag = (
        NgramBag(
            vocab_size,
            order,
            model_cfg.bag_buckets,
            model_cfg.bag_size,
            model_cfg.bag_weighting,
            model_cfg.bag_min_count,
        )
        if order
        else None
    )
    model = SentimentClassifier(
        vocab_size,
        model_cfg.embed_size,
        recurrent,
        model_cfg.pooling,
        model_cfg.dropout,
        pad_id,
        model_cfg.embedding_dropout,
        bag,
        num_classes,
    )
    apply_init_(model_cfg, model.recurrent, model.head)
    return model
