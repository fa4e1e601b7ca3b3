"""PyTorch's fused recurrent modules (`model.impl=nn`), as the cell registry names them,
made safe under CPU autocast."""

import functools

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from rnnlab.models.cells import CELLS
from rnnlab.models.state import begin_state


class CastsForAutocast:
    """Mixed into nn.RNN / nn.LSTM / nn.GRU: under CPU autocast, give the module its input
    and state already in the autocast dtype. Why: nn.LSTM's CPU kernel (oneDNN) casts its
    weights but not the state, and refuses the mixed dtypes ("could not create a primitive
    descriptor"); on CUDA autocast handles it itself. Weights and state_dict are nn's."""

    num_state_tensors: int  # as the cell's

    def forward(self, input, hx=None):
        if input.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            dtype = torch.get_autocast_dtype("cpu")
            if hx is None:
                batch = (input.batch_sizes[0] if isinstance(input, PackedSequence)
                         else input.shape[0 if self.batch_first else 1])
                hx = begin_state(self, int(batch), input.device)
            hx = tuple(h.to(dtype) for h in hx) if isinstance(hx, tuple) else hx.to(dtype)
            input = input.to(dtype)
        return super().forward(input, hx)


@functools.cache
def nn_class(cell: str) -> type[nn.RNNBase]:
    """The cell's nn module class (nn.LSTM for "lstm"), with `CastsForAutocast` mixed in."""
    scratch = CELLS[cell]
    return type(scratch.nn_module.__name__, (CastsForAutocast, scratch.nn_module),
                {"num_state_tensors": scratch.num_state_tensors, "__module__": __name__})


def nn_recurrent(cell: str, input_size: int, num_hiddens: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0) -> nn.RNNBase:
    """PyTorch's module for `cell`: its fused kernels (oneDNN on CPU, cuDNN on GPU)."""
    # nn.RNN warns when dropout is set on a single layer; it has no effect there anyway.
    dropout = dropout if num_layers > 1 else 0.0
    return nn_class(cell)(input_size, num_hiddens, num_layers, dropout=dropout,
                          bidirectional=bidirectional)
