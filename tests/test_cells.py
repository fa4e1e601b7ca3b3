"""The cell registry: every cell module is found, and what it declares (state tensors, nn
module) is what both implementations of the cell do."""

import pytest
import torch

from rnnlab.models.cells import CELLS
from rnnlab.models.recurrent import recurrent_stack
from rnnlab.models.state import begin_state


def test_the_registry_finds_every_cell_module():
    assert list(CELLS) == ["gru", "lstm", "mingru", "minlstm", "rnn"]
    assert all(CELLS[name].name == name for name in CELLS)


@pytest.mark.parametrize("impl", ["nn", "scratch"])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_declared_state_is_the_state_either_implementation_returns(cell, impl):
    if impl == "nn" and CELLS[cell].nn_module is None:
        pytest.skip(f"{cell} has no PyTorch module")
    stack = recurrent_stack(cell, impl, 3, 4, num_layers=2, bidirectional=True)
    _, state = stack(torch.randn(5, 2, 3))
    tensors = state if isinstance(state, tuple) else (state,)
    assert len(tensors) == CELLS[cell].num_state_tensors
    zeros = begin_state(stack, batch_size=2)
    zeros = zeros if isinstance(zeros, tuple) else (zeros,)
    assert [z.shape for z in zeros] == [t.shape for t in tensors]
    assert all(not z.any() for z in zeros)
    if impl == "nn":
        assert isinstance(stack, CELLS[cell].nn_module)
