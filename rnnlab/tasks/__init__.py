"""Tasks: what differs between language modelling, translation and classification.

Each task is a `rnnlab.tasks.base.Task` (the contract and its defaults); the training loop
(`rnnlab.engine.fit`) is shared. A new task is its module here and one entry below.
"""

from omegaconf import OmegaConf

from rnnlab.tasks.base import Task
from rnnlab.tasks.lm import LanguageModelTask
from rnnlab.tasks.sentiment import SentimentTask
from rnnlab.tasks.seq2seq import Seq2SeqTask

TASKS: dict[str, type[Task]] = {
    task.name: task for task in (LanguageModelTask, Seq2SeqTask, SentimentTask)
}

# `${objective_direction:${task.name}}` in a config (the Optuna sweeper's `direction`)
# reads the task's own, so the direction has one home.
OmegaConf.register_new_resolver(
    "objective_direction", lambda name: TASKS[name].objective_direction, replace=True
)


def build_task(cfg) -> Task:
    """The task named by `cfg.task.name` (checked by `rnnlab.config.run_config`), given
    the whole run config."""
    return TASKS[cfg.task.name](cfg)
