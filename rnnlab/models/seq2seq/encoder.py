"""The encoder of the d2l book's encoder-decoder (section 10.7): it reads the source into
its final state, which initialises the decoder's state.

The encoder reads the source as it is given. The task gives it batches of sources of one
length, cut after their `<eos>` (`rnnlab.data.bucketing.same_length_batches`), so it never
reads padding and a sentence's encoding does not depend on what it is batched with (the
book pads every source to num_steps and reads the padding; that cost half the training
time for nothing, see issue #17).

A bidirectional encoder's final state has a row per (layer, direction). `bridge` sums the
two directions of each layer into one row, so the decoder keeps the encoder's width h and
its layer count: its cost and size do not change with `model.bidirectional` (concatenating
would double the decoder's width, and so confound the ablation), while both directions'
summaries still reach it, the backward one ending at the *first* source word.

Shapes (B = batch, S = source length, L = num_layers, h = num_hiddens):
    src:      (B, S) token ids
    state:    (L, B, h), or an (H, C) pair of them for LSTMs (the decoder's layout)
    outputs:  (S, B, h), time-major
"""

import torch
from torch import nn

from rnnlab.models.dropout import TokenDropoutEmbedding
from rnnlab.models.state import State, map_state


def bridge(state: State, num_layers: int, bidirectional: bool) -> State:
    """An encoder's final state in the decoder's layout (L, B, h): a bidirectional
    encoder's rows (layer * 2 + direction) are summed over the direction."""
    if not bidirectional:
        return state
    return map_state(lambda s: s.view(num_layers, 2, *s.shape[1:]).sum(dim=1), state)


class Seq2SeqEncoder(nn.Module):
    """Embedding → recurrent stack (any cell, any implementation, optionally bidirectional)."""

    def __init__(
        self, vocab_size: int, embed_size: int, recurrent: nn.Module, embedding_dropout: float = 0.0
    ):
        super().__init__()
        self.embedding = TokenDropoutEmbedding(vocab_size, embed_size, embedding_dropout)
        self.recurrent = recurrent

    def forward(self, src: torch.Tensor) -> tuple[State, torch.Tensor]:
        """src: (B, S) → (state in the decoder's layout, outputs (S, B, h), a bidirectional
        encoder's two directions summed as `bridge` sums its states)."""
        outputs, state = self.recurrent(self.embedding(src.T))  # time-major (S, B, embed)
        if self.recurrent.bidirectional:
            outputs = outputs.view(*outputs.shape[:2], 2, -1).sum(dim=2)
        return bridge(state, self.recurrent.num_layers, self.recurrent.bidirectional), outputs
