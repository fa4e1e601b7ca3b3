"""What a run leaves in its directory: TensorBoard events and `metrics.json`.

Events go straight into the run directory, so `tensorboard --logdir outputs` shows every
run (single or multirun) under its own name, and the HParams dashboard can line up the
runs of a sweep by their flattened config.
"""

import json
import math
import os
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


def write_json_atomically(path: Path, data: dict) -> None:
    """Readers (sweep tables, resumed sweeps) never see a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, allow_nan=True) + "\n")
    os.replace(tmp, path)


class RunLogger:
    """The TensorBoard writer of one run plus its final `metrics.json`."""

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

    def finish(self, config: dict, metrics: dict, metric_tags: list[str]) -> None:
        """Write the HParams record (config ↔ final values of `metric_tags`) and metrics.json."""
        hparams = flatten_config(config)
        final = {tag: 0.0 for tag in metric_tags}  # values are read from the scalars
        experiment, start, end = hparams_summary(hparams, final)
        for summary in (experiment, start, end):
            self.writer.file_writer.add_summary(summary)
        self.writer.flush()
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                 for k, v in metrics.items()}
        write_json_atomically(self.run_dir / "metrics.json", clean)

    def close(self) -> None:
        self.writer.close()
