"""Learning-rate schedules and AWD's averaged SGD: what the `scheduler` config group builds.

The shared loop (`rnnlab.engine.fit`) calls `after_step()` after every optimizer step,
`after_epoch(metrics)` after every epoch (with the held-out metrics when the epoch was
scored) and evaluates inside `evaluation_weights(model)`; the checkpoint keeps
`state_dict()`, so a resumed run continues the schedule exactly where it stopped.

- none: the optimizer's lr throughout.
- step: lr × gamma every `step_size` epochs (torch's StepLR).
- cosine: linear warm-up over `warmup_steps` optimizer steps to optim.lr, then a cosine
  decay to `final_lr_fraction` × optim.lr at the last step of `total_epochs` (null: the
  run's `trainer.max_epochs` at its first launch, recorded as a number; steps past it keep
  the last lr). A resumed run keeps its recorded length, so `trainer.max_epochs` raised on
  resume extends the run past its schedule instead of stretching a schedule half spent.
- plateau: lr × factor once the task's objective has not improved for `patience` scored
  epochs (torch's ReduceLROnPlateau, in the task's objective_direction).
- ntasgd: Merity et al.'s non-monotonically triggered averaged SGD. After each scored
  epoch, averaging starts if the objective is worse than the best of all the values
  scored before the last `nonmono` ones; from the next step on, the average of every
  iterate since the switch is kept and the model is evaluated (and tested) with it. With
  optim=sgd (no momentum) this is AWD's switch to torch.optim.ASGD(t0=0, lambd=0), which
  takes SGD's steps and keeps the same average; with another optimizer it averages that
  optimizer's iterates.
"""

import contextlib
import math
from dataclasses import dataclass

import torch
from hydra.utils import instantiate
from torch import nn
from torch.optim import lr_scheduler

from rnnlab.config.schema import NATURAL, NON_NEGATIVE, POSITIVE, in_range, one_of, setting


def _target(name: str):
    """The `_target_` field of a schedule's schema: the factory below that builds it."""
    target = f"rnnlab.schedules.{name}"
    return setting(target, one_of([target]), on_resume="must_match")


@dataclass
class ConstantConfig:
    _target_: str = _target("constant")


@dataclass
class StepConfig:
    _target_: str = _target("step")
    step_size: int = setting(4, POSITIVE)  # epochs between two decays
    gamma: float = setting(0.5, in_range(0, 1, low_open=True, high_open=False))  # the decay


@dataclass
class CosineConfig:
    _target_: str = _target("cosine")
    warmup_steps: int = setting(0, NATURAL)  # optimizer steps of linear warm-up
    final_lr_fraction: float = setting(0.0, in_range(0, 1, high_open=False))  # last step's lr
    # epochs the decay spans; null: trainer.max_epochs, recorded as a number at launch
    total_epochs: int | None = setting(None, POSITIVE, on_resume="must_match")


@dataclass
class PlateauConfig:
    _target_: str = _target("plateau")
    factor: float = setting(0.5, in_range(0, 1, low_open=True))  # each reduction's factor
    patience: int = setting(1, NATURAL)  # scored epochs without improvement before one
    min_lr: float = setting(0.0, NON_NEGATIVE)  # the lr never goes below this


@dataclass
class NTASGDConfig:
    _target_: str = _target("ntasgd")
    nonmono: int = setting(5, NATURAL)  # how many recent epochs the trigger ignores


# scheduler._target_ -> its settings' schema
SCHEDULE_CONFIGS = {
    schema._target_: schema
    for schema in (ConstantConfig, StepConfig, CosineConfig, PlateauConfig, NTASGDConfig)
}
# what checkpoints older than `_target_` named their schedule by (scheduler.name)
OLD_NAMES = {
    "none": ConstantConfig._target_,
    "step": StepConfig._target_,
    "cosine": CosineConfig._target_,
    "plateau": PlateauConfig._target_,
    "ntasgd": NTASGDConfig._target_,
}


class Schedule:
    """No schedule: the hooks the loop calls, doing nothing (scheduler=none)."""

    def after_step(self) -> None:
        """After each optimizer step."""

    def after_epoch(self, metrics: dict) -> None:
        """After each epoch; `metrics` holds the objective when the epoch was scored."""

    def evaluation_weights(self, model: nn.Module) -> contextlib.AbstractContextManager:
        """The weights the model is scored with inside the block (the trained ones)."""
        return contextlib.nullcontext()

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class TorchSchedule(Schedule):
    """A torch lr_scheduler stepped per optimizer step (`per_step`) or per epoch."""

    def __init__(self, scheduler, per_step: bool):
        self.scheduler, self.per_step = scheduler, per_step

    def after_step(self) -> None:
        if self.per_step:
            self.scheduler.step()

    def after_epoch(self, metrics: dict) -> None:
        if not self.per_step:
            self.scheduler.step()

    def state_dict(self) -> dict:
        return self.scheduler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.scheduler.load_state_dict(state)


class Plateau(TorchSchedule):
    """ReduceLROnPlateau on the task's objective; epochs that were not scored do not count."""

    def __init__(self, scheduler, objective: str):
        super().__init__(scheduler, per_step=False)
        self.objective = objective

    def after_epoch(self, metrics: dict) -> None:
        if self.objective in metrics:
            self.scheduler.step(metrics[self.objective])


