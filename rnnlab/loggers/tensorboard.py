"""TensorBoard events: a run's scalars per epoch and per step, text samples and HParams
session (`logger=tensorboard`, the default).

Events go straight into the run directory, so `tensorboard --logdir outputs` shows every
run (single or multirun) under its own name. The HParams dashboard lines up the runs by
their flattened config. Nothing writes an experiment record: TensorBoard reads the one it
finds in a logdir as the columns of every run there, so a sweep's record hid the metrics of
other tasks' runs (and its file showed as an empty run). Without one, TensorBoard builds the
columns from the runs' sessions and scalars: each task's metrics, the keys whose values
differ first. The `logger` group itself is left out of the hparams: where a run logs is not
what it learns with.
"""

import time
from pathlib import Path

from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.plugins.hparams import metadata as hparams_plugin
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData, SessionStartInfo
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams as hparams_summary

from rnnlab.loggers.base import Curves, Logger
from rnnlab.run.flatten import flatten_config


class TensorBoardLogger(Logger):
    """The TensorBoard writer of one run."""

    def __init__(self, run_dir: str | Path, start_epoch: int = 0):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # purge_step drops events a killed run wrote after its last checkpoint.
        purge_step = start_epoch + 1 if start_epoch else None
        self.writer = SummaryWriter(log_dir=str(self.run_dir), purge_step=purge_step)
        self.step_writer = None  # STEPS_DIR's writer, opened at the first step logged

    def step_scalars(self, metrics: dict[str, float], step: int) -> None:
        """In STEPS_DIR, a run of its own (x = optimizer steps, not epochs); its first step
        in this launch purges what a killed launch wrote from there on."""
        if self.step_writer is None:
            self.step_writer = SummaryWriter(log_dir=str(self.run_dir / STEPS_DIR), purge_step=step)
        for tag, value in metrics.items():
            self.step_writer.add_scalar(tag, value, step)

    def scalars(self, metrics: dict[str, float], step: int) -> None:
        for tag, value in metrics.items():
            self.writer.add_scalar(tag, value, step)

    def text(self, tag: str, text: str, step: int) -> None:
        self.writer.add_text(tag, text, step)

    def session_start(self, config: dict, choices: dict | None = None) -> None:
        """The run's HParams session, written when it starts (so a killed or running run is
        listed): the flattened config and the config groups chosen (`model=gru` as
        "model": "gru", the name a sweep of groups is recorded under)."""
        hparams = without_loggers({**(choices or {}), **flatten_config(config)})
        self.writer.file_writer.add_summary(session_start_summary(hparams))
        self.writer.flush()

    def session_end(self) -> None:
        _, _, end = hparams_summary({}, {})
        self.writer.file_writer.add_summary(end)

    def figure(self, tag: str, figure, step: int) -> None:
        """A matplotlib figure as an image."""
        self.writer.add_figure(tag, figure, step, close=False)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
        if self.step_writer is not None:
            self.step_writer.close()

    @classmethod
    def read_curves(cls, run_dir: Path) -> Curves:
        return read_event_curves(run_dir)


def without_loggers(hparams: dict) -> dict:
    """Flattened keys less the `logger` group's (`logger`, `logger.csv._target_`, ...)."""
    return {
        key: value
        for key, value in hparams.items()
        if key != "logger" and not key.startswith("logger.")
    }


def read_event_curves(run_dir: Path) -> Curves:
    """Every scalar tag's curve in the run's TensorBoard event files, one value per step
    (of two at one step, the later written: a finished run resumed logs its test again).
    The one place rnnlab reads events back; the tables use it for runs without metrics.csv."""
    # imported here: only the tables read events, and it costs every run's start ~0.1 s
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "tensors": 1})
    events.Reload()
    curves = {}
    for tag in events.Tags()["scalars"]:
        by_step = {}
        for event in sorted(events.Scalars(tag), key=lambda e: (e.step, e.wall_time)):
            by_step[event.step] = event.value
        curves[tag] = sorted(by_step.items())
    return curves


STEPS_DIR = "steps"  # the per-step curves' event files, under the run directory


def session_start_summary(hparams: dict) -> Summary:
    """The HParams session a run opens with, each value as its own type: torch's `hparams`
    writes a bool as the number 1.0, which the dashboard shows as 1.0000."""
    info = SessionStartInfo(start_time_secs=time.time())
    for key, value in hparams.items():
        if value is None:
            continue
        if isinstance(value, bool):
            info.hparams[key].bool_value = value
        elif isinstance(value, int | float):
            info.hparams[key].number_value = value
        else:
            info.hparams[key].string_value = str(value)
    content = HParamsPluginData(session_start_info=info, version=hparams_plugin.PLUGIN_DATA_VERSION)
    plugin = SummaryMetadata.PluginData(
        plugin_name=hparams_plugin.PLUGIN_NAME, content=content.SerializeToString()
    )
    return Summary(
        value=[
            Summary.Value(
                tag=hparams_plugin.SESSION_START_INFO_TAG,
                metadata=SummaryMetadata(plugin_data=plugin),
            )
        ]
    )
