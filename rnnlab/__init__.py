"""rnnlab: recurrent networks (RNN, LSTM, GRU) for language modelling, translation and
sentiment, written from scratch and through PyTorch's fused modules, driven by Hydra."""

__version__ = "0.1.0"
