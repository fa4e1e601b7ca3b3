"""The scratch layers' `mask` (padding changes nothing) and `recurrent_dropout` (Keras'
dropout of the recurrent state: off in eval mode, one mask per sequence in training)."""

import pytest
import torch
from helpers.scratch import PAIRS
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab.models.recurrent import recurrent_stack

INPUT_SIZE, NUM_HIDDENS = 4, 6
LENGTHS = [7, 3, 5, 1]
CASES = [(cell, bidirectional) for cell in PAIRS for bidirectional in (False, True)]


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def padded_batch(generator):
    """Right-padded inputs (7, 4, INPUT_SIZE) whose padding is random junk, and the mask."""
    X = torch.randn(
        max(LENGTHS), len(LENGTHS), INPUT_SIZE, generator=generator, dtype=torch.float64
    )
    mask = torch.arange(max(LENGTHS)).unsqueeze(1) < torch.tensor(LENGTHS)
    return X, mask


@pytest.mark.parametrize(("cell", "bidirectional"), CASES)
def test_padding_changes_nothing(cell, bidirectional):
    """Each sequence of a padded batch gets the outputs and final state it gets alone."""
    _, scratch_class = PAIRS[cell]
    torch.manual_seed(0)
    layer = scratch_class(INPUT_SIZE, NUM_HIDDENS, 2, bidirectional).double()
    X, mask = padded_batch(torch.Generator().manual_seed(1))
    outputs, state = layer(X, mask=mask)
    for b, length in enumerate(LENGTHS):
        alone_outputs, alone_state = layer(X[:length, b : b + 1])
        torch.testing.assert_close(outputs[:length, b : b + 1], alone_outputs)
        assert not outputs[length:, b].any()  # zeros at padded steps, as pad_packed_sequence
        for s, s_alone in zip(as_tuple(state), as_tuple(alone_state), strict=True):
            torch.testing.assert_close(s[:, b : b + 1], s_alone)


@pytest.mark.parametrize(("cell", "bidirectional"), CASES)
def test_mask_matches_packed_sequences(cell, bidirectional):
    """With nn's weights, the mask computes what nn computes on packed sequences."""
    nn_class, scratch_class = PAIRS[cell]
    torch.manual_seed(0)
    reference = nn_class(INPUT_SIZE, NUM_HIDDENS, 2, bidirectional=bidirectional).double()
    layer = scratch_class(INPUT_SIZE, NUM_HIDDENS, 2, bidirectional).double()
    layer.copy_weights_from(reference)
    X, mask = padded_batch(torch.Generator().manual_seed(2))
    packed = pack_padded_sequence(X, torch.tensor(LENGTHS), enforce_sorted=False)
    expected_packed, expected_state = reference(packed)
    expected, _ = pad_packed_sequence(expected_packed, total_length=X.shape[0])
    outputs, state = layer(X, mask=mask)
    torch.testing.assert_close(outputs, expected)
    for s, s_expected in zip(as_tuple(state), as_tuple(expected_state), strict=True):
        torch.testing.assert_close(s, s_expected)


def test_mask_shape_is_checked():
    layer = PAIRS["gru"][1](INPUT_SIZE, NUM_HIDDENS)
    with pytest.raises(ValueError, match="mask"):
        layer(torch.zeros(5, 2, INPUT_SIZE), mask=torch.ones(5, 3, dtype=torch.bool))


@pytest.mark.parametrize("cell", PAIRS)
def test_recurrent_dropout_is_off_in_eval_mode(cell):
    _, scratch_class = PAIRS[cell]
    torch.manual_seed(0)
    plain = scratch_class(INPUT_SIZE, NUM_HIDDENS, 2, True)
    dropped = scratch_class(INPUT_SIZE, NUM_HIDDENS, 2, True, recurrent_dropout=0.5)
    dropped.load_state_dict(plain.state_dict())
    X = torch.randn(6, 3, INPUT_SIZE)
    dropped.eval()
    torch.testing.assert_close(dropped(X)[0], plain(X)[0], rtol=0, atol=0)
    dropped.train()
    assert not torch.allclose(dropped(X)[0], plain(X)[0])


@pytest.mark.parametrize("cell", PAIRS)
def test_recurrent_dropout_uses_one_mask_per_sequence(cell):
    """H enters the recurrence only through H @ W_h, so a hidden unit dropped for a whole
    sequence leaves its row of W_h without gradient; a mask drawn per step would drop a
    unit at all 40 steps with probability 0.5 ** 40, leaving no zero row."""
    _, scratch_class = PAIRS[cell]
    torch.manual_seed(0)
    num_hiddens = 16
    layer = scratch_class(INPUT_SIZE, num_hiddens, recurrent_dropout=0.5).train()
    outputs, _ = layer(torch.randn(40, 1, INPUT_SIZE))  # one sequence
    outputs.sum().backward()
    zero_rows = (layer.weights[0].W_h.grad == 0).all(dim=1)
    assert 0 < zero_rows.sum() < num_hiddens
    # Sequences of a batch draw their own masks: identical inputs, different outputs.
    same = torch.randn(40, 1, INPUT_SIZE).expand(40, 8, INPUT_SIZE)
    outputs, _ = layer(same)
    assert len({tuple(o.tolist()) for o in outputs[-1].detach()}) == 8


def test_recurrent_dropout_needs_a_scratch_cell():
    """(The config check, `model.recurrent_dropout=0.2 needs a scratch cell`: test_validation.)"""
    with pytest.raises(ValueError, match="cannot drop out its recurrent state"):
        recurrent_stack("lstm", "nn", 4, 8, recurrent_dropout=0.2)
    layer = recurrent_stack("lstm", "scratch", 4, 8, recurrent_dropout=0.2)
    assert layer.recurrent_dropout == 0.2
    assert isinstance(recurrent_stack("lstm", "nn", 4, 8), nn.LSTM)
