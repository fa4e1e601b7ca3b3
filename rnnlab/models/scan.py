"""What the minimal cells (minGRU, minLSTM; Feng et al., 2024, "Were RNNs All We
Needed?") share: the linear recurrence h_t = a_t ⊙ h_{t-1} + b_t run over a whole window,
and the layer around it.

Why a recurrence this simple: no gate reads h_{t-1}, so a_t and b_t come from x_t alone,
all steps in one matmul, and the steps only meet in the recurrence, which
`rnnlab.models.linear_recurrence` runs four ways (`model.mode`): a blocked parallel scan
in ordinary space with its backward written by hand (parallel, the default), Heinsen's
log-space scan differentiated by autograd (log), a step loop with the same hand-written
backward (fused), or `cell_step` a step at a time under autograd (sequential, the
reference). 0 ≤ a ≤ 1 keeps the ordinary-space forms stable (see that module); the
log-space one needs b > 0, which the cells ensure with the paper's g (the candidate
state g(x) = x + ½ for x ≥ 0, σ(x) below).

Shapes: XW (num_steps, batch, G * num_hiddens) = X W_x + b_x; log_a, log_b, a, b:
(num_steps, batch, num_hiddens); h_0: (batch, num_hiddens).
"""

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnlab.models.linear_recurrence import LinearRecurrence, blocked_scan, log_space_scan
from rnnlab.models.scratch import ScratchRecurrent

MODES = ("parallel", "log", "fused", "sequential")  # model.mode


def g(x: Tensor) -> Tensor:
    """The paper's activation for the candidate state: positive, and x + ½ for x ≥ 0."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: Tensor) -> Tensor:
    """log g(x) without forming g: log(x + ½) for x ≥ 0, −softplus(−x) = log σ(x) below."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


class InputWeights(nn.Module):
    """One (layer, direction)'s parameters: W_x (input_size, G * num_hiddens), b_x
    (G * num_hiddens,), the G blocks side by side. No W_h: no gate reads h_{t-1}.
    Drawn from U(±1/sqrt(num_hiddens)), as nn draws the classic cells'."""

    def __init__(self, input_size: int, num_hiddens: int, num_gates: int):
        super().__init__()
        bound = 1 / math.sqrt(num_hiddens)
        self.W_x = nn.Parameter(torch.empty(input_size, num_gates * num_hiddens))
        self.b_x = nn.Parameter(torch.empty(num_gates * num_hiddens))
        nn.init.uniform_(self.W_x, -bound, bound)
        nn.init.uniform_(self.b_x, -bound, bound)


