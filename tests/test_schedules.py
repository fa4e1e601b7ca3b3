"""The `scheduler` group: each schedule's learning rates follow its formula, NT-ASGD starts
averaging on AWD's condition and is scored with the average, and every schedule survives
a resume exactly."""

import math

import pytest
import torch
from helpers.config import TINY, compose_config
from helpers.engine import NullLogger, ScriptedTask
from omegaconf import OmegaConf

import rnnlab.tasks.lm
import rnnlab.train
from rnnlab.engine import TrainerConfig, fit
from rnnlab.run.checkpoint import LAST, load_checkpoint
from rnnlab.schedules import NTASGD, build_schedule, cosine_factor
from rnnlab.train import train

STEPS_PER_EPOCH = 3  # ScriptedTask's batches


def lrs_per_step(
    scheduler: dict, scores, max_epochs: int, lr: float = 0.1, direction: str = "minimize"
) -> list[list[float]]:
    """The lr of every optimizer step, epoch by epoch, under `scheduler` (ScriptedTask)."""
    task = ScriptedTask(scores, direction)
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    schedule = build_schedule(
        OmegaConf.create(scheduler), optimizer, model, task, STEPS_PER_EPOCH, max_epochs
    )
    seen = []
    optimizer.register_step_pre_hook(
        lambda optimizer, args, kwargs: seen.append(optimizer.param_groups[0]["lr"])
    )
    trainer = OmegaConf.structured(
        TrainerConfig(max_epochs=max_epochs, grad_clip=0.0, log_every_n_steps=1, progress_bar=False)
    )
    fit(task, model, optimizer, trainer, torch.device("cpu"), NullLogger(), schedule=schedule)
    return [seen[i : i + STEPS_PER_EPOCH] for i in range(0, len(seen), STEPS_PER_EPOCH)]


def test_step_multiplies_by_gamma_every_step_size_epochs():
    lrs = lrs_per_step(
        {"_target_": "rnnlab.schedules.step", "step_size": 2, "gamma": 0.5}, [1.0] * 5, 5
    )
    assert [epoch[0] for epoch in lrs] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert all(len(set(epoch)) == 1 for epoch in lrs)  # constant within an epoch


def test_cosine_warms_up_then_decays_to_its_final_fraction():
    lrs = sum(
        lrs_per_step(
            {"_target_": "rnnlab.schedules.cosine", "warmup_steps": 2, "final_lr_fraction": 0.1},
            [1.0] * 3,
            3,
        ),
        [],
    )
    total, decay = 9, 9 - 2 - 1
    expected = [0.1 * (step + 1) / 2 for step in range(2)] + [
        0.1 * (0.1 + 0.9 * (1 + math.cos(math.pi * (step - 2) / decay)) / 2)
        for step in range(2, total)
    ]
    assert lrs == pytest.approx(expected)
    assert lrs[1] == pytest.approx(0.1) and lrs[-1] == pytest.approx(0.01)
    assert cosine_factor(100, 2, 9, 0.1) == pytest.approx(0.1)  # past the end: stays final


@pytest.mark.parametrize(
    ("direction", "scores"),
    [
        ("minimize", [5.0, 4.0, 4.5, 4.2, 3.0, 3.5]),
        ("maximize", [-5.0, -4.0, -4.5, -4.2, -3.0, -3.5]),
    ],
)
def test_plateau_halves_after_patience_epochs_without_improvement(direction, scores):
    lrs = lrs_per_step(
        {"_target_": "rnnlab.schedules.plateau", "factor": 0.5, "patience": 1, "min_lr": 0.0},
        scores,
        6,
        direction=direction,
    )
    # epochs 3 and 4 do not improve on 4.0: after the second (patience 1), lr halves
    assert [epoch[0] for epoch in lrs] == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.05, 0.05])


def test_ntasgd_triggers_when_worse_than_the_best_before_the_last_nonmono():
    schedule = NTASGD(torch.nn.Linear(1, 1), "val/loss", "minimize", nonmono=2)
    for epoch, value in enumerate([5.0, 4.0, 3.0, 3.5, 4.2], start=1):
        schedule.after_epoch({"val/loss": value})
        # epoch 4: 3.5 against min(5) (4.0 and 3.0 are the last two): no trigger;
        # epoch 5: 4.2 against min(5, 4) = 4: trigger
        assert (schedule.switch_epoch is not None) == (epoch == 5)
    assert schedule.switch_epoch == 5
    unscored = NTASGD(torch.nn.Linear(1, 1), "val/loss", "minimize", nonmono=0)
    unscored.after_epoch({})  # an epoch that was not scored changes nothing
    unscored.after_epoch({"val/loss": 1.0})
    unscored.after_epoch({"val/loss": 2.0})
    assert unscored.history == [1.0, 2.0] and unscored.switch_epoch == 3


