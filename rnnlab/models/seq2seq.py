"""The RNN encoder-decoder of the d2l book (section 10.7; Sutskever et al., 2014; Cho et al.,
2014): the encoder reads the source into its final state, which both initialises the
decoder's state and, as the *context*, is fed to the decoder at every step.

Shapes (B = batch, T = num_steps, L = num_layers, h = num_hiddens, V = vocabulary):
    src, tgt_in:  (B, T) token ids
    state:        (L, B, h), or an (H, C) pair of them for LSTMs (the decoder's layout)
    context:      (B, h)   the encoder's last layer's final hidden state
    logits:       (B, T, V_tgt)

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
"""

import torch
from torch import nn

from rnnlab.models.dropout import TokenDropoutEmbedding
from rnnlab.models.recurrent import build_recurrent
from rnnlab.models.state import State, map_state


def project(head: nn.Linear, outputs: torch.Tensor, select: torch.Tensor | None) -> torch.Tensor:
    """The output layer on time-major decoder outputs (T, B, h): logits (B, T, V), or, with
    `select` (B, T) bool, (N, V) at the selected positions only. Training selects the real
    (non-padded) targets: the vocabulary-wide product, softmax and their gradients are the
    largest single cost of a step, and padded positions would only be thrown away."""
    outputs = outputs.transpose(0, 1)
    return head(outputs if select is None else outputs[select])


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


def last_hidden(state: State) -> torch.Tensor:
    """The decoder's last layer's hidden state (B, h) (H of an LSTM's (H, C))."""
    return (state[0] if isinstance(state, tuple) else state)[-1]


class Seq2SeqDecoder(nn.Module):
    """At each step: [embedding of the previous target token; context] → recurrent stack →
    linear head over the target vocabulary. The context is the encoder's last layer's final
    hidden state (B, h), the same at every step."""

    def __init__(
        self, vocab_size: int, embed_size: int, recurrent: nn.Module, embedding_dropout: float = 0.0
    ):
        super().__init__()
        if recurrent.bidirectional:
            raise ValueError("a decoder generates left to right; it cannot be bidirectional")
        self.embedding = TokenDropoutEmbedding(vocab_size, embed_size, embedding_dropout)
        self.recurrent = recurrent
        self.head = nn.Linear(recurrent.hidden_size, vocab_size)

    @staticmethod
    def memory(state: State, outputs: torch.Tensor, valid_lens: torch.Tensor):
        """What the decoder reads of the encoder besides its state: the context (B, h)."""
        return last_hidden(state)

    def forward(
        self,
        tgt_in: torch.Tensor,
        state: State,
        context: torch.Tensor,
        select: torch.Tensor | None = None,
    ):
        """tgt_in: (B, T) → logits (B, T, V), the state after the last step; with `select`
        (B, T) bool, logits (N, V) at its N true positions only, in batch-major order."""
        X = self.embedding(tgt_in.T)  # (T, B, embed)
        X = torch.cat([X, context.expand(X.shape[0], -1, -1)], dim=-1)
        outputs, state = self.recurrent(X, state)
        return project(self.head, outputs, select), state


class EncoderDecoder(nn.Module):
    """`forward` is teacher-forced training; `encode` and `decode` serve step-by-step search.
    `memory` is what the decoder reads of the encoder besides its state (the decoder's
    `memory`): a tensor or a tuple of tensors, each with the batch first."""

    def __init__(self, encoder: Seq2SeqEncoder, decoder: nn.Module, src_pad: int | None = None):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.src_pad = src_pad  # valid source lengths for attention's mask; None: all valid

    def encode(self, src: torch.Tensor) -> tuple[State, object]:
        state, outputs = self.encoder(src)
        valid_lens = (
            torch.full(src.shape[:1], src.shape[1], device=src.device)
            if self.src_pad is None
            else (src != self.src_pad).sum(dim=1)
        )
        return state, self.decoder.memory(state, outputs, valid_lens)

    def decode(self, tgt_in: torch.Tensor, state: State, memory):
        return self.decoder(tgt_in, state, memory)

    def forward(
        self, src: torch.Tensor, tgt_in: torch.Tensor, select: torch.Tensor | None = None
    ) -> torch.Tensor:
        """src, tgt_in: (B, T) → logits (B, T, V_tgt) for the tokens that follow tgt_in;
        with `select` (B, T) bool, (N, V_tgt) at the selected positions (batch-major)."""
        state, memory = self.encode(src)
        logits, _ = self.decoder(tgt_in, state, memory, select)
        return logits


def build_seq2seq(
    src_vocab_size: int, tgt_vocab_size: int, model_cfg, src_pad: int | None = None
) -> EncoderDecoder:
    """An `EncoderDecoder` from the `model` config group; `model.bidirectional` applies to
    the encoder only; `model.attention` (none, bahdanau, luong) picks the decoder
    (`rnnlab.models.attention_decoders`). `src_pad` marks the source padding attention
    masks."""
    from rnnlab.models.attention_decoders import DECODERS

    embed_size, attention = model_cfg.embed_size, model_cfg.attention
    embedding_dropout = model_cfg.embedding_dropout
    encoder = Seq2SeqEncoder(
        src_vocab_size, embed_size, build_recurrent(model_cfg, embed_size), embedding_dropout
    )
    if attention == "none":
        decoder = Seq2SeqDecoder(
            tgt_vocab_size,
            embed_size,
            build_recurrent(model_cfg, embed_size + model_cfg.num_hiddens, bidirectional=False),
            embedding_dropout,
        )
    else:
        decoder = DECODERS[attention].build(tgt_vocab_size, model_cfg)
    return EncoderDecoder(encoder, decoder, src_pad)
