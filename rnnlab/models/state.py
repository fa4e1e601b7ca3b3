"""A recurrent stack's state, in nn's format: a tensor (L * D, batch, num_hiddens), or a
tuple of them for a cell with more than one (LSTM's (H, C)). One place for what every
model does with it: begin from zeros, apply a function to each tensor, detach."""

import torch
from torch import Tensor, nn

State = Tensor | tuple[Tensor, ...]


def begin_state(recurrent: nn.Module, batch_size: int, device=None) -> State:
    """The all-zeros state a stack begins from (what it uses when given None)."""
    num_directions = 2 if recurrent.bidirectional else 1
    shape = (recurrent.num_layers * num_directions, batch_size, recurrent.hidden_size)
    zeros = tuple(torch.zeros(shape, device=device) for _ in range(recurrent.num_state_tensors))
    return zeros if len(zeros) > 1 else zeros[0]


def map_state(fn, state: State) -> State:
    """Apply `fn` to the state tensor, or to each of an LSTM's (H, C)."""
    return tuple(fn(s) for s in state) if isinstance(state, tuple) else fn(state)


def detach_state(state: State | None) -> State | None:
    """Cut the graph at a batch boundary: the values carry over, the gradients do not."""
    return None if state is None else map_state(torch.Tensor.detach, state)
