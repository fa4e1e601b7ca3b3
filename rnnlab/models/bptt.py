"""Backpropagation through time written by hand, for one layer and direction of the
scratch cells: the textbook derivation, arranged so the CPU spends its time in matmuls.

Why: left to autograd, a scratch cell records a graph node for every elementwise op of
every step, and the backward pass replays them one by one; at num_hiddens 256 that
bookkeeping costs as much as the matmuls. Here the forward loop runs without a graph and
keeps the gate activations; the backward loop then needs, per step, one matmul
(dH_{t-1} = dG_t W_hᵀ) and a handful of elementwise ops whose factors are precomputed for
all steps at once; and the weight gradient is ONE large matmul over all steps,
dW_h = Σ_t H_{t-1}ᵀ dG_t = [H_0 … H_{T-1}]ᵀ [dG_1 … dG_T].

Each cell's layer (`RNNLayer`, `LSTMLayer`, `GRULayer` in `rnnlab.models.cells`) computes
exactly that cell's step equations (tests check values and gradients against them and
against nn.RNN / nn.LSTM / nn.GRU, and `torch.autograd.gradcheck` checks the backward in
float64); this module holds what they share.

Shapes: XW (T, B, G·n) is the input projection X W_x + b_x (plus b_h where it can be
folded in), computed by autograd before the loop; H0, C0 (B, n); W_h (n, G·n).
Outputs: Hs (T, B, n) the hidden state of every step, and the final state.
"""

import torch
from torch import Tensor


def or_zeros(grad: Tensor | None, like: Tensor) -> Tensor:
    """Autograd passes None for outputs that did not reach the loss."""
    return torch.zeros_like(like) if grad is None else grad


def previous_states(H0: Tensor, Hs: Tensor) -> Tensor:
    """[H_0, H_1, …, H_{T-1}]: the state each step started from, (T, B, n)."""
    return torch.cat([H0.unsqueeze(0), Hs[:-1]])


def weight_grad(H_prev: Tensor, dG: Tensor) -> Tensor:
    """dW_h = Σ_t H_{t-1}ᵀ dG_t as one (n, T·B) @ (T·B, G·n) matmul."""
    return H_prev.reshape(-1, H_prev.shape[-1]).T @ dG.reshape(-1, dG.shape[-1])
