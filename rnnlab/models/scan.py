"""What the minimal cells (minGRU, minLSTM; Feng et al., 2024, "Were RNNs All We
Needed?") share: the linear recurrence h_t = a_t ⊙ h_{t-1} + b_t, run over a whole window
at once in log space (Heinsen, 2023), as a loop with its backward written by hand, or one
step at a time under autograd; and the layer around it.

Why a recurrence this simple: no gate reads h_{t-1}, so a_t and b_t come from x_t alone,
all steps in one matmul, and the steps only meet in the scan

    h_t = A_t ⊙ (h_0 + Σ_{s≤t} b_s / A_s),   A_t = a_1 ⊙ … ⊙ a_t.

Written so, A_t underflows within a few steps when the gates are near 1 (a_t ≈ 0) and
b_s / A_s overflows; in log space, with a* = cumsum(log a),

    h_t = exp(a*_t + logcumsumexp_{s≤t}(log b_s − a*_s)) + exp(a*_t) ⊙ h_0,

every term stays finite: a* only decreases, and logcumsumexp never exponentiates a large
number. log b needs b > 0, which the cells ensure with the paper's g (the candidate state
g(x) = x + ½ for x ≥ 0, σ(x) below); h_0 stays outside the logarithm, so any state
(zeros, a carried one, an encoder's) can start the scan.

Shapes: XW (num_steps, batch, G * num_hiddens) = X W_x + b_x; log_a, log_b, a, b:
(num_steps, batch, num_hiddens); h_0: (batch, num_hiddens).
"""

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnlab.models.scratch import ScratchRecurrent

MODES = ("parallel", "fused", "sequential")  # model.mode
SCAN_CHUNK = 256  # steps per log-space scan (`parallel_scan`)


def g(x: Tensor) -> Tensor:
    """The paper's activation for the candidate state: positive, and x + ½ for x ≥ 0."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: Tensor) -> Tensor:
    """log g(x) without forming g: log(x + ½) for x ≥ 0, −softplus(−x) = log σ(x) below."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


def parallel_scan(log_a: Tensor, log_b: Tensor, h0: Tensor, chunk: int = SCAN_CHUNK) -> Tensor:
    """All h_t of h_t = a_t ⊙ h_{t-1} + b_t at once, from log a_t ≤ 0 and log b_t (−inf
    for b_t = 0): (num_steps, batch, n) each, h0 (batch, n) of any sign → (num_steps,
    batch, n). Windows longer than `chunk` run as scans of `chunk` steps, each starting
    from the last one's final h: a* + logcumsumexp(·) cancels to log h, and over T steps
    of gates near 1 both terms reach T·|log a|, more than float32's digits can cancel."""
    Hs = []
    for part_a, part_b in zip(log_a.split(chunk), log_b.split(chunk), strict=True):
        a_star = torch.cumsum(part_a, dim=0)
        log_h = a_star + torch.logcumsumexp(part_b - a_star, dim=0)
        Hs.append(torch.exp(log_h) + torch.exp(a_star) * h0)
        h0 = Hs[-1][-1]
    return Hs[0] if len(Hs) == 1 else torch.cat(Hs)


class LinearRecurrence(torch.autograd.Function):
    """h_t = a_t ⊙ h_{t-1} + b_t as a loop over steps in ordinary space, with its backward
    written by hand (`model.mode=fused`): each step is one fused multiply-add on (batch,
    n), and no graph is recorded. The gradient of a linear recurrence is the same
    recurrence run backwards: with D_t = dL/dh_t + a_{t+1} ⊙ D_{t+1},
    dL/db_t = D_t, dL/da_t = D_t ⊙ h_{t-1}, dL/dh_0 = a_1 ⊙ D_1. Stable as the steps are:
    0 ≤ a ≤ 1. a, b: (num_steps, batch, n); h0: (batch, n) → (num_steps, batch, n)."""

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
        Hs = torch.empty_like(b)
        h = h0
        for t in range(len(a)):
            h = torch.addcmul(b[t], a[t], h, out=Hs[t])
        ctx.save_for_backward(a, h0, Hs)
        return Hs

    @staticmethod
    def backward(ctx, dHs: Tensor):
        a, h0, Hs = ctx.saved_tensors
        D = torch.empty_like(Hs)
        d = D[-1].copy_(dHs[-1])
        for t in range(len(a) - 2, -1, -1):
            d = torch.addcmul(dHs[t], a[t + 1], d, out=D[t])
        H_prev = torch.cat([h0.unsqueeze(0), Hs[:-1]])
        return D * H_prev, D, a[0] * D[0]


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
    its step (`cell_step`) and its coefficients in log space (`log_coefficients`).

    `mode`: "parallel" runs each (layer, direction) as one log-space scan (a window of one
    step, as in generation, runs as a step: the same function); "fused" runs the same
    recurrence as a loop with a hand-written backward (`LinearRecurrence`: for CPUs,
    where the scan's logarithms cost more than the loop); "sequential" runs `cell_step`
    one step at a time under autograd, the reference. A masked step keeps the state (a = 1,
    b = 0) and outputs zeros, as the other scratch cells do. Under autocast the scan runs
    in float32 (logarithms in bf16 lose the state's digits).
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

    def log_coefficients(self, XW: Tensor) -> tuple[Tensor, Tensor]:
        """(log a, log b) of every step, each (num_steps, batch, num_hiddens)."""
        raise NotImplementedError

    def coefficients(self, XW: Tensor) -> tuple[Tensor, Tensor]:
        """(a, b) of every step, each (num_steps, batch, num_hiddens)."""
        raise NotImplementedError

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
        if self.mode == "fused":
            a, b = self.coefficients(XW)
            if real is not None:
                a, b = a.masked_fill(~real, 1.0), b.masked_fill(~real, 0.0)
            Hs = LinearRecurrence.apply(a, b, h)
            return (Hs if real is None else Hs * real), (Hs[-1],)
        log_a, log_b = self.log_coefficients(XW)
        if real is not None:
            log_a = log_a.masked_fill(~real, 0.0)
            log_b = log_b.masked_fill(~real, -math.inf)
        Hs = parallel_scan(log_a, log_b, h)
        return (Hs if real is None else Hs * real), (Hs[-1],)


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
