"""The scratch layers compute exactly what nn.RNN / nn.LSTM / nn.GRU compute.

Each case copies an nn module's weights into the scratch layer, runs both on one input
in float64, and compares outputs, final states, every parameter gradient and the input
gradient. Agreement to float64 precision on all of them leaves no room for a wrong
gate order, a missing bias, a misplaced reset gate or a direction not flipped back.
"""

import itertools

import pytest
import torch
from helpers.scratch import (
    ATOL,
    BATCH,
    INPUT_SIZE,
    NUM_HIDDENS,
    NUM_STEPS,
    PAIRS,
    build_pair,
    random_state,
    run,
)
from torch import nn

from rnnlab.models.cells.gru import ScratchGRU
from rnnlab.models.cells.lstm import ScratchLSTM
from rnnlab.models.cells.rnn import ScratchRNN
from rnnlab.models.scratch import NN_NAMES, nn_parameter_name


@pytest.mark.parametrize("bptt", ["fused", "autograd"])
@pytest.mark.parametrize("initial_state", ["zeros", "random"])
@pytest.mark.parametrize(
    "cell, num_layers, bidirectional",
    list(itertools.product(PAIRS, [1, 2], [False, True])),
)
def test_equals_nn_forward_and_backward(cell, num_layers, bidirectional, initial_state, bptt):
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    reference, scratch = build_pair(cell, num_layers, bidirectional, bptt=bptt)
    num_directions = 2 if bidirectional else 1
    X = torch.randn(NUM_STEPS, BATCH, INPUT_SIZE, dtype=torch.float64, generator=generator)
    state = (
        None
        if initial_state == "zeros"
        else random_state(cell, num_layers, num_directions, generator)
    )
    state_shape = (num_layers * num_directions, BATCH, NUM_HIDDENS)
    result_shapes = [(NUM_STEPS, BATCH, num_directions * NUM_HIDDENS)]
    result_shapes += [state_shape] * (2 if cell == "lstm" else 1)
    probes = [torch.randn(s, dtype=torch.float64, generator=generator) for s in result_shapes]

    expected, expected_X_grad, expected_state_grads = run(reference, X, state, probes)
    actual, actual_X_grad, actual_state_grads = run(scratch, X, state, probes)

    for want, got in zip(expected, actual, strict=True):
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, atol=ATOL, rtol=0)
    torch.testing.assert_close(actual_X_grad, expected_X_grad, atol=ATOL, rtol=0)
    for want, got in zip(expected_state_grads, actual_state_grads, strict=True):
        torch.testing.assert_close(got, want, atol=ATOL, rtol=0)
    for layer, direction in itertools.product(range(num_layers), range(num_directions)):
        weights = scratch.weights_of(layer, direction)
        for which in NN_NAMES:
            want = getattr(reference, nn_parameter_name(layer, direction, which)).grad
            got = getattr(weights, which).grad
            torch.testing.assert_close(
                got,
                want.T if got.dim() == 2 else want,
                atol=ATOL,
                rtol=0,
                msg=f"{which} l{layer} d{direction}",
            )


@pytest.mark.parametrize("cell", PAIRS)
def test_shapes_and_attributes_match_nn(cell):
    reference, scratch = build_pair(cell, num_layers=2, bidirectional=True)
    for name in ["input_size", "hidden_size", "num_layers", "bidirectional"]:
        assert getattr(scratch, name) == getattr(reference, name)
    assert scratch.num_hiddens == NUM_HIDDENS and scratch.num_directions == 2
    # Same number of trainable numbers: the layouts correspond one to one.
    assert sum(p.numel() for p in scratch.parameters()) == sum(
        p.numel() for p in reference.parameters()
    )


@pytest.mark.parametrize("cell", PAIRS)
def test_dropout_is_off_in_eval_and_on_in_training(cell):
    torch.manual_seed(0)
    reference, scratch = build_pair(cell, num_layers=2, bidirectional=True, dropout=0.5)
    X = torch.randn(NUM_STEPS, BATCH, INPUT_SIZE, dtype=torch.float64)
    reference.eval()
    scratch.eval()
    with torch.no_grad():
        torch.testing.assert_close(scratch(X)[0], reference(X)[0], atol=ATOL, rtol=0)
        scratch.train()
        torch.manual_seed(1)
        first = scratch(X)[0]
        torch.manual_seed(2)
        assert not torch.allclose(first, scratch(X)[0])  # masks differ: dropout is live


