"""The product the time loop makes at every step, with the same weight each time:
C + X @ W, where X is one step's (batch, k) rows and W the (k, m) recurrent weight.

Why a module for one matmul: on the CPU, `torch.addmm` hands the product to MKL, which
repacks W into its internal layout on every call. For the 32-row X of a training step
that repacking of a (512 × 2048) weight costs about as much as the product itself, and
the scratch cells pay it twice per step (forward, and backward through time). nn.LSTM
avoids it: oneDNN, which runs PyTorch's CPU RNN kernels, reorders the weight once into
its blocked layout and reuses it for all steps. `StepWeight` does the same through the
oneDNN linear operator PyTorch ships for its compiler (`torch.ops.mkldnn`), and falls back
to `addmm` where that operator cannot run: other devices, float64 (gradcheck), builds
without oneDNN, or a future PyTorch without the operator.
"""

import torch
from torch import Tensor


def _onednn_linear_available() -> bool:
    mkldnn = torch.ops.mkldnn
    return (torch.backends.mkldnn.is_available()
            and hasattr(mkldnn, "_reorder_linear_weight")
            and hasattr(mkldnn, "_linear_pointwise"))


ONEDNN_LINEAR = _onednn_linear_available()


# When packing pays, measured on the 2-core AMD EPYC these sessions run on (microseconds
# per product for a batch of 32, MKL addmm vs oneDNN with the packed weight):
# h=512 LSTM (512 × 2048) 1198 vs 703, h=256 LSTM (256 × 1024) 324 vs 208, h=256 GRU
# (256 × 768) 212 vs 194, h=128 LSTM (128 × 512) 81 vs 97; packing a 512 × 2048 weight
# costs about 1 ms, so it pays back only over several steps.
MIN_PACKED_NUMEL = 2**18
MIN_PACKED_STEPS = 8


class StepWeight:
    """W (k, m) prepared for `num_steps` products C + X @ W, X having `batch_size` rows.
    Build one per sequence: the weight changes with every optimizer step."""

    def __init__(self, W: Tensor, batch_size: int, num_steps: int):
        self.W = W
        self.packed = None
        if (ONEDNN_LINEAR and W.device.type == "cpu" and W.dtype == torch.float32
                and W.numel() >= MIN_PACKED_NUMEL and num_steps >= MIN_PACKED_STEPS):
            # oneDNN's linear computes X @ weightᵀ with weight (out, in), hence Wᵀ; it
            # reorders a contiguous weight several times faster than a transposed view.
            self.packed = torch.ops.mkldnn._reorder_linear_weight(W.T.contiguous(),
                                                                  batch_size)

    def addmm(self, C: Tensor, X: Tensor) -> Tensor:
        """C + X @ W, in a new tensor."""
        if self.packed is None:
            return torch.addmm(C, X, self.W)
        return torch.ops.mkldnn._linear_pointwise.binary(X, C, self.packed, None, "add")

    def mm(self, X: Tensor, bias: Tensor | None = None) -> Tensor:
        """X @ W (+ bias, a vector added to every row), in a new tensor."""
        if self.packed is None:
            return X @ self.W if bias is None else torch.addmm(bias, X, self.W)
        return torch.ops.mkldnn._linear_pointwise(X, self.packed, bias, "none", [], "")
