"""The hand-written backward through time (each cell's layer in rnnlab/models/cells/).

test_scratch.py shows the fused layers equal nn's modules; here `gradcheck` checks each
backward against finite differences in float64, including when only some outputs reach
the loss (autograd then hands the backward None for the others).
"""

import pytest
import torch

from rnnlab.models.cells.gru import GRULayer
from rnnlab.models.cells.lstm import LSTMLayer, ScratchLSTM
from rnnlab.models.cells.rnn import RNNLayer

NUM_STEPS, BATCH, NUM_HIDDENS = 4, 3, 5
LAYERS = {  # function, gates, number of state tensors, takes b_h
    "rnn": (RNNLayer, 1, 1, False),
    "lstm": (LSTMLayer, 4, 2, False),
    "gru": (GRULayer, 3, 1, True),
}


def inputs(cell):
    function, gates, num_states, takes_bias = LAYERS[cell]
    generator = torch.Generator().manual_seed(0)

    def leaf(*shape, scale=1.0):
        return (
            scale * torch.randn(*shape, dtype=torch.float64, generator=generator)
        ).requires_grad_()

    args = [leaf(NUM_STEPS, BATCH, gates * NUM_HIDDENS)]
    args += [leaf(BATCH, NUM_HIDDENS) for _ in range(num_states)]
    args.append(leaf(NUM_HIDDENS, gates * NUM_HIDDENS, scale=0.5))
    if takes_bias:
        args.append(leaf(gates * NUM_HIDDENS))
    return function, args


@pytest.mark.parametrize("cell", LAYERS)
def test_backward_passes_gradcheck(cell):
    function, args = inputs(cell)
    assert torch.autograd.gradcheck(function.apply, args)


@pytest.mark.parametrize("cell", LAYERS)
@pytest.mark.parametrize("used", ["outputs", "final_state"])
def test_backward_with_unused_outputs(cell, used):
    function, args = inputs(cell)

    def only(*args):
        results = function.apply(*args)
        return results[0] if used == "outputs" else results[1]

    assert torch.autograd.gradcheck(only, args)


def test_autocast_falls_back_to_the_autograd_path(monkeypatch):
    """Under bf16 autocast the fused loop (written for one dtype) is skipped; the
    step-by-step path runs and still gives gradients."""
    layer = ScratchLSTM(3, 4)
    X = torch.randn(5, 2, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        monkeypatch.setattr(LSTMLayer, "apply", None)  # calling it would raise
        outputs, _ = layer(X)
    outputs.float().sum().backward()
    assert layer.weights_of(0, 0).W_h.grad is not None
