"""A run's TensorBoard events: scalars per epoch, text samples, and the HParams record.

Events go straight into the run directory, so `tensorboard --logdir outputs` shows every
run (single or multirun) under its own name, and the HParams dashboard can line up the
runs of a sweep by their flattened config.
"""

from pathlib import Path

from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams as hparams_summary

HPARAM_TYPES = (bool, int, float, str)


def flatten_config(config: dict, prefix: str = "") -> dict:
    """{"model": {"num_hiddens": 256}} → {"model.num_hiddens": 256}; other values as text."""
    flat = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_config(value, prefix=f"{name}."))
        else:
            flat[name] = value if isinstance(value, HPARAM_TYPES) else str(value)
    return flat


class RunLogger:
    """The TensorBoard writer of one run."""

    def __init__(self, run_dir: str | Path, purge_step: int | None = None):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # purge_step drops events a killed run wrote after its last checkpoint.
        self.writer = SummaryWriter(log_dir=str(self.run_dir), purge_step=purge_step)

    def scalars(self, metrics: dict[str, float], step: int) -> None:
        """metrics: {"train/loss": 1.9, "val/perplexity": 6.3, ...} at x = step (epoch)."""
        for tag, value in metrics.items():
            self.writer.add_scalar(tag, value, step)

    def text(self, tag: str, text: str, step: int) -> None:
        self.writer.add_text(tag, text, step)

    def figure(self, tag: str, figure, step: int) -> None:
        """A matplotlib figure as an image (closed afterwards)."""
        self.writer.add_figure(tag, figure, step, close=True)

    def hparams(self, config: dict, metric_tags: list[str]) -> None:
        """The HParams record: the flattened config ↔ the final values of `metric_tags`."""
        final = {tag: 0.0 for tag in metric_tags}  # values are read from the scalars
        experiment, start, end = hparams_summary(flatten_config(config), final)
        for summary in (experiment, start, end):
            self.writer.file_writer.add_summary(summary)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
