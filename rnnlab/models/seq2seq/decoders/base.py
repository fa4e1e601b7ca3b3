"""What every decoder of `rnnlab.models.seq2seq.model.EncoderDecoder` is and shares.

A decoder is an `nn.Module` with three parts built in this order (the order fixes both
the state_dict's keys, which old checkpoints hold, and what a seed draws): `embedding`
of the previous target token, `recurrent` (a stack from `rnnlab.models.recurrent`, never
bidirectional: a decoder generates left to right) and `head` (a linear layer onto the
target vocabulary); a subclass adds its own parts after them. Its contract:

- `name`: the `model.attention` value that selects it in the registry
  (`rnnlab.models.seq2seq.decoders`);
- `input_size(embed_size, num_hiddens)`: how many features its recurrence reads per step;
- `memory(state, outputs, valid_lens)`: what it reads of the encoder besides its state;
- `forward(tgt_in, state, memory, select=None)` → (logits, state after the last step).

Shapes (B = batch, T = target length, S = source length, L = num_layers,
h = num_hiddens, V = target vocabulary):
    tgt_in:   (B, T) token ids
    state:    (L, B, h), or an (H, C) pair of them for LSTMs
    outputs:  (S, B, h), the encoder's, time-major
    logits:   (B, T, V), or (N, V) at the N true positions of `select` (B, T)
"""

import torch
from torch import nn

from rnnlab.models.dropout import TokenDropoutEmbedding
from rnnlab.models.recurrent import build_recurrent
from rnnlab.models.state import State


def project(head: nn.Linear, outputs: torch.Tensor, select: torch.Tensor | None) -> torch.Tensor:
    """The output layer on time-major decoder outputs (T, B, h): logits (B, T, V), or, with
    `select` (B, T) bool, (N, V) at the selected positions only. Training selects the real
    (non-padded) targets: the vocabulary-wide product, softmax and their gradients are the
    largest single cost of a step, and padded positions would only be thrown away."""
    outputs = outputs.transpose(0, 1)
    return head(outputs if select is None else outputs[select])


def last_hidden(state: State) -> torch.Tensor:
    """The decoder's last layer's hidden state (B, h) (H of an LSTM's (H, C))."""
    return (state[0] if isinstance(state, tuple) else state)[-1]


class Decoder(nn.Module):
    """Embedding → recurrent stack → head; subclasses say what the recurrence reads and
    what the head is applied to."""

    name: str  # model.attention

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
    def input_size(embed_size: int, num_hiddens: int) -> int:
        """Features per step of the recurrence: the embedding and a context (B, h)."""
        return embed_size + num_hiddens

    @classmethod
    def build(cls, vocab_size: int, model_cfg) -> "Decoder":
        """The decoder the `model` config group describes (its cell, sizes and dropouts)."""
        embed_size, num_hiddens = model_cfg.embed_size, model_cfg.num_hiddens
        recurrent = build_recurrent(
            model_cfg, cls.input_size(embed_size, num_hiddens), bidirectional=False
        )
        return cls(vocab_size, embed_size, recurrent, model_cfg.embedding_dropout)

    @staticmethod
    def memory(state: State, outputs: torch.Tensor, valid_lens: torch.Tensor):
        """What the decoder reads of the encoder besides its state, each part batch-first."""
        raise NotImplementedError

    def forward(
        self, tgt_in: torch.Tensor, state: State, memory, select: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, State]:
        raise NotImplementedError


class AttentionDecoder(Decoder):
    """A decoder that attends to the encoder's outputs. Its memory is those outputs
    batch-first (B, S, h) and the valid source lengths (B,), which mask the attention; it
    keeps the last call's weights in `attention_weights` (B, T, S) for heat maps."""

    def __init__(
        self, vocab_size: int, embed_size: int, recurrent: nn.Module, embedding_dropout: float = 0.0
    ):
        super().__init__(vocab_size, embed_size, recurrent, embedding_dropout)
        self.attention_weights: torch.Tensor | None = None

    @staticmethod
    def memory(state: State, outputs: torch.Tensor, valid_lens: torch.Tensor):
        return outputs.transpose(0, 1), valid_lens
