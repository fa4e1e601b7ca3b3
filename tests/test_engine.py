"""The shared loop's model selection: best-epoch tracking and early stopping."""

import math

import pytest
import torch
from helpers.engine import NullLogger, ScriptedTask
from omegaconf import OmegaConf

from rnnlab.engine import TrainerConfig, fit, improves


def run(task, max_epochs, patience=None, best=(None, None)):
    trainer = trainer_config(
        {
            "max_epochs": max_epochs,
            "grad_clip": 1.0,
            "log_every_n_steps": 1,
            "progress_bar": False,
            "early_stopping_patience": patience,
        }
    )
    seen = []
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = fit(
        task,
        model,
        optimizer,
        trainer,
        torch.device("cpu"),
        NullLogger(),
        on_epoch_end=lambda epoch, progress: seen.append((epoch, progress.best_epoch)),
        best=best,
    )
    return result, seen


@pytest.mark.parametrize(
    ("value", "best", "direction", "expected"),
    [
        (2.0, None, "minimize", True),
        (2.0, 3.0, "minimize", True),
        (3.0, 3.0, "minimize", False),
        (4.0, 3.0, "maximize", True),
        (2.0, 3.0, "maximize", False),
        (math.nan, None, "minimize", False),
        (math.inf, 3.0, "maximize", False),
    ],
)
def test_improves(value, best, direction, expected):
    assert improves(value, best, direction) is expected


def test_improves_rejects_an_unknown_direction():
    with pytest.raises(ValueError, match="'up'"):
        improves(1.0, None, "up")


def test_fit_tracks_the_best_epoch_and_tells_the_checkpoint_hook():
    result, seen = run(ScriptedTask([3.0, 2.0, 2.5, 1.5]), max_epochs=4)
    assert (result.best_epoch, result.best_value, result.epochs) == (4, 1.5, 4)
    assert seen == [(1, 1), (2, 2), (3, 2), (4, 4)]


def test_fit_maximizes_when_the_task_says_so():
    result, _ = run(ScriptedTask([0.5, 0.9, 0.7], direction="maximize"), max_epochs=3)
    assert (result.best_epoch, result.best_value) == (2, 0.9)


def test_early_stopping_after_patience_epochs_without_improvement():
    task = ScriptedTask([3.0, 2.0, 2.5, 2.6, 2.7, 1.0])
    result, _ = run(task, max_epochs=6, patience=2)
    assert (result.epochs, result.best_epoch, task.evaluations) == (4, 2, 4)


def test_a_resumed_fit_keeps_the_best_so_far():
    result, _ = run(ScriptedTask([2.5, 1.9]), max_epochs=2, best=(1, 2.0))
    assert (result.best_epoch, result.best_value) == (2, 1.9)
    result, _ = run(ScriptedTask([2.5, 2.4]), max_epochs=2, best=(1, 2.0))
    assert (result.best_epoch, result.best_value) == (1, 2.0)


def test_namespace_trainer_config_without_patience_key():
    """Older configs (and plain namespaces) without the key mean no early stopping."""
    trainer = trainer_config(
        {"max_epochs": 2, "grad_clip": 0.0, "log_every_n_steps": 5, "progress_bar": False}
    )
    model = torch.nn.Linear(1, 1)
    result = fit(
        ScriptedTask([1.0, 2.0]),
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        trainer,
        torch.device("cpu"),
        NullLogger(),
    )
    assert (result.epochs, result.best_epoch) == (2, 1)


@pytest.mark.parametrize(
    ("every", "max_epochs", "evaluated"),
    [
        (1, 3, [1, 2, 3]),
        (2, 5, [2, 4, 5]),
        (50, 120, [50, 100, 120]),
        (10, 10, [10]),
    ],
)
def test_val_every_n_epochs_scores_every_nth_and_the_last_epoch(every, max_epochs, evaluated):
    task = ScriptedTask([3.0 - 0.01 * k for k in range(max_epochs)])
    trainer = trainer_config(
        {
            "max_epochs": max_epochs,
            "grad_clip": 1.0,
            "log_every_n_steps": 1,
            "progress_bar": False,
            "val_every_n_epochs": every,
        }
    )
    logged = []

    class RecordingLogger(NullLogger):
        def scalars(self, metrics, step):
            logged.append((step, "val/score" in metrics))

    model = torch.nn.Linear(1, 1)
    result = fit(
        task,
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        trainer,
        torch.device("cpu"),
        RecordingLogger(),
    )
    assert [step for step, has_val in logged if has_val] == evaluated
    assert len(logged) == max_epochs  # training metrics every epoch
    assert task.evaluations == len(evaluated)
    assert result.best_epoch == evaluated[-1]  # only scored epochs can be the best
    assert "val/score" in result.last_metrics  # a run always ends scored


def trainer_config(values: dict):
    """The loop's typed config holding `values` (the rest at its defaults)."""
    return OmegaConf.structured(TrainerConfig(**values))
