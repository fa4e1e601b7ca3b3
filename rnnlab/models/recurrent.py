"""One place that turns a `model` config into a recurrent stack, scratch or PyTorch's.

Both kinds share one interface (time-major input `(num_steps, batch, features)`, state
shaped `(num_layers * num_directions, batch, num_hiddens)`, a `(H, C)` pair for LSTM), so
the task models above never ask which kind they hold.
"""

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from rnnlab.errors import RnnlabError
from rnnlab.models.scratch import ScratchGRU, ScratchLSTM, ScratchRNN


class CastsForAutocast:
    """Mixed into nn.RNN / nn.LSTM / nn.GRU: under CPU autocast, give the module its input
    and state already in the autocast dtype. Why: nn.LSTM's CPU kernel (oneDNN) casts its
    weights but not the state, and refuses the mixed dtypes ("could not create a primitive
    descriptor"); on CUDA autocast handles it itself. Weights and state_dict are nn's."""

    def forward(self, input, hx=None):
        if input.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            dtype = torch.get_autocast_dtype("cpu")
            if hx is None:
                batch = (input.batch_sizes[0] if isinstance(input, PackedSequence)
                         else input.shape[0 if self.batch_first else 1])
                hx = zero_state(self, int(batch), input.device)
            hx = tuple(h.to(dtype) for h in hx) if isinstance(hx, tuple) else hx.to(dtype)
            input = input.to(dtype)
        return super().forward(input, hx)


class RNN(CastsForAutocast, nn.RNN):
    pass


class LSTM(CastsForAutocast, nn.LSTM):
    pass


class GRU(CastsForAutocast, nn.GRU):
    pass


NN_CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
SCRATCH_CELLS = {"rnn": ScratchRNN, "lstm": ScratchLSTM, "gru": ScratchGRU}
IMPLEMENTATIONS = {"nn": NN_CELLS, "scratch": SCRATCH_CELLS}


def build_recurrent(
    cell: str,
    impl: str,
    input_size: int,
    num_hiddens: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    bptt: str = "fused",
) -> nn.Module:
    """A stack of `num_layers` recurrent layers of kind `cell` ("rnn", "lstm", "gru").
    `bptt` ("fused" or "autograd") picks the scratch cells' backward; nn cells ignore it."""
    if impl not in IMPLEMENTATIONS:
        raise RnnlabError(f"model.impl={impl!r} is not one of: {', '.join(IMPLEMENTATIONS)}")
    cells = IMPLEMENTATIONS[impl]
    if cell not in cells:
        raise RnnlabError(f"model.cell={cell!r} is not one of: {', '.join(cells)}")
    if impl == "scratch":
        if bptt not in ("fused", "autograd"):
            raise RnnlabError(f"model.bptt={bptt!r} is not one of: fused, autograd")
        return cells[cell](input_size, num_hiddens, num_layers, bidirectional, dropout, bptt)
    # nn.RNN warns when dropout is set on a single layer; it has no effect there anyway.
    dropout = dropout if num_layers > 1 else 0.0
    return cells[cell](input_size, num_hiddens, num_layers, dropout=dropout,
                       bidirectional=bidirectional)


def zero_state(recurrent: nn.Module, batch_size: int, device=None):
    """The all-zeros initial state for `recurrent`: a tensor, or an `(H, C)` pair for LSTMs."""
    num_directions = 2 if recurrent.bidirectional else 1
    shape = (recurrent.num_layers * num_directions, batch_size, recurrent.hidden_size)
    H = torch.zeros(shape, device=device)
    if isinstance(recurrent, nn.LSTM | ScratchLSTM):
        return H, torch.zeros(shape, device=device)
    return H


def detach_state(state):
    """Cut the graph at a batch boundary: the values carry over, the gradients do not."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return None if state is None else state.detach()
