"""The recurrent product through oneDNN's packed weight (rnnlab/models/step_matmul.py).

The float64 tests elsewhere (gradcheck, equality with nn) run the addmm fallback, since
oneDNN has no float64; here the packed path itself is checked in float32, at sizes large
enough to take it: the products, and whole fused layers against nn's modules.
"""

import pytest
import torch
from torch import nn

from rnnlab.models import step_matmul
from rnnlab.models.scratch import (
    NN_NAMES,
    ScratchGRU,
    ScratchLSTM,
    ScratchRNN,
    nn_parameter_name,
)
from rnnlab.models.step_matmul import MIN_PACKED_NUMEL, MIN_PACKED_STEPS, StepWeight

needs_onednn = pytest.mark.skipif(not step_matmul.ONEDNN_LINEAR,
                                  reason="this PyTorch build has no oneDNN linear")
BATCH = 4
# Hidden sizes whose recurrent weight (n × gates·n) is just large enough to be packed.
PACKED_HIDDENS = {"rnn": 512, "lstm": 256, "gru": 296}
PAIRS = {"rnn": (nn.RNN, ScratchRNN), "lstm": (nn.LSTM, ScratchLSTM), "gru": (nn.GRU, ScratchGRU)}


def test_packs_only_float32_cpu_weights_used_for_enough_steps():
    big = torch.randn(256, 1024)
    assert big.numel() >= MIN_PACKED_NUMEL
    assert (StepWeight(big, BATCH, MIN_PACKED_STEPS).packed is None) == (
        not step_matmul.ONEDNN_LINEAR)
    assert StepWeight(big, BATCH, MIN_PACKED_STEPS - 1).packed is None
    assert StepWeight(big.double(), BATCH, MIN_PACKED_STEPS).packed is None
    assert StepWeight(torch.randn(16, 64), BATCH, MIN_PACKED_STEPS).packed is None


@needs_onednn
@pytest.mark.parametrize("transposed", [False, True], ids=["W", "W.T"])
def test_packed_products_equal_addmm(transposed):
    generator = torch.Generator().manual_seed(0)
    W = torch.randn(1024, 256, generator=generator) / 16
    W = W.T if transposed else W.T.contiguous()  # the backward packs a transposed view
    weight = StepWeight(W, BATCH, MIN_PACKED_STEPS)
    assert weight.packed is not None
    X = torch.randn(BATCH, W.shape[0], generator=generator)
    C = torch.randn(BATCH, W.shape[1], generator=generator)
    b = torch.randn(W.shape[1], generator=generator)
    torch.testing.assert_close(weight.addmm(C, X), torch.addmm(C, X, W))
    torch.testing.assert_close(weight.mm(X), X @ W)
    torch.testing.assert_close(weight.mm(X, b), X @ W + b)


@needs_onednn
@pytest.mark.parametrize("cell", PAIRS)
def test_fused_layer_with_packed_weights_equals_nn(cell):
    """float32 outputs, states and gradients of a fused scratch layer at a packed size
    agree with nn's module (which runs its own oneDNN kernel) to float32 rounding."""
    torch.manual_seed(0)
    nn_class, scratch_class = PAIRS[cell]
    n, input_size, num_steps = PACKED_HIDDENS[cell], 8, MIN_PACKED_STEPS + 2
    reference = nn_class(input_size, n)
    scratch = scratch_class(input_size, n)
    scratch.copy_weights_from(reference)
    assert scratch.weights_of(0, 0).W_h.numel() >= MIN_PACKED_NUMEL
    X = torch.randn(num_steps, BATCH, input_size)
    results = []
    for module in (reference, scratch):
        inputs = X.clone().requires_grad_()
        outputs, state = module(inputs)
        states = state if isinstance(state, tuple) else (state,)
        (outputs.sin().sum() + sum(s.cos().sum() for s in states)).backward()
        results.append((outputs, *states, inputs.grad))
    for expected, actual in zip(*results, strict=True):
        torch.testing.assert_close(actual, expected, atol=2e-5, rtol=1e-4)
    weights = scratch.weights_of(0, 0)
    for which in NN_NAMES:
        want = getattr(reference, nn_parameter_name(0, 0, which)).grad
        got = getattr(weights, which).grad
        torch.testing.assert_close(got, want.T if got.dim() == 2 else want,
                                   atol=1e-4, rtol=1e-4, msg=which)