class MinimalRecurrent(ScratchRecurrent):
    """A stack of minimal cells: stacking, directions, dropout between layers, masks and
    nn's state format as every scratch stack (`ScratchRecurrent.forward`); a cell gives
    its step (`cell_step`) and its coefficients (`coefficients`; `log_coefficients` for
    the log-space scan).

    `mode`: "parallel" runs each (layer, direction) as one blocked scan in ordinary space
    (`GatedScan`); "log" as Heinsen's log-space scan (`log_space_scan`); "fused" as a
    loop with the same hand-written backward (`LinearRecurrence`); "sequential" runs
    `cell_step` one step at a time under autograd, the reference. A window of one step,
    as in generation, runs as a step in every mode. A masked step keeps the state (a = 1,
    b = 0) and outputs zeros, as the other scratch cells do. Under autocast the
    recurrence runs in float32 (bf16 loses the state's digits over long windows).
    `bptt`, `recurrent_dropout` and `weight_drop` exist for the classic cells, whose
    recurrence is a matmul; here there is none, so anything but their defaults is refused.
    """

    def __init__(
        self,
        input_size: int,
        num_hiddens: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        bptt: str = "fused",
        recurrent_dropout: float = 0.0,
        weight_drop: float = 0.0,
        mode: str = "parallel",
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if recurrent_dropout or weight_drop:
            raise ValueError(
                f"{self.name} has no recurrent matmul: recurrent_dropout and weight_drop "
                f"must be 0, got {recurrent_dropout} and {weight_drop}"
            )
        super().__init__(input_size, num_hiddens, num_layers, bidirectional, dropout, bptt)
        self.mode = mode

    def make_weights(self, input_size: int, num_hiddens: int) -> nn.Module:
        return InputWeights(input_size, num_hiddens, self.num_gates)

    def cell_step(self, XW: Tensor, state: tuple[Tensor, ...], *_) -> tuple[Tensor, ...]:
        """h_t from XW (batch, G * num_hiddens) and (h_{t-1},): the cell's equations."""
        raise NotImplementedError

    def update_logit(self, XW: Tensor) -> tuple[Tensor, Tensor]:
        """(u, x̃) of every step, each (num_steps, batch, num_hiddens): the cell's
        coefficients are a = σ(−u), b = σ(u) ⊙ g(x̃); x̃ is XW's last block."""
        raise NotImplementedError

    def update_logit_backward(self, XW: Tensor, du: Tensor, dXW: Tensor) -> None:
        """Write dL/dXW of the blocks u reads into `dXW`, from du = dL/du."""
        raise NotImplementedError

    def coefficients(self, XW: Tensor) -> tuple[Tensor, Tensor]:
        """(a, b) of every step, each (num_steps, batch, num_hiddens)."""
        u, x = self.update_logit(XW)
        return torch.sigmoid(-u), torch.sigmoid(u) * g(x)

    def log_coefficients(self, XW: Tensor) -> tuple[Tensor, Tensor]:
        """(log a, log b) of every step, each (num_steps, batch, num_hiddens)."""
        u, x = self.update_logit(XW)
        return -F.softplus(u), -F.softplus(-u) + log_g(x)

    def _run_direction(self, X, state, w, mask=None):
        """X (num_steps, batch, in) → (h of every step, (final h,)); see the class."""
        XW = torch.addmm(w.b_x, X.reshape(-1, X.shape[-1]), w.W_x).view(*X.shape[:2], -1)
        if XW.dtype in (torch.float16, torch.bfloat16):
            XW = XW.float()
        (h,) = state
        h = h.to(XW.dtype)
        real = None if mask is None else mask.unsqueeze(-1)  # (num_steps, batch, 1)
        if self.mode == "sequential" or len(XW) == 1:
            Hs = []
            for t, XW_t in enumerate(XW.unbind(0)):
                (new,) = self.cell_step(XW_t, (h,))
                h = new if real is None else torch.where(real[t], new, h)
                Hs.append(h if real is None else h * real[t])
            return torch.stack(Hs), (h,)
        if self.mode == "parallel":
            Hs = GatedScan.apply(XW, h, real, self)
        elif self.mode == "log":
            log_a, log_b = self.log_coefficients(XW)
            if real is not None:
                log_a = log_a.masked_fill(~real, 0.0)
                log_b = log_b.masked_fill(~real, -math.inf)
            Hs = log_space_scan(log_a, log_b, h)
        else:
            a, b = self.coefficients(XW)
            if real is not None:
                a, b = a.masked_fill(~real, 1.0), b.masked_fill(~real, 0.0)
            Hs = LinearRecurrence.apply(a, b, h)
        return (Hs if real is None else Hs * real), (Hs[-1],)


class GatedScan(torch.autograd.Function):
    """`model.mode=parallel`: a cell's coefficients a = σ(−u), b = σ(u) ⊙ g(x̃) and the
    blocked scan over them (`blocked_scan`) as one autograd node, its backward written by
    hand: the scan's gradient D (the reverse scan, `rnnlab.models.linear_recurrence`), then

        dL/du = a z ⊙ (D ⊙ g(x̃) − D ⊙ h_{t-1}),   dL/dx̃ = D ⊙ z ⊙ g'(x̃),   z = σ(u),

    with g'(x̃) = 1 for x̃ ≥ 0 and g(1 − g) below; the cell maps du to its pre-activations
    (`update_logit_backward`). So few passes over (num_steps, batch, n) tensors, and no
    graph over the gates, is what makes it fast on a CPU. XW (num_steps, batch, G * n), h0
    (batch, n), real (num_steps, batch, 1) bool or None → (num_steps, batch, n)."""

    @staticmethod
    def forward(ctx, XW: Tensor, h0: Tensor, real: Tensor | None, cell) -> Tensor:
        u, x = cell.update_logit(XW)
        a, z = torch.neg(u).sigmoid_(), torch.sigmoid(u)  # both: 1 − z rounds a away
        gx = torch.clamp(x, max=0).sigmoid_().add_(torch.clamp(x, min=0))  # g, branch-free
        if real is not None:  # a masked step keeps the state: a = 1, b = 0
            kept = real.to(a.dtype)
            a.mul_(kept).add_(1 - kept)
            z.mul_(kept)
        Hs = blocked_scan(a, z * gx, h0)
        ctx.save_for_backward(XW, h0, a, z, gx, Hs)
        ctx.cell = cell
        return Hs

    @staticmethod
    def backward(ctx, dHs: Tensor):
        XW, h0, a, z, gx, Hs = ctx.saved_tensors
        D = torch.empty_like(dHs)  # D_t = a_{t+1} D_{t+1} + dHs_t
        D[-1] = dHs[-1]
        if len(a) > 1:
            blocked_scan(a[1:], dHs[:-1], dHs[-1], reverse=True, out=D[:-1])
        dh0 = a[0] * D[0]
        du = torch.empty_like(D)  # a z (D g(x̃) − D h_{t-1}); 0 at a masked step (z = 0)
        torch.mul(D[0], h0, out=du[0])
        torch.mul(D[1:], Hs[:-1], out=du[1:])
        du.addcmul_(D, gx, value=-1).mul_(a).mul_(z).neg_()
        n = a.shape[-1]
        dXW = torch.empty_like(XW)
        m = torch.clamp(XW[..., -n:], max=0)  # g'(x̃) = σ'(min(x̃, 0)) + ¾ [x̃ ≥ 0]
        step = torch.sign(m).add_(1)
        dg = m.sigmoid_()
        dg.addcmul_(dg, dg, value=-1).add_(step, alpha=0.75)
        torch.mul(D.mul_(dg), z, out=dXW[..., -n:])  # dL/dx̃
        ctx.cell.update_logit_backward(XW, du, dXW)
        return dXW, dh0, None, None


def minimal_problems(model, cell_class) -> list[str]:
    """The `model` settings (a RecurrentConfig) that a minimal cell cannot honour, and
    `model.mode`/`model.block` on a classic cell, each naming the value and what is
    expected (the key without its `model.` prefix, which the schema adds)."""
    cell = model.cell
    if not issubclass(cell_class, MinimalRecurrent):
        return [
            f"{key}={getattr(model, key)!r} is for the minimal cells (mingru, minlstm); "
            f"model.cell={cell!r}: remove model.{key}"
            for key in ("mode", "block")
            if getattr(model, key) is not None
        ]
    problems = []
    if model.block == "paper":
        problems += _paper_block_problems(model)
    for key, value, what in (
        ("bptt", model.bptt != "fused" and model.bptt, "a backward through a recurrent matmul"),
        ("recurrent_dropout", model.recurrent_dropout, "a recurrent matmul whose input to drop"),
        ("weight_drop", model.weight_drop, "hidden-to-hidden weights to drop"),
    ):
        if value:
            problems.append(
                f"{key}={getattr(model, key)!r} does not apply to model.cell={cell!r}: it has "
                f"no {what} (no gate reads h_(t-1)); expected the setting left out or 0"
            )
    if model.forget_bias is not None and not cell_class.has_forget_gate:
        problems.append(
            f"forget_bias={model.forget_bias!r} does not apply to model.cell={cell!r}: it has "
            "no forget gate; expected null"
        )
    if model.impl != "scratch":
        problems.append(
            f"impl={model.impl!r}: model.cell={cell!r} has no PyTorch module; "
            "expected model.impl=scratch"
        )
    return problems


def _paper_block_problems(model) -> list[str]:
    """`model.block=paper` places its own residuals, norms and dropout between layers."""
    clashing = [
        f"model.{key}={getattr(model, key)!r}"
        for key in ("input_dropout", "output_dropout", "locked_dropout", "residual")
        if getattr(model, key)
    ]
    if model.init != "default":  # it reads plain stacks' parameters
        clashing.append(f"model.init={model.init!r}")
    if clashing:
        return [
            f"block='paper' builds its own layers (residuals, LayerNorm, MLP, "
            f"model.dropout on each branch); {', '.join(clashing)} would act nowhere: "
            "expected them at 0/false (init: default), or model.block=plain"
        ]
    return []
