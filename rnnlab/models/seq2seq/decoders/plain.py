"""`model.attention=none`: the d2l book's decoder (section 10.7). At each step it reads
[embedding of the previous target token; context], where the context is the encoder's
last layer's final hidden state (B, h), the same at every step; the head reads the
recurrence's outputs. With no attention, teacher-forced training runs the recurrence
over the whole target in one call."""

import torch

from rnnlab.models.seq2seq.decoders.base import Decoder, last_hidden, project
from rnnlab.models.state import State


class PlainDecoder(Decoder):
    name = "none"

    @staticmethod
    def memory(state: State, outputs: torch.Tensor, valid_lens: torch.Tensor) -> torch.Tensor:
        """The context (B, h)."""
        return last_hidden(state)

    def forward(self, tgt_in, state, context, select=None):
        X = self.embedding(tgt_in.T)  # (T, B, embed)
        X = torch.cat([X, context.expand(X.shape[0], -1, -1)], dim=-1)
        outputs, state = self.recurrent(X, state)
        return project(self.head, outputs, select), state
