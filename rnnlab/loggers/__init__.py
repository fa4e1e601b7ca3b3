"""Where a run's metrics go: the `logger` config group, one class per file of conf/logger/
(`_target_`), so the group's YAML files are the registry and a new logger is one module
and one YAML file.

`logger=tensorboard` (the default) writes TensorBoard events, `logger=csv` a per-epoch
metrics.csv beside metrics.json; `logger=[tensorboard,csv]` selects both, and `Loggers`
fans each call out to them. Curves are read back with `read_curves`, which prefers
metrics.csv and falls back to the events of runs made without it.
"""

from pathlib import Path

from hydra.utils import get_class, instantiate
from omegaconf import DictConfig

from rnnlab.loggers.base import Curves, Logger
from rnnlab.loggers.csv_file import CsvLogger
from rnnlab.loggers.tensorboard import TensorBoardLogger

__all__ = ["Curves", "Logger", "Loggers", "build_loggers", "logger_classes", "read_curves"]


class Loggers(Logger):
    """Several loggers as one: each call goes to every one, in the order chosen."""

    def __init__(self, loggers: list[Logger]):
        self.loggers = loggers

    def session_start(self, config: dict, choices: dict | None = None) -> None:
        for logger in self.loggers:
            logger.session_start(config, choices)

    def scalars(self, metrics: dict[str, float], step: int) -> None:
        for logger in self.loggers:
            logger.scalars(metrics, step)

    def step_scalars(self, metrics: dict[str, float], step: int) -> None:
        for logger in self.loggers:
            logger.step_scalars(metrics, step)

    def text(self, tag: str, text: str, step: int) -> None:
        for logger in self.loggers:
            logger.text(tag, text, step)

    def figure(self, tag: str, figure, step: int) -> None:
        """Every logger sees the figure before it is closed."""
        from matplotlib import pyplot as plt  # the figure exists, so matplotlib does

        for logger in self.loggers:
            logger.figure(tag, figure, step)
        plt.close(figure)

    def session_end(self) -> None:
        for logger in self.loggers:
            logger.session_end()

    def close(self) -> None:
        for logger in self.loggers:
            logger.close()


def build_loggers(cfg: DictConfig | None, run_dir: Path, start_epoch: int = 0) -> Loggers:
    """The loggers the `logger` group selects ({name: {_target_: ...}}; None or empty for
    `logger=[]`), built for `run_dir` resuming after `start_epoch`."""
    return Loggers(
        [
            instantiate(node, run_dir=Path(run_dir), start_epoch=start_epoch)
            for node in (cfg or {}).values()
        ]
    )


def logger_classes(cfg: DictConfig | None) -> list[type[Logger]]:
    """The classes the `logger` group selects, for what needs no run (a sweep's start)."""
    return [get_class(node._target_) for node in (cfg or {}).values()]


def read_curves(run_dir: Path) -> Curves:
    """Every scalar tag's curve in a run directory: from metrics.csv when the run has one,
    else from its TensorBoard events (runs made before metrics.csv, or without it)."""
    return CsvLogger.read_curves(run_dir) or TensorBoardLogger.read_curves(run_dir)