def test_single_layer_ignores_dropout_like_nn():
    torch.manual_seed(0)
    reference, scratch = build_pair("lstm", num_layers=1, bidirectional=False)
    scratch.dropout = 0.9  # nothing follows the last layer, so nothing is dropped
    X = torch.randn(NUM_STEPS, BATCH, INPUT_SIZE, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(scratch(X)[0], reference(X)[0], atol=ATOL, rtol=0)


@pytest.mark.parametrize(
    "scratch, module",
    [
        (ScratchLSTM(4, 6), nn.GRU(4, 6)),  # wrong cell kind
        (ScratchRNN(4, 6), nn.RNN(4, 6, nonlinearity="relu")),  # we only do tanh
        (ScratchGRU(4, 6), nn.GRU(5, 6)),  # input_size
        (ScratchGRU(4, 6), nn.GRU(4, 7)),  # hidden size
        (ScratchLSTM(4, 6, num_layers=2), nn.LSTM(4, 6)),
        (ScratchLSTM(4, 6), nn.LSTM(4, 6, bidirectional=True)),
        (ScratchLSTM(4, 6), nn.LSTM(4, 6, bias=False)),
        (ScratchLSTM(4, 6), nn.LSTM(4, 6, proj_size=3)),
        (ScratchRNN(4, 6), nn.Linear(4, 6)),  # not recurrent at all
    ],
)
def test_copy_weights_from_mismatch_raises(scratch, module):
    with pytest.raises(ValueError):
        scratch.copy_weights_from(module)


def test_bad_inputs_raise_value_error():
    with pytest.raises(ValueError, match="num_hiddens"):
        ScratchGRU(4, 0)
    with pytest.raises(ValueError, match="dropout"):
        ScratchGRU(4, 6, dropout=1.5)
    lstm = ScratchLSTM(4, 6)
    with pytest.raises(ValueError, match="num_steps"):
        lstm(torch.randn(5, 3, 7))
    with pytest.raises(ValueError, match="2 tensor"):
        lstm(torch.randn(5, 3, 4), torch.zeros(1, 3, 6))
    with pytest.raises(ValueError, match="state tensors must be"):
        lstm(torch.randn(5, 3, 4), (torch.zeros(1, 2, 6), torch.zeros(1, 2, 6)))


def test_nn_parameter_name():
    assert nn_parameter_name(0, 0, "W_x") == "weight_ih_l0"
    assert nn_parameter_name(1, 1, "b_h") == "bias_hh_l1_reverse"


def test_d2l_initialisation_of_a_scratch_language_model():
    """model.init=d2l: d2l's get_params, N(0, 0.01) weights and zero biases, for scratch
    cells and the output layer; an nn stack keeps PyTorch's (as d2l.RNNModel does)."""
    from omegaconf import OmegaConf

    from rnnlab.config.run_config import compose_config
    from rnnlab.errors import RnnlabError
    from rnnlab.models.lm import LMModelConfig, build_lm

    def lm(model, init):
        cell, _, impl = model.partition("_")
        cfg = OmegaConf.structured(
            LMModelConfig(
                cell=cell, impl=impl or "nn", num_hiddens=512, num_layers=1, dropout=0.0, init=init
            )
        )
        torch.manual_seed(0)
        return build_lm(28, cfg)

    scratch = dict(lm("rnn_scratch", "d2l").named_parameters())
    for name, parameter in scratch.items():
        if name.split(".")[-1].startswith("b"):
            assert torch.count_nonzero(parameter) == 0, name
        else:
            assert abs(parameter.std().item() - 0.01) < 0.001, name
            assert abs(parameter.mean().item()) < 0.002, name
    nn_default, nn_d2l = lm("rnn", "default"), lm("rnn", "d2l")
    for (name, a), (_, b) in zip(
        nn_default.named_parameters(), nn_d2l.named_parameters(), strict=True
    ):
        assert torch.equal(a, b), name
    assert lm("rnn_scratch", "default").recurrent.weights[0].b_x.abs().sum() > 0
    with pytest.raises(RnnlabError, match="model.init='xavier' is not one of: default, d2l"):
        compose_config(["model=rnn_scratch", "model.init=xavier"])
