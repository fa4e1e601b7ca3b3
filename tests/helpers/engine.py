"""Stand-ins for a task and a logger, to drive the shared loop (`rnnlab.engine.fit`)."""

import torch

from rnnlab.loggers import Logger


class ScriptedTask:
    """A task whose validation objective follows a script, to drive model selection."""

    objective = "val/score"

    def __init__(self, scores, direction="minimize"):
        self.scores = list(scores)
        self.objective_direction = direction
        self.evaluations = 0

    def train_batches(self, epoch):
        return [torch.ones(2, 1)] * 3

    def num_train_batches(self):
        return 3

    def training_loss(self, model, batch, state):
        return model(batch).pow(2).mean(), batch.shape[0], None

    def train_metrics(self, mean_loss):
        return {}

    def evaluate(self, model):
        self.evaluations += 1
        return {"val/score": self.scores[self.evaluations - 1]}

    def log_samples(self, model, logger, epoch):
        pass


class NullLogger(Logger):
    """Logs nothing: the interface's defaults are no-ops."""