def test_ntasgd_scores_with_the_mean_of_the_iterates_since_the_switch():
    model = torch.nn.Linear(1, 1, bias=False)
    schedule = NTASGD(model, "val/loss", "minimize", nonmono=0)
    schedule.after_step()  # before the switch: nothing is averaged
    schedule.after_epoch({"val/loss": 1.0})
    schedule.after_epoch({"val/loss": 2.0})  # worse than 1.0: the switch
    iterates = [0.5, 1.5, 4.0]
    for value in iterates:
        model.weight.data.fill_(value)
        schedule.after_step()
    with schedule.evaluation_weights(model):
        assert model.weight.item() == pytest.approx(sum(iterates) / 3)
    assert model.weight.item() == 4.0  # the trained weights are back


def test_ntasgd_state_round_trip_continues_the_same_average():
    def run(steps, schedule=None, model=None):
        model = model or torch.nn.Linear(2, 2)
        schedule = schedule or NTASGD(model, "val/loss", "minimize", nonmono=0)
        for step in steps:
            if step == "epoch":
                schedule.after_epoch({"val/loss": 1.0 + len(schedule.history)})
            else:
                model.weight.data.add_(step)
                schedule.after_step()
        return model, schedule

    torch.manual_seed(0)
    whole_model, whole = run(["epoch", "epoch", 1.0, 2.0, "epoch", 3.0, 4.0])
    torch.manual_seed(0)
    first_model, first = run(["epoch", "epoch", 1.0, 2.0, "epoch"])
    model = torch.nn.Linear(2, 2)
    model.load_state_dict(first_model.state_dict())
    resumed = NTASGD(model, "val/loss", "minimize", nonmono=0)
    resumed.load_state_dict(first.state_dict())
    run([3.0, 4.0], resumed, model)
    assert resumed.state_dict()["history"] == whole.state_dict()["history"]
    for name, average in whole.average.items():
        assert torch.equal(resumed.average[name], average)


@pytest.fixture
def synthetic_book(monkeypatch, tiny_corpus):
    monkeypatch.setattr(
        rnnlab.data.timemachine, "load_timemachine", lambda *args, **kwargs: tiny_corpus
    )
    return tiny_corpus


class Stop(Exception):
    """Raised once epoch 2's checkpoint is on disk: a run that stops there."""


@pytest.mark.slow  # an exhaustive grid: make test runs it, make test-fast does not
@pytest.mark.parametrize(
    "scheduler",
    [
        ["scheduler=step", "scheduler.step_size=1"],
        ["scheduler=cosine", "scheduler.warmup_steps=5", "scheduler.final_lr_fraction=0.1"],
        ["scheduler=plateau", "scheduler.patience=0", "scheduler.factor=0.9"],
        # lr 20 overshoots in epoch 2 (measured): averaging starts there, before the stop
        ["scheduler=ntasgd", "scheduler.nonmono=0", "optim=sgd", "optim.lr=20"],
    ],
)
def test_a_resumed_schedule_equals_an_uninterrupted_one(
    tmp_path, synthetic_book, monkeypatch, scheduler
):
    overrides = TINY + [
        "trainer.max_epochs=4",
        "model.dropout=0.2",
        "model.num_layers=2",
        "data.sampling=random",
        *scheduler,
    ]
    whole = train(compose_config(overrides), tmp_path / "whole", "lstm")
    save = rnnlab.train.save_checkpoint

    def stop_after_epoch_2(path, payload):
        save(path, payload)
        if path.name == LAST and payload["epoch"] == 2:
            raise Stop

    monkeypatch.setattr(rnnlab.train, "save_checkpoint", stop_after_epoch_2)
    with pytest.raises(Stop):
        train(compose_config(overrides), tmp_path / "split", "lstm")
    monkeypatch.setattr(rnnlab.train, "save_checkpoint", save)
    resumed = train(compose_config(overrides + ["trainer.resume=true"]), tmp_path / "split", "lstm")
    timing = ("tokens_per_sec", "seconds")
    assert {k: v for k, v in resumed.items() if not any(t in k for t in timing)} == {
        k: v for k, v in whole.items() if not any(t in k for t in timing)
    }
    a, b = (load_checkpoint(tmp_path / run / LAST) for run in ("whole", "split"))
    assert a["optimizer"]["param_groups"][0]["lr"] == b["optimizer"]["param_groups"][0]["lr"]
    assert a["scheduler"].keys() == b["scheduler"].keys() and a["scheduler"]
    for name, weight in a["model"].items():
        assert torch.equal(weight, b["model"][name]), name
    if "ntasgd" in scheduler[0]:
        assert b["scheduler"]["switch_epoch"] == 2 and b["scheduler"]["num_averaged"] > 0
        for name, average in a["scheduler"]["average"].items():
            assert torch.equal(average, b["scheduler"]["average"][name]), name
