"""PyTorch's fused recurrent layers on right-padded batches, without packed sequences.

Why not `pack_padded_sequence`: on CPU, PyTorch runs packed batches through its generic
per-step kernel, which measured about 100x slower (forward + backward) than the oneDNN
LSTM kernel that plain padded tensors get. Padding at the END of a sequence cannot
change the forward direction's outputs at real steps, so the forward direction reads the
padded batch as it is; the reverse direction reads each sequence reversed within its own
length (padding stays at the end) and its outputs are put back in place. So each
(layer, direction) is its own one-layer unidirectional nn module, and padding never
reaches a real step's output or the final states.

Shapes: X (num_steps, batch, input_size), mask (num_steps, batch) True at real steps
(right padding; every sequence at least one step long) →
outputs (num_steps, batch, D * num_hiddens), zeros at padded steps (as pad_packed_sequence),
and the final H (num_layers * D, batch, num_hiddens), rows as nn's (layer * D + direction).
"""

import torch
from torch import Tensor, nn

from rnnlab.models.nn_cells import nn_recurrent


def reverse_padded(X: Tensor, lengths: Tensor) -> Tensor:
    """Each sequence reversed within its length; padded steps stay where they are.
    X: (num_steps, batch, ...), lengths: (batch,) on X's device."""
    steps = torch.arange(X.shape[0], device=X.device).unsqueeze(1)  # (num_steps, 1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)  # (num_steps, batch)
    return X.gather(0, index.view(*index.shape, *[1] * (X.dim() - 2)).expand_as(X))


class PaddedRecurrent(nn.Module):
    """A stack of nn.RNN / nn.LSTM / nn.GRU layers that ignores right padding exactly."""

    def __init__(
        self,
        cell: str,
        input_size: int,
        num_hiddens: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        weight_drop: float = 0.0,
    ):
        super().__init__()
        self.cell = cell
        self.hidden_size = num_hiddens
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1
        self.dropout = nn.Dropout(dropout)  # between layers, as nn's `dropout`
        self.layers = nn.ModuleList(
            nn_recurrent(
                cell,
                input_size if layer == 0 else self.num_directions * num_hiddens,
                num_hiddens,
                weight_drop=weight_drop,
            )
            for layer in range(num_layers)
            for _ in range(self.num_directions)
        )

    def forward(
        self, X: Tensor, state: None = None, mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """As a scratch stack's `forward` with a mask; every sequence starts from zeros."""
        if state is not None:
            raise ValueError("PaddedRecurrent starts every sequence from zeros: state must be None")
        if mask is None:
            mask = torch.ones(X.shape[:2], dtype=torch.bool, device=X.device)
        lengths = mask.sum(dim=0)
        mask = mask.unsqueeze(-1)
        last = (lengths - 1).view(1, -1, 1)  # the final real step of each sequence
        finals = []
        for layer in range(self.num_layers):
            if layer > 0:
                X = self.dropout(X)
            outputs = []
            for direction in range(self.num_directions):
                module = self.layers[layer * self.num_directions + direction]
                if direction:
                    Y = reverse_padded(module(reverse_padded(X, lengths))[0], lengths)
                    finals.append(Y[0])  # the reverse pass ends at the first token
                else:
                    Y = module(X)[0]
                    finals.append(Y.gather(0, last.expand(1, *Y.shape[1:]))[0])
                outputs.append(Y)
            X = torch.cat(outputs, dim=-1) * mask
        return X, torch.stack(finals)