def cosine_factor(
    step: int, warmup_steps: int, total_steps: int, final_lr_fraction: float
) -> float:
    """The lr of optimizer step `step + 1` as a fraction of optim.lr: (step + 1) /
    warmup_steps during the warm-up, then final + (1 - final) (1 + cos(π progress)) / 2
    with progress from 0 (the first step after the warm-up) to 1 (the last step)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps - 1))
    return final_lr_fraction + (1 - final_lr_fraction) * (1 + math.cos(math.pi * progress)) / 2


class NTASGD(Schedule):
    """Non-monotonically triggered averaging of the iterates (see the module docstring)."""

    def __init__(self, model: nn.Module, objective: str, direction: str, nonmono: int):
        self.parameters = dict(model.named_parameters())
        self.objective, self.direction, self.nonmono = objective, direction, nonmono
        self.history: list[float] = []  # the objective of every scored epoch
        self.switch_epoch: int | None = None  # the epoch after which averaging began
        self.epochs = 0
        self.num_averaged = 0
        self.average: dict[str, torch.Tensor] = {}

    def triggered(self, value: float) -> bool:
        """AWD's condition: `value` is worse than the best of the history less its last
        `nonmono` values (so it needs more than `nonmono` values before it)."""
        if len(self.history) <= self.nonmono:
            return False
        earlier = self.history[: -self.nonmono] if self.nonmono else self.history
        if self.direction == "minimize":
            return value > min(earlier)
        return value < max(earlier)

    def after_epoch(self, metrics: dict) -> None:
        self.epochs += 1
        if self.objective not in metrics:
            return
        value = metrics[self.objective]
        if self.switch_epoch is None and self.triggered(value):
            self.switch_epoch = self.epochs
            self.average = {
                name: torch.zeros_like(p, memory_format=torch.contiguous_format)
                for name, p in self.parameters.items()
            }
        self.history.append(value)

    @torch.no_grad()
    def after_step(self) -> None:
        if self.switch_epoch is None:
            return
        self.num_averaged += 1
        for name, average in self.average.items():  # a running mean: exact at every count
            average.add_(self.parameters[name].detach() - average, alpha=1 / self.num_averaged)

    @contextlib.contextmanager
    def evaluation_weights(self, model: nn.Module):
        if not self.num_averaged:
            yield
            return
        trained = {name: p.detach().clone() for name, p in self.parameters.items()}
        with torch.no_grad():
            for name, average in self.average.items():
                self.parameters[name].copy_(average)
        try:
            yield
        finally:
            with torch.no_grad():
                for name, weights in trained.items():
                    self.parameters[name].copy_(weights)

    def state_dict(self) -> dict:
        return {
            "history": list(self.history),
            "switch_epoch": self.switch_epoch,
            "epochs": self.epochs,
            "num_averaged": self.num_averaged,
            "average": dict(self.average),
        }

    def load_state_dict(self, state: dict) -> None:
        self.history, self.switch_epoch = list(state["history"]), state["switch_epoch"]
        self.epochs, self.num_averaged = state["epochs"], state["num_averaged"]
        self.average = {name: value.clone() for name, value in state["average"].items()}


def averaged_weights(model_state: dict, schedule_state: dict | None) -> dict:
    """The weights a checkpoint's model is scored with: its NT-ASGD average in place of the
    trained parameters once averaging has begun, else the trained ones (`model_state`)."""
    if not schedule_state or not schedule_state.get("num_averaged"):
        return model_state
    return {**model_state, **schedule_state["average"]}


def build_schedule(
    scheduler_cfg, optimizer, model: nn.Module, task, steps_per_epoch: int, max_epochs: int
) -> Schedule:
    """The `scheduler` config group's schedule for `optimizer`: the factory its `_target_`
    names, given the run's context (`task` gives the objective and its direction, the step
    counts give cosine its length) and the group's settings."""
    return instantiate(
        scheduler_cfg,
        optimizer=optimizer,
        model=model,
        task=task,
        steps_per_epoch=steps_per_epoch,
        max_epochs=max_epochs,
    )


# The factories: (optimizer, model, task, steps_per_epoch, max_epochs, **settings) -> Schedule


def constant(optimizer, model, task, steps_per_epoch, max_epochs) -> Schedule:
    """scheduler=none: the optimizer's lr throughout."""
    return Schedule()


def step(optimizer, model, task, steps_per_epoch, max_epochs, step_size, gamma) -> Schedule:
    return TorchSchedule(lr_scheduler.StepLR(optimizer, step_size, gamma), per_step=False)


def cosine(
    optimizer,
    model,
    task,
    steps_per_epoch,
    max_epochs,
    warmup_steps,
    final_lr_fraction,
    total_epochs=None,
) -> Schedule:
    total = steps_per_epoch * (total_epochs or max_epochs)
    return TorchSchedule(
        lr_scheduler.LambdaLR(
            optimizer, lambda i: cosine_factor(i, warmup_steps, total, final_lr_fraction)
        ),
        per_step=True,
    )


def plateau(
    optimizer, model, task, steps_per_epoch, max_epochs, factor, patience, min_lr
) -> Schedule:
    mode = "min" if task.objective_direction == "minimize" else "max"
    return Plateau(
        lr_scheduler.ReduceLROnPlateau(
            optimizer, mode=mode, factor=factor, patience=patience, min_lr=min_lr
        ),
        task.objective,
    )


def ntasgd(optimizer, model, task, steps_per_epoch, max_epochs, nonmono) -> Schedule:
    return NTASGD(model, task.objective, task.objective_direction, nonmono)
