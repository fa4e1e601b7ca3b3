"""The encoder-decoder (d2l section 10.7; Sutskever et al., 2014; Cho et al., 2014) and its
builder from the `model` config group.

Shapes (B = batch, T = num_steps, V = vocabulary):
    src, tgt_in:  (B, T) token ids
    logits:       (B, T, V_tgt)
"""

from dataclasses import dataclass

import torch
from torch import nn

from rnnlab.config.schema import DROPOUT, POSITIVE, one_of, setting
from rnnlab.models.recurrent import RecurrentConfig, build_recurrent
from rnnlab.models.seq2seq.decoders import ATTENTIONS, decoder_class
from rnnlab.models.seq2seq.encoder import Seq2SeqEncoder
from rnnlab.models.state import State


@dataclass
class Seq2SeqModelConfig(RecurrentConfig):
    """The encoder-decoder: the shared stack on both sides, and the decoder's attention."""

    embed_size: int = setting(32, POSITIVE)
    num_hiddens: int = setting(32, POSITIVE)
    dropout: float = setting(0.1, DROPOUT)
    attention: str = setting("none", one_of(ATTENTIONS))  # none (d2l 10.7) | bahdanau | luong

    def check(self) -> list[str]:
        return (
            super().check() + self.dropout_needs_layers() + self.init_for("seq2seq", ("default",))
        )


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
    the encoder only; `model.attention` names the decoder in the registry
    (`rnnlab.models.seq2seq.decoders`). `src_pad` marks the source padding attention
    masks. The encoder is built before the decoder, so a seed gives the same weights."""
    embed_size = model_cfg.embed_size
    encoder = Seq2SeqEncoder(
        src_vocab_size,
        embed_size,
        build_recurrent(model_cfg, embed_size),
        model_cfg.embedding_dropout,
    )
    decoder = decoder_class(model_cfg.attention).build(tgt_vocab_size, model_cfg)
    return EncoderDecoder(encoder, decoder, src_pad)
