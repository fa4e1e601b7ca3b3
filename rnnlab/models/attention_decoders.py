"""Decoders that attend to the encoder's outputs (`model.attention`), for
`rnnlab.models.seq2seq.EncoderDecoder`; `none` is that module's `Seq2SeqDecoder`.

- `bahdanau` (d2l section 11.4): at each step the query is the decoder's previous hidden
  state (last layer), keys and values the encoder's outputs; the context the attention
  returns is fed with the previous token's embedding into the recurrence. The query
  depends on the previous step, so training runs the recurrence step by step.
- `luong` (Luong et al., 2015, "general" score, no input feeding): the recurrence reads
  the embeddings alone, so teacher-forced training runs it over the whole target in one
  call; its outputs then attend to the encoder's outputs and the head reads
  tanh(W_c [context; output]).

Both keep the last call's weights in `attention_weights` (B, T, S) for heat maps. Memory
(what `EncoderDecoder.encode` hands the decoder besides its state): the encoder's outputs
batch-first (B, S, h) and the valid source lengths (B,), which mask the attention.
"""

import torch
from torch import nn

from rnnlab.models.attention import AdditiveAttention, GeneralAttention
from rnnlab.models.dropout import TokenDropoutEmbedding
from rnnlab.models.recurrent import build_recurrent
from rnnlab.models.seq2seq import last_hidden, project


class AttentionDecoder(nn.Module):
    """What both attention decoders share: embedding, recurrent stack, head, memory."""

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        recurrent: nn.Module,
        head_size: int,
        embedding_dropout: float = 0.0,
    ):
        super().__init__()
        self.embedding = TokenDropoutEmbedding(vocab_size, embed_size, embedding_dropout)
        self.recurrent = recurrent
        self.head = nn.Linear(head_size, vocab_size)
        self.attention_weights: torch.Tensor | None = None

    @staticmethod
    def memory(state, outputs: torch.Tensor, valid_lens: torch.Tensor):
        return outputs.transpose(0, 1), valid_lens


class BahdanauDecoder(AttentionDecoder):
    @classmethod
    def build(cls, vocab_size: int, model_cfg) -> "BahdanauDecoder":
        h, embed = model_cfg.num_hiddens, model_cfg.embed_size
        decoder = cls(
            vocab_size,
            embed,
            build_recurrent(model_cfg, embed + h, bidirectional=False),
            h,
            model_cfg.embedding_dropout,
        )
        decoder.attention = AdditiveAttention(h, h, h)
        return decoder

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


class LuongDecoder(AttentionDecoder):
    @classmethod
    def build(cls, vocab_size: int, model_cfg) -> "LuongDecoder":
        h, embed = model_cfg.num_hiddens, model_cfg.embed_size
        decoder = cls(
            vocab_size,
            embed,
            build_recurrent(model_cfg, embed, bidirectional=False),
            h,
            model_cfg.embedding_dropout,
        )
        decoder.attention = GeneralAttention(h, h)
        decoder.combine = nn.Linear(2 * h, h, bias=False)  # W_c
        return decoder

    def forward(self, tgt_in, state, memory, select=None):
        enc_outputs, valid_lens = memory
        outputs, state = self.recurrent(self.embedding(tgt_in.T), state)  # (T, B, h)
        queries = outputs.transpose(0, 1)  # (B, T, h)
        context, self.attention_weights = self.attention(
            queries, enc_outputs, enc_outputs, valid_lens
        )
        attended = torch.tanh(self.combine(torch.cat([context, queries], dim=-1)))
        return project(self.head, attended.transpose(0, 1), select), state


DECODERS = {"bahdanau": BahdanauDecoder, "luong": LuongDecoder}  # model.attention
ATTENTIONS = ("none", *DECODERS)
