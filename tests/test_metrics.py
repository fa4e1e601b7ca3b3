import math

import pytest
import torch
from torch.nn import functional as F

from rnnlab.engine import clip_gradients
from rnnlab.metrics import perplexity


def test_perplexity_of_uniform_guess_is_vocabulary_size():
    logits = torch.zeros(10, 4)  # uniform over 4 tokens
    targets = torch.randint(4, (10,))
    assert perplexity(F.cross_entropy(logits, targets).item()) == pytest.approx(4.0)


def test_perplexity_of_half_sure_model_is_two():
    # p(correct) = 0.5 at every token: mean CE = ln 2, perplexity = 2
    probs = torch.tensor([[0.5, 0.25, 0.25], [0.25, 0.5, 0.25]])
    loss = F.nll_loss(probs.log(), torch.tensor([0, 1])).item()
    assert loss == pytest.approx(math.log(2))
    assert perplexity(loss) == pytest.approx(2.0)


def test_perplexity_overflow_is_inf():
    assert perplexity(1e6) == math.inf
    assert perplexity(0.0) == 1.0


def _params_with_grads(*grads):
    params = []
    for grad in grads:
        p = torch.zeros(len(grad), requires_grad=True)
        p.grad = torch.tensor(grad)
        params.append(p)
    return params


def test_clipping_rescales_global_norm():
    # global norm of (3) and (4) is 5; clipped to 1 → (0.6) and (0.8)
    a, b = _params_with_grads([3.0], [4.0])
    assert clip_gradients([a, b], max_norm=1.0).item() == pytest.approx(5.0)  # before clipping
    assert a.grad.tolist() == pytest.approx([0.6])
    assert b.grad.tolist() == pytest.approx([0.8])


def test_clipping_leaves_small_gradients_and_zero_disables():
    a, b = _params_with_grads([0.3], [0.4])
    clip_gradients([a, b], max_norm=1.0)
    assert a.grad.tolist() == pytest.approx([0.3])
    c, d = _params_with_grads([30.0], [40.0])
    assert clip_gradients([c, d], max_norm=0).item() == pytest.approx(50.0)  # still measured
    assert d.grad.tolist() == pytest.approx([40.0])
