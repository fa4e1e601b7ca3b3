"""minGRU (Feng et al., 2024): a GRU whose gates read x_t alone, trained by a parallel scan."""

import torch
from torch import Tensor

from rnnlab.models.scan import MinimalRecurrent, g


class MinGRU(MinimalRecurrent):
    """minGRU, gates in the order (z, h̃):
        Z = σ(X W_xz + b_xz)                  update gate
        H̃ = g(X W_xh + b_xh)                  candidate state (g > 0: see rnnlab.models.scan)
        H = (1 − Z) ⊙ H + Z ⊙ H̃

    As a scan h_t = a_t ⊙ h_{t-1} + b_t: a = 1 − Z = σ(−k), b = Z ⊙ H̃ = σ(k) ⊙ g(x̃),
    with k, x̃ the two blocks: the update logit u is k itself.
    """

    name = "mingru"
    num_gates = 2

    def cell_step(self, XW: Tensor, state: tuple[Tensor, ...], *_) -> tuple[Tensor, ...]:
        (H,) = state
        XW_z, XW_h = XW.chunk(2, dim=-1)
        Z = torch.sigmoid(XW_z)
        H_tilde = g(XW_h)
        return ((1 - Z) * H + Z * H_tilde,)

    def update_logit(self, XW: Tensor) -> tuple[Tensor, Tensor]:
        k, XW_h = XW.chunk(2, dim=-1)
        return k, XW_h

    def update_logit_backward(self, XW: Tensor, du: Tensor, dXW: Tensor) -> None:
        dXW[..., : self.num_hiddens] = du
