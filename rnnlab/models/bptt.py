"""Backpropagation through time written by hand, for one layer and direction of the
scratch cells: the textbook derivation, arranged so the CPU spends its time in matmuls.

Why: left to autograd, a scratch cell records a graph node for every elementwise op of
every step, and the backward pass replays them one by one; at num_hiddens 256 that
bookkeeping costs as much as the matmuls. Here the forward loop runs without a graph and
keeps the gate activations; the backward loop then needs, per step, one matmul
(dH_{t-1} = dG_t W_hᵀ) and a handful of elementwise ops whose factors are precomputed for
all steps at once; and the weight gradient is ONE large matmul over all steps,
dW_h = Σ_t H_{t-1}ᵀ dG_t = [H_0 … H_{T-1}]ᵀ [dG_1 … dG_T].

Each function computes exactly the cell equations in `rnnlab.models.scratch` (tests check
values and gradients against them and against nn.RNN / nn.LSTM / nn.GRU, and
`torch.autograd.gradcheck` checks the backward in float64).

Shapes: XW (T, B, G·n) is the input projection X W_x + b_x (plus b_h where it can be
folded in), computed by autograd before the loop; H0, C0 (B, n); W_h (n, G·n).
Outputs: Hs (T, B, n) the hidden state of every step, and the final state.
"""

import torch
from torch import Tensor


def _or_zeros(grad: Tensor | None, like: Tensor) -> Tensor:
    """Autograd passes None for outputs that did not reach the loss."""
    return torch.zeros_like(like) if grad is None else grad


def _previous_states(H0: Tensor, Hs: Tensor) -> Tensor:
    """[H_0, H_1, …, H_{T-1}]: the state each step started from, (T, B, n)."""
    return torch.cat([H0.unsqueeze(0), Hs[:-1]])


def _weight_grad(H_prev: Tensor, dG: Tensor) -> Tensor:
    """dW_h = Σ_t H_{t-1}ᵀ dG_t as one (n, T·B) @ (T·B, G·n) matmul."""
    return H_prev.reshape(-1, H_prev.shape[-1]).T @ dG.reshape(-1, dG.shape[-1])


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
        dHs = _or_zeros(dHs, Hs)
        tanh_grad = 1 - Hs * Hs  # d tanh(a) / da for every step at once
        dA = torch.empty_like(Hs)  # gradient w.r.t. the pre-activation XW_t + H_{t-1} W_h
        dH = dHs[-1] + _or_zeros(dH_T, H0)
        W_hT = W_h.T
        for t in range(Hs.shape[0] - 1, -1, -1):
            torch.mul(dH, tanh_grad[t], out=dA[t])
            dH = torch.addmm(dHs[t - 1], dA[t], W_hT) if t else dA[0] @ W_hT
        return dA, dH, _weight_grad(_previous_states(H0, Hs), dA)


