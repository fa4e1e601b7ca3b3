"""The language model: tokens → (one-hot or embedding) → recurrent stack → vocabulary logits."""

import torch
from torch import nn
from torch.nn import functional as F

from rnnlab.models.recurrent import build_recurrent
from rnnlab.models.scratch import ScratchRecurrent
from rnnlab.models.state import begin_state

INITS = ("default", "d2l")  # model.init


class RNNLM(nn.Module):
    """Next-token model around any recurrent stack from `build_recurrent`.

    With `embed_size=None` tokens enter one-hot, as in the textbook; an embedding computes
    the same first-layer product as a row lookup instead of a matmul, and may be smaller.
    """

    def __init__(self, vocab_size: int, recurrent: nn.Module, embed_size: int | None = None):
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embed_size) if embed_size else None
        self.recurrent = recurrent
        num_directions = 2 if recurrent.bidirectional else 1
        self.head = nn.Linear(num_directions * recurrent.hidden_size, vocab_size)

    def forward(self, X: torch.Tensor, state=None):
        """X: (batch, num_steps) token ids → logits (batch, num_steps, vocab_size), state."""
        X = X.T  # time-major, as the recurrent stack wants: (num_steps, batch)
        if self.embedding is None:
            inputs = F.one_hot(X, self.vocab_size).to(self.head.weight.dtype)
        else:
            inputs = self.embedding(X)
        outputs, state = self.recurrent(inputs, state)
        return self.head(outputs).transpose(0, 1), state

    def begin_state(self, batch_size: int, device=None):
        """Zeros, shaped for this model's recurrent stack."""
        return begin_state(self.recurrent, batch_size, device)


def build_lm(vocab_size: int, model_cfg) -> RNNLM:
    """An `RNNLM` from the `model` config group (cell, impl, sizes, init)."""
    recurrent = build_recurrent(model_cfg, model_cfg.embed_size or vocab_size)
    model = RNNLM(vocab_size, recurrent, model_cfg.embed_size)
    if model_cfg.get("init", "default") == "d2l":
        init_as_d2l_(model)
    return model


@torch.no_grad()
def init_as_d2l_(model: RNNLM) -> None:
    """Initialise as the d2l book does: its scratch models (`get_params`) draw every weight
    from N(0, 0.01) and set every bias to zero, the output layer included; its nn models
    (`d2l.RNNModel`) keep PyTorch's defaults, so an nn stack is left alone. The published
    table 9 trained the scratch RNN this way; our scratch default is nn's uniform
    initialisation, which makes scratch and nn comparable."""
    if not isinstance(model.recurrent, ScratchRecurrent):
        return
    for name, parameter in [*model.recurrent.named_parameters(), *model.head.named_parameters()]:
        if name.rsplit(".", 1)[-1].startswith("b"):  # b_x, b_h, bias
            parameter.zero_()
        else:
            parameter.normal_(0.0, 0.01)
