"""The language model: tokens → (one-hot or embedding) → recurrent stack → vocabulary logits."""

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from rnnlab.config.schema import GREATER_THAN_ZERO, setting
from rnnlab.models.dropout import TokenDropoutEmbedding, token_dropout_scale
from rnnlab.models.init import apply_init_
from rnnlab.models.layered import LayeredRecurrent
from rnnlab.models.recurrent import RecurrentConfig, build_recurrent
from rnnlab.models.state import begin_state


@dataclass
class LMModelConfig(RecurrentConfig):
    """The language model: the shared stack and its output layer."""

    tie_weights: bool = setting(False)  # the output layer is the input embedding
    embedding_init: float | None = setting(None, GREATER_THAN_ZERO)  # U(±this); null: N(0, 1)

    def check(self) -> list[str]:
        problems = super().check() + self.dropout_needs_layers()
        width = self.num_hiddens * (2 if self.bidirectional else 1)
        if self.tie_weights and self.embed_size != width:
            directions = " x 2 directions" if self.bidirectional else ""
            problems.append(
                f"tie_weights=true needs model.embed_size == the stack's output width {width} "
                f"(num_hiddens={self.num_hiddens}{directions}), got model.embed_size="
                f"{self.embed_size}"
            )
        return problems


class RNNLM(nn.Module):
    """Next-token model around any recurrent stack from `build_recurrent`.

    With `embed_size=None` tokens enter one-hot, as in the textbook; an embedding computes
    the same first-layer product as a row lookup instead of a matmul, and may be smaller.
    `embedding_dropout` drops whole tokens of the input in training (one-hot or embedded);
    `tie_weights` makes the output layer's weight the embedding's, one tensor (Press & Wolf;
    Inan et al.), which needs embed_size == the stack's output width.
    """

    def __init__(
        self,
        vocab_size: int,
        recurrent: nn.Module,
        embed_size: int | None = None,
        embedding_dropout: float = 0.0,
        tie_weights: bool = False,
    ):
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding_dropout = embedding_dropout
        self.embedding = (
            TokenDropoutEmbedding(vocab_size, embed_size, embedding_dropout) if embed_size else None
        )
        self.recurrent = recurrent
        num_directions = 2 if recurrent.bidirectional else 1
        self.head = nn.Linear(num_directions * recurrent.hidden_size, vocab_size)
        if tie_weights:
            if self.embedding is None or self.embedding.weight.shape != self.head.weight.shape:
                raise ValueError(
                    f"tied weights need embed_size == {self.head.in_features} "
                    f"(the stack's output width), got {embed_size}"
                )
            self.head.weight = self.embedding.weight

    def forward(self, X: torch.Tensor, state=None):
        """X: (batch, num_steps) token ids → logits (batch, num_steps, vocab_size), state."""
        logits, state, _ = self.forward_with_activations(X, state)
        return logits, state

    def forward_with_activations(self, X: torch.Tensor, state=None):
        """As `forward`, plus the last layer's outputs (num_steps, batch, width) before and
        after the stack's output dropout, (raw, dropped): what AR and TAR penalise."""
        X = X.T  # time-major, as the recurrent stack wants: (num_steps, batch)
        if self.embedding is None:
            inputs = F.one_hot(X, self.vocab_size).to(self.head.weight.dtype)
            if self.training and self.embedding_dropout > 0:
                inputs = inputs * token_dropout_scale(X, self.vocab_size, self.embedding_dropout)
        else:
            inputs = self.embedding(X)
        if isinstance(self.recurrent, LayeredRecurrent):
            outputs, state, raw = self.recurrent.forward_with_raw(inputs, state)
        else:
            outputs, state = self.recurrent(inputs, state)
            raw = outputs
        return self.head(outputs).transpose(0, 1), state, (raw, outputs)

    def begin_state(self, batch_size: int, device=None):
        """Zeros, shaped for this model's recurrent stack."""
        return begin_state(self.recurrent, batch_size, device)


def build_lm(vocab_size: int, model_cfg) -> RNNLM:
    """An `RNNLM` from the `model` config group (cell, impl, sizes, dropouts, tying, init)."""
    recurrent = build_recurrent(model_cfg, model_cfg.embed_size or vocab_size)
    model = RNNLM(
        vocab_size,
        recurrent,
        model_cfg.embed_size,
        model_cfg.embedding_dropout,
        model_cfg.tie_weights,
    )
    apply_init_(model_cfg, model.recurrent, model.head)
    # the embedding after the init, which may have drawn a tied output layer (the same
    # tensor): an explicit model.embedding_init wins, as the user's word
    embedding_init = model_cfg.embedding_init
    if embedding_init is None and model_cfg.init == "keras":
        embedding_init = 0.05  # Keras' Embedding: U(±0.05)
    if embedding_init is not None and model.embedding is not None:
        # word_language_model's and AWD-LSTM's U(±0.1): nn.Embedding's N(0, 1) gives a tied
        # output layer logits of std ~sqrt(embed_size) at the start
        nn.init.uniform_(model.embedding.weight, -embedding_init, embedding_init)
    return model
