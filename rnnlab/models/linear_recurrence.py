"""Three ways to run the linear recurrence h_t = a_t ⊙ h_{t-1} + b_t (0 ≤ a_t ≤ 1) over a
window, for the minimal cells (`rnnlab.models.scan`): a blocked parallel scan in ordinary
space (`model.mode=parallel`), Heinsen's scan in log space (`log`), and a step loop
(`fused`); each with the gradient of the recurrence, which is the same recurrence run
backwards: with D_t = dL/dh_t + a_{t+1} ⊙ D_{t+1},

    dL/db_t = D_t,   dL/da_t = D_t ⊙ h_{t-1},   dL/dh_0 = a_1 ⊙ D_1.

Why no logarithms are needed for stability here: the closed form h_t = A_t ⊙ (h_0 +
Σ_{s≤t} b_s / A_s), A_t = a_1 ⋯ a_t, divides by products that underflow within a few
steps of gates near 1; the log-space scan exists to avoid that division (Heinsen, 2023).
The blocked scan and the loop never divide: they only multiply by numbers in [0, 1] and
add, as the step-by-step equations do, so nothing overflows and a product that
underflows stands for a term below float resolution. Heinsen's form is kept as the
issue's reference and tested to the same equalities.

Shapes: a, b, log_a, log_b (num_steps, *S); h0 (*S), where S is (batch, n) in the cells.
"""

import math

import torch
from torch import Tensor


def blocked_scan(
    a: Tensor,
    b: Tensor,
    h0: Tensor,
    reverse: bool = False,
    chunk: int | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """All h_t of h_t = a_t ⊙ h_{t-1} + b_t from h_{-1} = h0 (`reverse`: h_t = a_t ⊙
    h_{t+1} + b_t from the end), as a two-level parallel scan: the window is cut into
    blocks of `chunk` steps (default about √T), all blocks advance together, a step of
    every block per operation: (1) each block's product of a and its end state from
    zero; (2) the carry into each block, a recurrence over the T / chunk blocks; (3) each
    block again from its carry, writing every h_t. The ≤ chunk − 1 steps that do not fill
    a block run last, one at a time. Operations: about 3·chunk + T / chunk, each over
    T / chunk steps at once, against T for the loop. `out`: where to write (a view)."""
    T = len(a)
    out = torch.empty_like(b) if out is None else out
    size = chunk or max(1, math.isqrt(T))
    n = T // size
    steps = range(size - 1, -1, -1) if reverse else range(size)
    first = T - n * size if reverse else 0  # reverse: the odd steps are the first ones
    a_blocks, b_blocks, out_blocks = (
        x[first : first + n * size].unflatten(0, (n, size)) for x in (a, b, out)
    )
    h = h0
    if n:
        product, end = a_blocks[:, steps[0]].clone(), b_blocks[:, steps[0]].clone()
        for j in steps[1:]:
            product.mul_(a_blocks[:, j])
            end.mul_(a_blocks[:, j]).add_(b_blocks[:, j])
        carry = torch.empty_like(end)
        for k in range(n - 1, -1, -1) if reverse else range(n):
            carry[k] = h
            h = torch.addcmul(end[k], product[k], h)
        for j in steps:
            carry = torch.addcmul(b_blocks[:, j], a_blocks[:, j], carry, out=out_blocks[:, j])
    for t in range(first - 1, -1, -1) if reverse else range(n * size, T):
        h = torch.addcmul(b[t], a[t], h, out=out[t])
    return out


class LinearRecurrence(torch.autograd.Function):
    """The recurrence as a loop over steps (`model.mode=fused`): each step is one fused
    multiply-add on (batch, n), and the backward the reverse loop, no graph recorded. a, b
    (num_steps, batch, n); h0 (batch, n) → (num_steps, batch, n)."""

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


LOG_SCAN_CHUNK = 256  # steps per log-space scan (`log_space_scan`)


def log_space_scan(log_a: Tensor, log_b: Tensor, h0: Tensor, chunk: int = LOG_SCAN_CHUNK) -> Tensor:
    """Heinsen's (2023) scan (`model.mode=log`): with a* = cumsum(log a),

        h_t = exp(a*_t + logcumsumexp_{s≤t}(log b_s − a*_s)) + exp(a*_t) ⊙ h_0,

    every term finite: a* only decreases, and logcumsumexp never exponentiates a large
    number. log b needs b > 0 (−inf for b = 0); h0 stays outside the logarithm, so it may
    have any sign. Differentiated by autograd. Windows longer than `chunk` run as scans of
    `chunk` steps, each from the last one's final h: a* + logcumsumexp(·) cancels to log
    h, and over T steps of gates near 1 both terms reach T·|log a|, more than float32's
    digits can cancel."""
    Hs = []
    for part_a, part_b in zip(log_a.split(chunk), log_b.split(chunk), strict=True):
        a_star = torch.cumsum(part_a, dim=0)
        log_h = a_star + torch.logcumsumexp(part_b - a_star, dim=0)
        Hs.append(torch.exp(log_h) + torch.exp(a_star) * h0)
        h0 = Hs[-1][-1]
    return Hs[0] if len(Hs) == 1 else torch.cat(Hs)
