"""The contract between a task and the shared training loop (`rnnlab.engine.fit`).

A task owns its data, builds its model and computes its loss and metrics; the loop, the
checkpoints and the run records are shared. A subclass provides:

- `name` (its `task.name`), `objective` (a tag `evaluate` returns) and, when a larger
  value is better, `objective_direction = "maximize"`
- `build_model() -> nn.Module`
- `train_batches(epoch) -> iterable of batches`, `num_train_batches() -> int`
- `training_loss(model, batch, state) -> (mean loss, number of tokens, state)`; `state`
  is what one batch hands the next (a hidden state), or None
- `evaluate(model) -> {"val/...": value}` (TensorBoard tags)
- `checkpoint_extras() -> dict` of plain values needed to use a checkpoint (the vocab),
  under the keys `checkpoint_keys`, and `model_from_checkpoint(saved)`, which builds the
  model again from them and the saved config (`rnnlab.run.checkpoint.load_for_inference`)

and may override the defaults below: `to`, `train_metrics`, `test`, `log_samples`,
`keep_first_batches` (trainer.fast_dev_run), `checkpoint_problem(saved)` (a saved setting
that contradicts the saved vocabulary).
"""

import dataclasses

import torch
from torch import nn

from rnnlab.loggers import Logger


class Task:
    """Defaults every task shares; see the module docstring for the whole contract."""

    name: str
    objective: str  # the tag of the validation metric that picks the best epoch
    objective_direction: str = "minimize"  # or "maximize"
    checkpoint_keys: tuple[str, ...] = ()  # what checkpoint_extras() returns

    def __init__(self, cfg):
        self.cfg = cfg

    def epoch_generator(self, epoch: int) -> torch.Generator:
        """The generator an epoch's batches are drawn with, seeded from (seed, epoch): a
        resumed run sees the same batches as an uninterrupted one."""
        return torch.Generator().manual_seed(self.cfg.seed * 100_003 + epoch)

    has_test_split = True  # False: `test` adds to the validation split's figures (lm)
    # the test figures drawn as scalars (None: all); the rest go into one text card,
    # `test/scores`, so that a task with many variants (seq2seq's BLEUs) does not open
    # TensorBoard's Scalars and Time Series tabs on a screen of single-point charts
    test_charts: tuple[str, ...] | None = None

    def to(self, device: torch.device) -> "Task":
        """Put what the batches are cut from on `device`, where that saves a copy per step
        (the language model's corpus); by default batches are copied as they are drawn."""
        return self

    def train_metrics(self, mean_loss: float) -> dict:
        """Extra `train/...` tags from the epoch's mean loss (e.g. perplexity)."""
        return {}

    def test(self, model: nn.Module) -> dict:
        """`{"test/...": value}` on the held-out test split, run once on the best weights;
        a task without a test split has none."""
        return {}

    def keep_first_batches(self, num_batches: int) -> None:
        """Keep only about `num_batches` batches of each split (trainer.fast_dev_run: a
        smoke test of the whole run in seconds); called before the model is built."""
        raise NotImplementedError(f"task {self.name} has no fast_dev_run")

    @staticmethod
    def checkpoint_problem(saved: dict) -> str | None:
        """Why a checkpoint that holds `checkpoint_keys` still cannot be used (a saved
        setting that contradicts its vocabulary), as "has ..."; None when it can."""
        return None

    def log_samples(self, model: nn.Module, logger: Logger, epoch: int) -> None:
        """Text for the loggers after each evaluated epoch (samples, translations); none by
        default."""


def first_of_each_split(data, n: int):
    """`data` (a dataclass with `train`, `val` and `test` splits that have `first(n)`) with
    each split cut to its first `n` examples (trainer.fast_dev_run)."""
    return dataclasses.replace(
        data, **{split: getattr(data, split).first(n) for split in ("train", "val", "test")}
    )
