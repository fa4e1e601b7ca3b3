"""Attention over the encoder's outputs, as the d2l book builds it (sections 11.3-11.4):
Bahdanau's additive score and Luong's "general" (bilinear) score, both masked so that a
source position past a sentence's valid length gets weight 0.

Shapes (B = batch, Q = queries, S = source positions):
    queries (B, Q, q_size), keys (B, S, k_size), values (B, S, v_size), valid_lens (B,)
    → context (B, Q, v_size), weights (B, Q, S), each row summing to 1.
"""

import torch
from torch import nn


def masked_softmax(scores: torch.Tensor, valid_lens: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last axis of `scores` (B, Q, S), where positions at or past a
    batch row's `valid_lens` get exactly 0 (None: every position is valid)."""
    if valid_lens is None:
        return torch.softmax(scores, dim=-1)
    positions = torch.arange(scores.shape[-1], device=scores.device)
    valid = positions[None, None, :] < valid_lens[:, None, None]  # (B, 1, S)
    return torch.softmax(scores.masked_fill(~valid, -torch.inf), dim=-1)


class AdditiveAttention(nn.Module):
    """Bahdanau's score: w_vᵀ tanh(W_q q + W_k k)."""

    def __init__(self, query_size: int, key_size: int, num_hiddens: int):
        super().__init__()
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)

    def forward(self, queries, keys, values, valid_lens=None):
        features = torch.tanh(self.W_q(queries).unsqueeze(2) + self.W_k(keys).unsqueeze(1))
        weights = masked_softmax(self.w_v(features).squeeze(-1), valid_lens)  # (B, Q, S)
        return torch.bmm(weights, values), weights


class GeneralAttention(nn.Module):
    """Luong's "general" score: qᵀ W k."""

    def __init__(self, query_size: int, key_size: int):
        super().__init__()
        self.W = nn.Linear(key_size, query_size, bias=False)

    def forward(self, queries, keys, values, valid_lens=None):
        scores = torch.bmm(queries, self.W(keys).transpose(1, 2))  # (B, Q, S)
        weights = masked_softmax(scores, valid_lens)
        return torch.bmm(weights, values), weights
