"""The Elman RNN cell: its equation, and its backward through time written by hand."""

import torch
from torch import Tensor, nn

from rnnlab.models.bptt import or_zeros, previous_states, weight_grad
from rnnlab.models.scratch import ScratchRecurrent, input_projection


class ScratchRNN(ScratchRecurrent):
    """Elman RNN, a drop-in for `nn.RNN(nonlinearity="tanh")`:
    H = tanh(X W_x + b_x + H W_h + b_h)."""

    name = "rnn"
    num_gates = 1
    nn_module = nn.RNN

    def cell_step(self, XW, state, W_h, b_h, H_rec=None):
        (H,) = state
        H = torch.tanh(XW + (H if H_rec is None else H_rec) @ W_h + b_h)
        return (H,)

    def fused_direction(self, X, state, w):
        Hs, H = RNNLayer.apply(input_projection(X, w, fold_b_h=True), *state, w.W_h)
        return Hs, (H,)


class RNNLayer(torch.autograd.Function):
    """H_t = tanh(XW_t + H_{t-1} W_h), with b_h folded into XW."""

    @staticmethod
    def forward(ctx, XW: Tensor, H0: Tensor, W_h: Tensor):
        Hs = torch.empty_like(XW)
        H = H0
        for t in range(XW.shape[0]):
            H = torch.addmm(XW[t], H, W_h, out=Hs[t]).tanh_()
        ctx.save_for_backward(H0, W_h, Hs)
        return Hs, H.clone()

    @staticmethod
    def backward(ctx, dHs: Tensor, dH_T: Tensor):
        H0, W_h, Hs = ctx.saved_tensors
        dHs = or_zeros(dHs, Hs)
        tanh_grad = 1 - Hs * Hs  # d tanh(a) / da for every step at once
        dA = torch.empty_like(Hs)  # gradient w.r.t. the pre-activation XW_t + H_{t-1} W_h
        dH = dHs[-1] + or_zeros(dH_T, H0)
        W_hT = W_h.T
        for t in range(Hs.shape[0] - 1, -1, -1):
            torch.mul(dH, tanh_grad[t], out=dA[t])
            dH = torch.addmm(dHs[t - 1], dA[t], W_hT) if t else dA[0] @ W_hT
        return dA, dH, weight_grad(previous_states(H0, Hs), dA)
