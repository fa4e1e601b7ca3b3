"""The `optim` group: AdamW decays the weights apart from the gradient."""

import torch
from helpers.config import compose_config
from hydra.utils import instantiate


def test_adamw_decays_weights_by_lr_times_weight_decay_whatever_the_gradient():
    cfg = compose_config(["optim=adamw", "optim.lr=0.1", "optim.weight_decay=0.5"])
    weight = torch.nn.Parameter(torch.full((3,), 2.0))
    optimizer = instantiate(cfg.optim, params=[weight])
    assert isinstance(optimizer, torch.optim.AdamW)
    weight.grad = torch.zeros(3)  # no gradient: Adam's step is 0, the decay alone remains
    optimizer.step()
    assert torch.allclose(weight, torch.full((3,), 2.0 * (1 - 0.1 * 0.5)))
    # Adam with the same weight_decay adds it to the gradient, and normalises it away:
    # its step is lr × sign, not lr × decay × w
    adam_weight = torch.nn.Parameter(torch.full((3,), 2.0))
    adam = torch.optim.Adam([adam_weight], lr=0.1, weight_decay=0.5)
    adam_weight.grad = torch.zeros(3)
    adam.step()
    assert torch.allclose(adam_weight, torch.full((3,), 2.0 - 0.1), atol=1e-6)
