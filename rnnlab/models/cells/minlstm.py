"""minLSTM (Feng et al., 2024): an LSTM whose gates read x_t alone, with no output gate and
its forget and input gates normalised to sum to one, trained by a parallel scan."""

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnlab.models.scan import MinimalRecurrent, g, log_g


class MinLSTM(MinimalRecurrent):
    """minLSTM, gates in the order (f, i, h̃):
        F = σ(X W_xf + b_xf),  I = σ(X W_xi + b_xi)     forget and input gates
        F' = F / (F + I),  I' = I / (F + I)             normalised: the state stays a mix
        H̃ = g(X W_xh + b_xh)                            candidate state (g > 0)
        H = F' ⊙ H + I' ⊙ H̃

    There is no cell state apart from H, so the state is one tensor. In log space, with
    d = softplus(−k_f) − softplus(−k_i) = log I − log F:
    log a = log F' = −softplus(d), log b = log I' + log g = −softplus(−d) + log g(x̃).
    `model.forget_bias` starts b_xf at its value (`init_forget_bias_`).
    """

    name = "minlstm"
    num_gates = 3
    has_forget_gate = True

    def cell_step(self, XW: Tensor, state: tuple[Tensor, ...], *_) -> tuple[Tensor, ...]:
        (H,) = state
        XW_f, XW_i, XW_h = XW.chunk(3, dim=-1)
        F_gate, I_gate = torch.sigmoid(XW_f), torch.sigmoid(XW_i)
        total = F_gate + I_gate
        return ((F_gate / total) * H + (I_gate / total) * g(XW_h),)

    def coefficients(self, XW: Tensor) -> tuple[Tensor, Tensor]:
        XW_f, XW_i, XW_h = XW.chunk(3, dim=-1)
        F_gate, I_gate = torch.sigmoid(XW_f), torch.sigmoid(XW_i)
        total = F_gate + I_gate
        return F_gate / total, I_gate / total * g(XW_h)

    def log_coefficients(self, XW: Tensor) -> tuple[Tensor, Tensor]:
        k_f, k_i, XW_h = XW.chunk(3, dim=-1)
        d = F.softplus(-k_f) - F.softplus(-k_i)
        return -F.softplus(d), -F.softplus(-d) + log_g(XW_h)

    @torch.no_grad()
    def init_forget_bias_(self, value: float) -> None:
        """Start every layer's forget gate at bias `value` (its block of b_x)."""
        n = self.num_hiddens
        for w in self.weights:
            w.b_x[:n] = value
