"""The models, as plain `nn.Module`s for a training loop of your own:

    from rnnlab.models import RNNLM, ScratchLSTM
    model = RNNLM(vocab_size, ScratchLSTM(vocab_size, num_hiddens=128))  # one-hot inputs
    logits, state = model(X)  # X: (batch, num_steps) token ids

The scratch cells take nn.RNN/nn.LSTM/nn.GRU's sizes and return their shapes (time-major);
`RNNLM` takes any of them, or PyTorch's own (`RNNLM(V, nn.LSTM(V, 128))`). The names are
imported when first used, so this package imports nothing on its own.
"""

import importlib

_HOMES = {
    "RNNLM": "rnnlab.models.lm",
    "ScratchRNN": "rnnlab.models.cells.rnn",
    "ScratchLSTM": "rnnlab.models.cells.lstm",
    "ScratchGRU": "rnnlab.models.cells.gru",
    "MinGRU": "rnnlab.models.cells.mingru",
    "MinLSTM": "rnnlab.models.cells.minlstm",
    "EncoderDecoder": "rnnlab.models.seq2seq.model",
    "SentimentClassifier": "rnnlab.models.classifier",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'rnnlab.models' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
