"""`model.attention=luong` (Luong et al., 2015, "general" score, no input feeding): the
recurrence reads the embeddings alone, so teacher-forced training runs it over the whole
target in one call; its outputs then attend to the encoder's outputs and the head reads
tanh(W_c [context; output])."""

import torch
from torch import nn

from rnnlab.models.seq2seq.attention import GeneralAttention
from rnnlab.models.seq2seq.decoders.base import AttentionDecoder, project


class LuongDecoder(AttentionDecoder):
    name = "luong"

    def __init__(
        self, vocab_size: int, embed_size: int, recurrent: nn.Module, embedding_dropout: float = 0.0
    ):
        super().__init__(vocab_size, embed_size, recurrent, embedding_dropout)
        h = recurrent.hidden_size
        self.attention = GeneralAttention(h, h)
        self.combine = nn.Linear(2 * h, h, bias=False)  # W_c

    @staticmethod
    def input_size(embed_size: int, num_hiddens: int) -> int:
        """The embedding alone: the context comes after the recurrence."""
        return embed_size

    def forward(self, tgt_in, state, memory, select=None):
        enc_outputs, valid_lens = memory
        outputs, state = self.recurrent(self.embedding(tgt_in.T), state)  # (T, B, h)
        queries = outputs.transpose(0, 1)  # (B, T, h)
        context, self.attention_weights = self.attention(
            queries, enc_outputs, enc_outputs, valid_lens
        )
        attended = torch.tanh(self.combine(torch.cat([context, queries], dim=-1)))
        return project(self.head, attended.transpose(0, 1), select), state
