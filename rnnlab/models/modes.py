"""Evaluation mode for a block of code, the model's own mode restored after it."""

import contextlib

import torch
from torch import nn


@contextlib.contextmanager
def evaluating(model: nn.Module):
    """Eval mode (no dropout) and no gradients inside the block; the model's train/eval
    mode afterwards is what it was before, so evaluating mid-training changes nothing."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)
