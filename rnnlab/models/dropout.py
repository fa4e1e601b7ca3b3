"""The dropouts of the AWD-LSTM recipe (Merity et al., 2017), each off in eval mode and a
no-op at rate 0:

- embedding dropout (`token_dropout_scale`, `TokenDropoutEmbedding`): whole tokens are
  dropped, the same tokens at every position of the batch (AWD's `embedded_dropout`:
  rows of the embedding matrix zeroed, the rest scaled by 1 / (1 - p));
- locked (variational) dropout (`LockedDropout`): one mask per sequence, the same at every
  time step (Gal & Ghahramani);
- weight drop (`drop_hidden_weights`): DropConnect on the hidden-to-hidden weights, one mask
  per batch; the stored parameters are never changed, the dropped copy is computed on
  each forward and gradients reach the parameters through it.

Shapes: X (num_steps, batch) token ids; features (num_steps, batch, width).
"""

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def token_dropout_scale(X: Tensor, vocab_size: int, p: float) -> Tensor:
    """(num_steps, batch, 1): 0 for the tokens dropped this batch, 1 / (1 - p) for the
    others. Multiplying a lookup by it equals looking up AWD's masked embedding matrix."""
    keep = torch.bernoulli(torch.full((vocab_size,), 1 - p, device=X.device)) / (1 - p)
    return keep[X].unsqueeze(-1)


class TokenDropoutEmbedding(nn.Embedding):
    """nn.Embedding that drops whole tokens in training (`token_dropout`: the rate)."""

    def __init__(
        self, num_embeddings: int, embedding_dim: int, token_dropout: float = 0.0, **kwargs
    ):
        super().__init__(num_embeddings, embedding_dim, **kwargs)
        self.token_dropout = token_dropout

    def forward(self, X: Tensor) -> Tensor:
        embedded = super().forward(X)
        if not self.training or self.token_dropout == 0:
            return embedded
        return embedded * token_dropout_scale(X, self.num_embeddings, self.token_dropout)


class LockedDropout(nn.Module):
    """Dropout with one mask per sequence: features (num_steps, batch, width) are multiplied
    by a (1, batch, width) mask, the same at every step."""

    def __init__(self, p: float = 0.0):
        super().__init__()
        self.p = p

    def forward(self, X: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return X
        mask = torch.bernoulli(X.new_full((1, *X.shape[1:]), 1 - self.p)) / (1 - self.p)
        return X * mask


def sequence_dropout(p: float, locked: bool) -> nn.Module:
    """Dropout on (num_steps, batch, width) features: locked (one mask per sequence) or a
    fresh mask at every step."""
    return LockedDropout(p) if locked else nn.Dropout(p)


def drop_hidden_weights(W_h: Tensor, p: float, training: bool) -> Tensor:
    """DropConnect on a hidden-to-hidden weight: each entry zeroed with probability p, the
    rest scaled by 1 / (1 - p); `W_h` itself when not training or at rate 0."""
    if not training or p == 0:
        return W_h
    return F.dropout(W_h, p, training=True)
