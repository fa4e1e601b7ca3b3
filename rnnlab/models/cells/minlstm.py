"""minLSTM (Feng et al., 2024): an LSTM whose gates read x_t alone, with no output gate and
its forget and input gates normalised to sum to one, trained by a parallel scan."""

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnlab.models.scan import MinimalRecurrent, g


class MinLSTM(MinimalRecurrent):
    """minLSTM, gates in the order (f, i, h̃):
        F = σ(X W_xf + b_xf),  I = σ(X W_xi + b_xi)     forget and input gates
        F' = F / (F + I),  I' = I / (F + I)             normalised: the state stays a mix
        H̃ = g(X W_xh + b_xh)                            candidate state (g > 0)
        H = F' ⊙ H + I' ⊙ H̃

    There is no cell state apart from H, so the state is one tensor. As a scan
    h_t = a_t ⊙ h_{t-1} + b_t, with the update logit u = softplus(−k_f) − softplus(−k_i)
    = log I − log F: a = F' = σ(−u), b = I' ⊙ H̃ = σ(u) ⊙ g(x̃), never dividing by F + I.
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

    def update_logit(self, XW: Tensor) -> tuple[Tensor, Tensor]:
        k_f, k_i, XW_h = XW.chunk(3, dim=-1)
        return F.softplus(-k_f) - F.softplus(-k_i), XW_h

    def update_logit_backward(self, XW: Tensor, du: Tensor, dXW: Tensor) -> None:
        """d softplus(−k)/dk = −σ(−k)."""
        k_f, k_i, _ = XW.chunk(3, dim=-1)
        n = self.num_hiddens
        torch.mul(du, torch.sigmoid(-k_f), out=dXW[..., :n]).neg_()
        torch.mul(du, torch.sigmoid(-k_i), out=dXW[..., n : 2 * n])

    @torch.no_grad()
    def init_forget_bias_(self, value: float) -> None:
        """Start every layer's forget gate at bias `value` (its block of b_x)."""
        n = self.num_hiddens
        for w in self.weights:
            w.b_x[:n] = value
