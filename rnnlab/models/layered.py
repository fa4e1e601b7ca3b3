"""A recurrent stack run one layer at a time, for what a fused multi-layer module cannot do
between its layers: dropout on the stack's input and output and locked (variational)
dropout between layers (AWD's dropouti, dropouth, dropout), and residual connections.

Each layer is a one-layer stack of any kind (scratch, nn, or nn on padded batches), so
this works alike for every cell and implementation. Shapes and state are a stack's
(`rnnlab.models.recurrent`): X (num_steps, batch, input_size) → outputs (num_steps,
batch, D * num_hiddens), state (num_layers * D, batch, num_hiddens) or LSTM's (H, C).
"""

import torch
from torch import Tensor, nn

from rnnlab.models.dropout import sequence_dropout
from rnnlab.models.state import State


class LayeredRecurrent(nn.Module):
    """`layers`: one-layer stacks, the first reading the input, the others D * num_hiddens
    wide. `locked`: every dropout here draws one mask per sequence. `residual`: layers
    after the first add their input to their output (their sizes always match)."""

    def __init__(
        self,
        layers: list[nn.Module],
        input_dropout: float = 0.0,
        layer_dropout: float = 0.0,
        output_dropout: float = 0.0,
        locked: bool = False,
        residual: bool = False,
    ):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        first = layers[0]
        self.bidirectional = first.bidirectional
        self.num_directions = 2 if first.bidirectional else 1
        self.hidden_size = first.hidden_size
        self.num_layers = len(layers)
        self.num_state_tensors = getattr(first, "num_state_tensors", 1)
        self.input_dropout = sequence_dropout(input_dropout, locked)
        self.layer_dropout = sequence_dropout(layer_dropout, locked)
        self.output_dropout = sequence_dropout(output_dropout, locked)
        self.residual = residual

    def forward(
        self, X: Tensor, state: State | None = None, mask: Tensor | None = None
    ) -> tuple[Tensor, State]:
        outputs, state, _ = self.forward_with_raw(X, state, mask)
        return outputs, state

    def forward_with_raw(
        self, X: Tensor, state: State | None = None, mask: Tensor | None = None
    ) -> tuple[Tensor, State, Tensor]:
        """As `forward`, plus the last layer's outputs before the output dropout (what
        AWD's temporal activation regularisation reads)."""
        states = self._split_state(state)
        X = self.input_dropout(X)
        finals = []
        for index, layer in enumerate(self.layers):
            inputs = X if index == 0 else self.layer_dropout(X)
            Y, final = layer(inputs, states[index], **({} if mask is None else {"mask": mask}))
            X = Y + X if self.residual and index > 0 else Y
            finals.append(final)
        return self.output_dropout(X), self._join_states(finals), X

    def _split_state(self, state: State | None) -> list:
        """nn's packed state → one (D, batch, num_hiddens) slice (or (H, C) pair) per layer."""
        if state is None:
            return [None] * self.num_layers
        D = self.num_directions
        if isinstance(state, tuple):
            return [tuple(s[i * D : (i + 1) * D] for s in state) for i in range(self.num_layers)]
        return [state[i * D : (i + 1) * D] for i in range(self.num_layers)]

    @staticmethod
    def _join_states(finals: list) -> State:
        if isinstance(finals[0], tuple):
            return tuple(torch.cat(parts) for parts in zip(*finals, strict=True))
        return torch.cat(finals)
