"""`model.attention=bahdanau` (d2l section 11.4): at each step the query is the decoder's
previous hidden state (last layer), keys and values the encoder's outputs; the context
the additive attention returns is fed with the previous token's embedding into the
recurrence. The query depends on the previous step, so training runs the recurrence step
by step."""

import torch
from torch import nn

from rnnlab.models.seq2seq.attention import AdditiveAttention
from rnnlab.models.seq2seq.decoders.base import AttentionDecoder, last_hidden, project


class BahdanauDecoder(AttentionDecoder):
    name = "bahdanau"

    def __init__(
        self, vocab_size: int, embed_size: int, recurrent: nn.Module, embedding_dropout: float = 0.0
    ):
        super().__init__(vocab_size, embed_size, recurrent, embedding_dropout)
        h = recurrent.hidden_size
        self.attention = AdditiveAttention(h, h, h)

    def forward(self, tgt_in, state, memory, select=None):
        enc_outputs, valid_lens = memory
        outputs, weights = [], []
        for X_t in self.embedding(tgt_in.T):  # (B, embed) per step
            query = last_hidden(state).unsqueeze(1)  # (B, 1, h)
            context, w = self.attention(query, enc_outputs, enc_outputs, valid_lens)
            Y, state = self.recurrent(torch.cat([X_t, context.squeeze(1)], -1)[None], state)
            outputs.append(Y)
            weights.append(w)
        self.attention_weights = torch.cat(weights, dim=1)  # (B, T, S)
        return project(self.head, torch.cat(outputs), select), state
