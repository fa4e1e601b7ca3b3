"""TensorBoard events: a run's scalars per epoch, text samples and HParams session, and a
sweep's HParams experiment (`logger=tensorboard`, the default).

Events go straight into the run directory, so `tensorboard --logdir outputs` shows every
run (single or multirun) under its own name. The HParams dashboard lines up the runs of a
sweep by their flattened config; its columns come from the one experiment record the sweep
writes at its root (`write_experiment`), swept keys first. A single run writes no
experiment: TensorBoard then builds one from the sessions it finds. The `logger` group
itself is left out of the hparams: where a run logs is not what it learns with.
"""

from pathlib import Path

from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.plugins.hparams.api_pb2 import (
    DataType,
    Experiment,
    HParamInfo,
    Interval,
    MetricInfo,
    MetricName,
)
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData
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
        _, start, _ = hparams_summary(hparams, {})
        self.writer.file_writer.add_summary(start)
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
    def start_sweep(
        cls, sweep_dir: Path, swept: dict, constant: dict, metrics: list[str]
    ) -> Path | None:
        return write_experiment(
            sweep_dir, without_loggers(swept), without_loggers(constant), metrics
        )

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
EXPERIMENT_SUFFIX = ".sweep"  # the sweep directory's own event file (`write_experiment`)


def write_experiment(
    sweep_dir: str | Path, swept: dict, constant: dict, metric_tags: list[str]
) -> Path:
    """The HParams experiment of a sweep, in an event file at its root: the swept keys (the
    dashboard's first columns: marked `differs`), each with its values as the domain (a
    list, or a (low, high) interval for a search), then the other hparams the runs record
    (`constant`: {key: a value, for its type}), and the metric columns `metric_tags`. The
    dashboard reads this one record for the whole logdir; the runs write only their sessions
    (`TensorBoardLogger.session_start`), so a killed or running run is listed too. A rerun of the
    sweep replaces the record."""

    def swept_info(name, values) -> HParamInfo:
        # `differs` puts a column first: TensorBoard sorts by it, then by name
        if isinstance(values, tuple):  # a search's interval
            return HParamInfo(
                name=name,
                type=DataType.DATA_TYPE_FLOAT64,
                differs=True,
                domain_interval=Interval(min_value=values[0], max_value=values[1]),
            )
        hparam = HParamInfo(name=name, type=_data_type(values), differs=len(values) > 1)
        hparam.domain_discrete.extend(values)
        return hparam

    hparam_infos = [swept_info(name, values) for name, values in swept.items()]
    hparam_infos += [
        HParamInfo(name=name, type=_data_type([value]))
        for name, value in constant.items()
        if name not in swept
    ]
    experiment = Experiment(
        hparam_infos=hparam_infos,
        metric_infos=[MetricInfo(name=MetricName(tag=tag)) for tag in metric_tags],
    )
    content = HParamsPluginData(experiment=experiment, version=0).SerializeToString()
    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name="hparams", content=content)
    )
    summary = Summary(value=[Summary.Value(tag="_hparams_/experiment", metadata=metadata)])

    sweep_dir = Path(sweep_dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    for old in sweep_dir.glob(f"events.out.tfevents.*{EXPERIMENT_SUFFIX}"):
        old.unlink()
    writer = SummaryWriter(log_dir=str(sweep_dir), filename_suffix=EXPERIMENT_SUFFIX)
    writer.file_writer.add_summary(summary)
    writer.close()
    return next(sweep_dir.glob(f"events.out.tfevents.*{EXPERIMENT_SUFFIX}"))


def _data_type(values: list):
    if values and all(isinstance(value, bool) for value in values):
        return DataType.DATA_TYPE_BOOL
    if values and all(isinstance(value, int | float) for value in values):
        return DataType.DATA_TYPE_FLOAT64
    return DataType.DATA_TYPE_STRING
