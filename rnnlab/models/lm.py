"""The language model: tokens → (one-hot or embedding) → recurrent stack → vocabulary logits."""

import torch
from torch import nn
from torch.nn import functional as F

from rnnlab.models.recurrent import build_recurrent, zero_state


class RNNLM(nn.Module):
    """Next-token model around any recurrent stack from `build_recurrent`.

    With `embed_size=None` tokens enter one-hot, as in the textbook; an embedding computes
    the same first-layer product as a row lookup instead of a matmul, and may be smaller.
    """

    def __init__(self, vocab_size: int, recurrent: nn.Module, embed_size: int | None = None):
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embed_size) if embed_size else None
        self.recurrent = recurrent
        num_directions = 2 if recurrent.bidirectional else 1
        self.head = nn.Linear(num_directions * recurrent.hidden_size, vocab_size)

    def forward(self, X: torch.Tensor, state=None):
        """X: (batch, num_steps) token ids → logits (batch, num_steps, vocab_size), state."""
        X = X.T  # time-major, as the recurrent stack wants: (num_steps, batch)
        if self.embedding is None:
            inputs = F.one_hot(X, self.vocab_size).to(self.head.weight.dtype)
        else:
            inputs = self.embedding(X)
        outputs, state = self.recurrent(inputs, state)
        return self.head(outputs).transpose(0, 1), state

    def begin_state(self, batch_size: int, device=None):
        """Zeros, shaped for this model's recurrent stack."""
        return zero_state(self.recurrent, batch_size, device)


def build_lm(vocab_size: int, model_cfg) -> RNNLM:
    """An `RNNLM` from the `model` config group (cell, impl, sizes)."""
    input_size = model_cfg.embed_size or vocab_size
    recurrent = build_recurrent(
        model_cfg.cell, model_cfg.impl, input_size, model_cfg.num_hiddens,
        model_cfg.num_layers, model_cfg.bidirectional, model_cfg.dropout,
        model_cfg.get("bptt", "fused"),
    )
    return RNNLM(vocab_size, recurrent, model_cfg.embed_size)
