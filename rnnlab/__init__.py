"""rnnlab: recurrent networks (RNN, LSTM, GRU) for language modelling, translation and
sentiment, written from scratch and through PyTorch's fused modules, driven by Hydra.

From Python (`rnnlab.api`; the README's "From Python"):
    import rnnlab
    run = rnnlab.train(["trainer.max_epochs=1"], run_dir="runs/lstm")   # as rnnlab-train
    rnnlab.load(run.run_dir).generate("time traveller")

`import rnnlab` stays light: `train` and `load` import torch and Hydra when first used.
`rnnlab.train` is the module `rnnlab/train.py`, made callable (`rnnlab.train.CallableModule`),
so it is the same function whether or not `import rnnlab.train` ran first.
"""

import importlib

__version__ = "0.1.0"
__all__ = ["load", "train"]


def __getattr__(name: str):
    if name == "train":  # importing the submodule also binds it here
        return importlib.import_module("rnnlab.train")
    if name == "load":
        return importlib.import_module("rnnlab.api").load
    raise AttributeError(f"module 'rnnlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
