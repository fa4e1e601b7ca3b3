"""The LSTM cell: its gate equations, and its backward through time written by hand."""

import torch
from torch import Tensor, nn

from rnnlab.models.bptt import or_zeros, previous_states, weight_grad
from rnnlab.models.scratch import ScratchRecurrent, input_projection


class ScratchLSTM(ScratchRecurrent):
    """LSTM, a drop-in for `nn.LSTM` (gates in its order i, f, g, o):
    I = σ(X W_xi + b_xi + H W_hi + b_hi)       input gate
    F = σ(X W_xf + b_xf + H W_hf + b_hf)       forget gate
    C̃ = tanh(X W_xc + b_xc + H W_hc + b_hc)    candidate memory (nn's "g")
    O = σ(X W_xo + b_xo + H W_ho + b_ho)       output gate
    C = F ⊙ C + I ⊙ C̃,   H = O ⊙ tanh(C)
    """

    name = "lstm"
    num_gates = 4
    num_state_tensors = 2
    nn_module = nn.LSTM
    has_forget_gate = True

    def cell_step(self, XW, state, W_h, b_h, H_rec=None):
        H, C = state
        H = H if H_rec is None else H_rec  # H only enters through H @ W_h
        # I and O mirror the equations (E741 fears they read as 1 and 0).
        I, F, C_tilde, O = (XW + H @ W_h + b_h).chunk(4, dim=-1)  # noqa: E741  pre-activations
        I, F, O = torch.sigmoid(I), torch.sigmoid(F), torch.sigmoid(O)  # noqa: E741
        C_tilde = torch.tanh(C_tilde)
        C = F * C + I * C_tilde
        H = O * torch.tanh(C)
        return H, C

    def fused_direction(self, X, state, w):
        Hs, H, C = LSTMLayer.apply(input_projection(X, w, fold_b_h=True), *state, w.W_h)
        return Hs, (H, C)


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
        dHs = or_zeros(dHs, Hs)
        i, f, g, o = acts.view(T, B, 4, n).unbind(2)
        C_prev = previous_states(C0, Cs)
        # Per step: dC_t = dC_{t+1} F_{t+1} + dH_t O_t (1 - tanh²C_t), then the gate
        # pre-activations' gradients are dC_t or dH_t times factors known after the forward:
        #   di = dC G I(1-I),  df = dC C_{t-1} F(1-F),  dg = dC I (1-G²),  do = dH tanhC O(1-O)
        dC_factor = torch.stack([g * i * (1 - i), C_prev * f * (1 - f), i * (1 - g * g)], 2)
        dH_factor_o = tanh_Cs * o * (1 - o)
        dH_factor_C = o * (1 - tanh_Cs * tanh_Cs)
        dG = torch.empty_like(acts)
        dG4 = dG.view(T, B, 4, n)
        dH = dHs[-1] + or_zeros(dH_T, H0)
        dC = or_zeros(dC_T, C0)
        W_hT = W_h.T
        for t in range(T - 1, -1, -1):
            dC = torch.addcmul(dC, dH, dH_factor_C[t])
            torch.mul(dC.unsqueeze(1), dC_factor[t], out=dG4[t, :, :3])
            torch.mul(dH, dH_factor_o[t], out=dG4[t, :, 3])
            dC = dC * f[t]
            dH = torch.addmm(dHs[t - 1], dG[t], W_hT) if t else dG[0] @ W_hT
        return dG, dH, dC, weight_grad(previous_states(H0, Hs), dG)