class LSTMLayer(torch.autograd.Function):
    """Gates in nn's order (i, f, g, o), b_h folded into XW:
    I, F, O = σ(·), G = tanh(·) of XW_t + H_{t-1} W_h;  C_t = F C_{t-1} + I G;
    H_t = O tanh(C_t)."""

    @staticmethod
    def forward(ctx, XW: Tensor, H0: Tensor, C0: Tensor, W_h: Tensor):
        T, (B, n) = XW.shape[0], H0.shape
        acts = torch.empty_like(XW)  # i, f, g, o after their nonlinearities
        Cs, tanh_Cs, Hs = (XW.new_empty(T, B, n) for _ in range(3))
        # Doubling g's pre-activation lets ONE sigmoid serve all four gates: with
        # s = σ(2x), G = tanh(x) = 2s - 1, so the cell update I G + F C_{t-1} is
        # F C_{t-1} - I + 2 I s, and G itself is only needed after the loop.
        double_g = XW.new_ones(4, n)
        double_g[2] = 2
        double_g = double_g.view(-1)
        XW, W_h2 = XW * double_g, W_h * double_g
        H, C = H0, C0
        for t in range(T):
            a = torch.addmm(XW[t], H, W_h2, out=acts[t]).sigmoid_()
            i, f, s, o = a.view(B, 4, n).unbind(1)
            C = torch.addcmul(torch.mul(f, C).sub_(i), i, s, value=2, out=Cs[t])
            H = torch.mul(o, torch.tanh(C, out=tanh_Cs[t]), out=Hs[t])
        acts.view(T, B, 4, n)[:, :, 2].mul_(2).sub_(1)  # s → G, for the backward
        ctx.save_for_backward(C0, H0, W_h, acts, Cs, tanh_Cs, Hs)
        return Hs, H.clone(), C.clone()

    @staticmethod
    def backward(ctx, dHs: Tensor, dH_T: Tensor, dC_T: Tensor):
        C0, H0, W_h, acts, Cs, tanh_Cs, Hs = ctx.saved_tensors
        T, B, n = Hs.shape
        dHs = _or_zeros(dHs, Hs)
        i, f, g, o = acts.view(T, B, 4, n).unbind(2)
        C_prev = _previous_states(C0, Cs)
        # Per step: dC_t = dC_{t+1} F_{t+1} + dH_t O_t (1 - tanh²C_t), then the gate
        # pre-activations' gradients are dC_t or dH_t times factors known after the forward:
        #   di = dC G I(1-I),  df = dC C_{t-1} F(1-F),  dg = dC I (1-G²),  do = dH tanhC O(1-O)
        dC_factor = torch.stack([g * i * (1 - i), C_prev * f * (1 - f), i * (1 - g * g)], 2)
        dH_factor_o = tanh_Cs * o * (1 - o)
        dH_factor_C = o * (1 - tanh_Cs * tanh_Cs)
        dG = torch.empty_like(acts)
        dG4 = dG.view(T, B, 4, n)
        dH = dHs[-1] + _or_zeros(dH_T, H0)
        dC = _or_zeros(dC_T, C0)
        W_hT = W_h.T
        for t in range(T - 1, -1, -1):
            dC = torch.addcmul(dC, dH, dH_factor_C[t])
            torch.mul(dC.unsqueeze(1), dC_factor[t], out=dG4[t, :, :3])
            torch.mul(dH, dH_factor_o[t], out=dG4[t, :, 3])
            dC = dC * f[t]
            dH = torch.addmm(dHs[t - 1], dG[t], W_hT) if t else dG[0] @ W_hT
        return dG, dH, dC, _weight_grad(_previous_states(H0, Hs), dG)


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
            rz = torch.add(XW[t, :, :2 * n], hw[:, :2 * n], out=RZ[t]).sigmoid_()
            r, z = rz.chunk(2, dim=1)
            N = torch.addcmul(XW[t, :, 2 * n:], r, hw[:, 2 * n:], out=Ns[t]).tanh_()
            H = torch.lerp(N, H, z, out=Hs[t])
        ctx.save_for_backward(H0, W_h, HW, RZ, Ns, Hs)
        return Hs, H.clone()

    @staticmethod
    def backward(ctx, dHs: Tensor, dH_T: Tensor):
        H0, W_h, HW, RZ, Ns, Hs = ctx.saved_tensors
        T, B, n = Hs.shape
        dHs = _or_zeros(dHs, Hs)
        r, z = RZ[..., :n], RZ[..., n:]
        H_prev = _previous_states(H0, Hs)
        # Per step, with dH_t the total gradient reaching H_t:
        #   dn = dH (1-Z)(1-N²),  dz = dH (H_{t-1} - N) Z(1-Z),  dr = dn HW_n R(1-R)
        # XW's gradient is (dr, dz, dn); H W_h + b_h's is (dr, dz, dn R);
        # dH_{t-1} = dH Z + (dr, dz, dn R) W_hᵀ.
        dn_factor = (1 - z) * (1 - Ns * Ns)
        dr_factor = dn_factor * HW[..., 2 * n:] * r * (1 - r)
        dz_factor = (H_prev - Ns) * z * (1 - z)
        x_factor = torch.stack([dr_factor, dz_factor, dn_factor], 2)  # (T, B, 3, n)
        h_factor = torch.stack([dr_factor, dz_factor, dn_factor * r], 2)
        dXW, dHW = HW.new_empty(T, B, 3 * n), HW.new_empty(T, B, 3 * n)
        dH = dHs[-1] + _or_zeros(dH_T, H0)
        W_hT = W_h.T
        for t in range(T - 1, -1, -1):
            dh = dH.unsqueeze(1)
            torch.mul(dh, x_factor[t], out=dXW[t].view(B, 3, n))
            torch.mul(dh, h_factor[t], out=dHW[t].view(B, 3, n))
            carried = torch.addcmul(dHs[t - 1], dH, z[t]) if t else dH * z[0]
            dH = carried.addmm_(dHW[t], W_hT)
        return dXW, dH, _weight_grad(H_prev, dHW), dHW.sum((0, 1))
