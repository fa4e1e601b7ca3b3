"""The GRU cell: its gate equations, and its backward through time written by hand."""

import torch
from torch import Tensor, nn

from rnnlab.models.bptt import or_zeros, previous_states, weight_grad
from rnnlab.models.scratch import ScratchRecurrent, input_projection


class ScratchGRU(ScratchRecurrent):
    """GRU, a drop-in for `nn.GRU` (gates in its order r, z, n):
        R = σ(X W_xr + b_xr + H W_hr + b_hr)            reset gate
        Z = σ(X W_xz + b_xz + H W_hz + b_hz)            update gate
        N = tanh(X W_xn + b_xn + R ⊙ (H W_hn + b_hn))   candidate state
        H = (1 - Z) ⊙ N + Z ⊙ H

    The d2l book's candidate is tanh(X W_xn + (R ⊙ H) W_hn + b_n): the reset gate acts
    before the matmul. We apply it after, as PyTorch and cuDNN do, so that this layer can
    equal nn.GRU exactly (the two forms are different functions for the same weights),
    and so all three gates' H-projections stay one matmul per step.
    """

    name = "gru"
    num_gates = 3
    nn_module = nn.GRU

    def cell_step(self, XW, state, W_h, b_h, H_rec=None):
        (H,) = state
        XW_r, XW_z, XW_n = XW.chunk(3, dim=-1)  # x W_x + b_x, per gate
        H_in = H if H_rec is None else H_rec  # Keras drops out the matmul's H, not Z ⊙ H's
        HW_r, HW_z, HW_n = (H_in @ W_h + b_h).chunk(3, dim=-1)  # H W_h + b_h, per gate
        R = torch.sigmoid(XW_r + HW_r)
        Z = torch.sigmoid(XW_z + HW_z)
        N = torch.tanh(XW_n + R * HW_n)
        H = (1 - Z) * N + Z * H
        return (H,)

    def fused_direction(self, X, state, w):
        # b_h stays apart: its n-part sits inside R ⊙ (H W_hn + b_hn).
        Hs, H = GRULayer.apply(input_projection(X, w, fold_b_h=False), *state, w.W_h, w.b_h)
        return Hs, (H,)


class GRULayer(torch.autograd.Function):
    """Gates in nn's order (r, z, n), reset applied after the matmul as in nn.GRU:
    R, Z = σ(XW + H_{t-1} W_h + b_h),  N = tanh(XW_n + R (H_{t-1} W_hn + b_hn)),
    H_t = (1 - Z) N + Z H_{t-1} = N + Z (H_{t-1} - N)."""

    @staticmethod
    def forward(ctx, XW: Tensor, H0: Tensor, W_h: Tensor, b_h: Tensor):
        T, n = XW.shape[0], H0.shape[-1]
        HW = torch.empty_like(XW)  # H_{t-1} W_h + b_h: its n-part is needed backward
        RZ = XW.new_empty(T, XW.shape[1], 2 * n)
        Ns, Hs = XW.new_empty(T, *H0.shape), XW.new_empty(T, *H0.shape)
        H = H0
        for t in range(T):
            hw = torch.addmm(b_h, H, W_h, out=HW[t])
            rz = torch.add(XW[t, :, : 2 * n], hw[:, : 2 * n], out=RZ[t]).sigmoid_()
            r, z = rz.chunk(2, dim=1)
            N = torch.addcmul(XW[t, :, 2 * n :], r, hw[:, 2 * n :], out=Ns[t]).tanh_()
            H = torch.lerp(N, H, z, out=Hs[t])
        ctx.save_for_backward(H0, W_h, HW, RZ, Ns, Hs)
        return Hs, H.clone()

    @staticmethod
    def backward(ctx, dHs: Tensor, dH_T: Tensor):
        H0, W_h, HW, RZ, Ns, Hs = ctx.saved_tensors
        T, B, n = Hs.shape
        dHs = or_zeros(dHs, Hs)
        r, z = RZ[..., :n], RZ[..., n:]
        H_prev = previous_states(H0, Hs)
        # Per step, with dH_t the total gradient reaching H_t:
        #   dn = dH (1-Z)(1-N²),  dz = dH (H_{t-1} - N) Z(1-Z),  dr = dn HW_n R(1-R)
        # XW's gradient is (dr, dz, dn); H W_h + b_h's is (dr, dz, dn R);
        # dH_{t-1} = dH Z + (dr, dz, dn R) W_hᵀ.
        dn_factor = (1 - z) * (1 - Ns * Ns)
        dr_factor = dn_factor * HW[..., 2 * n :] * r * (1 - r)
        dz_factor = (H_prev - Ns) * z * (1 - z)
        x_factor = torch.stack([dr_factor, dz_factor, dn_factor], 2)  # (T, B, 3, n)
        h_factor = torch.stack([dr_factor, dz_factor, dn_factor * r], 2)
        dXW, dHW = HW.new_empty(T, B, 3 * n), HW.new_empty(T, B, 3 * n)
        dH = dHs[-1] + or_zeros(dH_T, H0)
        W_hT = W_h.T
        for t in range(T - 1, -1, -1):
            dh = dH.unsqueeze(1)
            torch.mul(dh, x_factor[t], out=dXW[t].view(B, 3, n))
            torch.mul(dh, h_factor[t], out=dHW[t].view(B, 3, n))
            carried = torch.addcmul(dHs[t - 1], dH, z[t]) if t else dH * z[0]
            dH = carried.addmm_(dHW[t], W_hT)
        return dXW, dH, weight_grad(H_prev, dHW), dHW.sum((0, 1))
