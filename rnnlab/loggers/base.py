"""The one interface the training loop, the tasks and the sweeps log through.

A logger is built for one run as `Cls(run_dir, start_epoch)`: `start_epoch` is the epoch
the run resumes from (0 for a new run), and whatever a killed run logged after it is
dropped, since the run continues from that epoch's checkpoint. Every method is a no-op
here, so a logger overrides only what it records, and `Logger()` itself logs nothing.
"""

from pathlib import Path

Curves = dict[str, list[tuple[int, float]]]  # tag → [(step, value), ...], steps ascending


class Logger:
    """Where a run's metrics, text and figures go (one option of the `logger` group)."""

    def session_start(self, config: dict, choices: dict | None = None) -> None:
        """The run starts: its resolved config and the config groups chosen
        ({"model": "gru", ...})."""

    def scalars(self, metrics: dict[str, float], step: int) -> None:
        """metrics: {"train/loss": 1.9, "val/perplexity": 6.3, ...} at x = step (epoch)."""

    def step_scalars(self, metrics: dict[str, float], step: int) -> None:
        """Within-epoch curves ({"train_step/loss": ..., "train_step/lr": ...}) at x = the
        optimizer step, every trainer.log_every_n_steps steps, so a short run has curves;
        loggers of one row per epoch (metrics.csv) leave them out."""

    def text(self, tag: str, text: str, step: int) -> None:
        """Text at a step: samples, translations, `status: diverged`."""

    def figure(self, tag: str, figure, step: int) -> None:
        """A matplotlib figure at a step; the caller closes it (`Loggers.figure`)."""

    def session_end(self) -> None:
        """The run ended (finished or diverged: a result, not a failure)."""

    def close(self) -> None:
        """Flush and release files; called once, also when the run raised."""

    @classmethod
    def start_sweep(
        cls, sweep_dir: Path, swept: dict, constant: dict, metrics: list[str]
    ) -> Path | None:
        """A multirun starts in `sweep_dir`: the swept keys with their values, the other
        flattened config keys (`constant`: {key: a value}) and the task's metric tags;
        returns the file written, if any."""

    @classmethod
    def read_curves(cls, run_dir: Path) -> Curves:
        """The scalars this logger left in `run_dir`; {} when it left none."""
        return {}
