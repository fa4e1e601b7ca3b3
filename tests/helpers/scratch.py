"""The scratch layers beside PyTorch's modules: pairs holding the same float64 weights, and
a forward-and-backward run that gives every output and state element its own gradient."""

import torch
from torch import nn

from rnnlab.models.cells.gru import ScratchGRU
from rnnlab.models.cells.lstm import ScratchLSTM
from rnnlab.models.cells.rnn import ScratchRNN

PAIRS = {"rnn": (nn.RNN, ScratchRNN), "lstm": (nn.LSTM, ScratchLSTM), "gru": (nn.GRU, ScratchGRU)}
NUM_STEPS, BATCH, INPUT_SIZE, NUM_HIDDENS = 5, 3, 4, 6
ATOL = 1e-10


def build_pair(cell, num_layers, bidirectional, dropout=0.0, bptt="fused"):
    """An nn module and a scratch layer holding the same float64 weights."""
    nn_class, scratch_class = PAIRS[cell]
    reference = nn_class(
        INPUT_SIZE, NUM_HIDDENS, num_layers, dropout=dropout, bidirectional=bidirectional
    ).double()
    scratch = scratch_class(
        INPUT_SIZE, NUM_HIDDENS, num_layers, bidirectional, dropout, bptt
    ).double()
    scratch.copy_weights_from(reference)
    return reference, scratch


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def random_state(cell, num_layers, num_directions, generator):
    shape = (num_layers * num_directions, BATCH, NUM_HIDDENS)
    tensors = [
        torch.randn(shape, dtype=torch.float64, generator=generator)
        for _ in range(2 if cell == "lstm" else 1)
    ]
    return tuple(tensors) if cell == "lstm" else tensors[0]


def run(module, X, state, probes):
    """Forward, then backprop the fixed random linear function sum(probe * result) of
    outputs and final state, so every output and state element gets its own gradient."""
    X = X.clone().requires_grad_()
    if state is not None:  # each module gets its own leaf copies, to compare their grads
        state = tuple(s.clone().requires_grad_() for s in as_tuple(state))
        state = state if len(state) > 1 else state[0]
    outputs, final_state = module(X, state)
    results = (outputs, *as_tuple(final_state))
    sum((probe * result).sum() for probe, result in zip(probes, results, strict=True)).backward()
    state_grads = () if state is None else tuple(s.grad for s in as_tuple(state))
    return results, X.grad, state_grads
