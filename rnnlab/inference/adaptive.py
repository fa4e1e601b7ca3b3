"""A language model scored on held-out text while it reads it: dynamic evaluation and the
neural cache, each off by default (`eval.dynamic_lr`, `eval.cache_size`).

Both are causal, so the perplexity stays honest: every token is scored before anything
about it is used.
- **Dynamic evaluation** (Krause et al., 2018): the text is read one `num_steps` segment
  at a time (one stream, batch 1); after a segment is scored, one SGD step on its
  cross-entropy (gradient clipped as in training) adapts a copy of the model to it, so
  names and topics of the earlier held-out text help predict the later.
- **Neural cache** (Grave et al., 2017): the last layer's output h_t also looks up the
  `cache_size` previous outputs h_i and the tokens that followed them:
  p_cache(w) ∝ Σ_{i < t, x_{i+1} = w} exp(theta · h_t · h_i), mixed in as
  p = (1 - lambda) p_model + lambda p_cache.

The trained model is left untouched (dynamic evaluation updates a copy).
"""

import contextlib
import copy
import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnlab.config.schema import GREATER_THAN_ZERO, NATURAL, NON_NEGATIVE, in_range, setting
from rnnlab.models.modes import evaluating
from rnnlab.models.state import detach_state


@dataclass
class AdaptiveEvalConfig:
    """The language model's `eval` group: the held-out text read once more at the end by a
    model that adapts as it reads (causal: each token is scored before it is used); 0
    turns each off. Scored at the end only, so a resumed run may change them."""

    dynamic_lr: float = setting(
        0.0, NON_NEGATIVE, on_resume="free"
    )  # dynamic evaluation's SGD lr per segment
    cache_size: int = setting(
        0, NATURAL, on_resume="free"
    )  # neural cache: the previous outputs looked up
    cache_theta: float = setting(
        1.0, GREATER_THAN_ZERO, on_resume="free"
    )  # the cache softmax's sharpness
    cache_lambda: float = setting(
        0.1, in_range(0, 1, low_open=True), on_resume="free"
    )  # the cache's share


def adaptive_nll(model: nn.Module, tokens: Tensor, num_steps: int, **settings) -> float:
    """Mean negative log-likelihood (nats) of `tokens` (see `adaptive_nlls`)."""
    return adaptive_nlls(model, tokens, num_steps, **settings).mean().item()


def adaptive_nlls(
    model: nn.Module,
    tokens: Tensor,
    num_steps: int,
    *,
    dynamic_lr: float = 0.0,
    grad_clip: float = 0.0,
    cache_size: int = 0,
    cache_theta: float = 1.0,
    cache_lambda: float = 0.1,
) -> Tensor:
    """Negative log-likelihood (nats) of each of tokens[1:] given the tokens before it,
    (len(tokens) - 1,), under `model` (an `RNNLM`) reading `tokens` (1-D ids, one stream)
    `num_steps` at a time: with dynamic evaluation when `dynamic_lr` > 0 and the neural
    cache when `cache_size` > 0; with both off, the model's plain loss at batch 1."""
    reader = copy.deepcopy(model) if dynamic_lr > 0 else model
    optimizer = torch.optim.SGD(reader.parameters(), lr=dynamic_lr) if dynamic_lr > 0 else None
    cache = NeuralCache(cache_size, cache_theta, cache_lambda)
    nlls, state = [], None
    # cuDNN's RNN backward runs in training mode only; the reader stays in eval mode (no
    # dropout), so on CUDA its updates go through PyTorch's own RNN kernels
    no_cudnn = (
        torch.backends.cudnn.flags(enabled=False)
        if optimizer is not None
        else contextlib.nullcontext()
    )
    with evaluating(reader), torch.set_grad_enabled(optimizer is not None), no_cudnn:
        for start in range(0, len(tokens) - 1, num_steps):
            X = tokens[start : start + num_steps][None]
            Y = tokens[start + 1 : start + 1 + num_steps]
            X = X[:, : len(Y)]
            logits, state, (_, outputs) = reader.forward_with_activations(X, state)
            log_probs = F.log_softmax(logits[0].float(), dim=-1)  # (T, vocab)
            loss = F.nll_loss(log_probs, Y)
            nlls.append(cache.score(log_probs.detach(), outputs[:, 0].detach(), Y))
            if optimizer is not None:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if grad_clip > 0:
                    nn.utils.clip_grad_norm_(reader.parameters(), grad_clip)
                optimizer.step()
            state = detach_state(state)
    return torch.cat(nlls)


class NeuralCache:
    """The last `size` (h_i, x_{i+1}) pairs of the stream read so far; `size` 0: off."""

    def __init__(self, size: int, theta: float, mix: float):
        if size > 0 and not 0 < mix < 1:
            raise ValueError(f"the cache's share mix={mix} must be in (0, 1)")
        self.size, self.theta, self.mix = size, theta, mix
        self.keys: Tensor | None = None  # (n, width) outputs h_i
        self.values: Tensor | None = None  # (n,) the token that followed each

    def score(self, log_probs: Tensor, outputs: Tensor, targets: Tensor) -> Tensor:
        """Per-position NLL (T,) of `targets` under the model's `log_probs` (T, vocab)
        mixed with the cache, for a segment with last-layer `outputs` (T, width); then the
        segment joins the cache."""
        model_nll = -log_probs.gather(1, targets[:, None])[:, 0]
        if self.size == 0:
            return model_nll
        keys = outputs if self.keys is None else torch.cat([self.keys, outputs])
        values = targets if self.values is None else torch.cat([self.values, targets])
        past = len(keys) - len(targets)  # positions before this segment
        position = past + torch.arange(len(targets), device=keys.device)[:, None]
        index = torch.arange(len(keys), device=keys.device)[None, :]
        visible = (index < position) & (index >= position - self.size)  # (T, n)
        scores = (self.theta * outputs @ keys.T).masked_fill(~visible, -math.inf)
        weights = torch.softmax(scores, dim=1).nan_to_num(0.0)  # a row with nothing visible: 0
        cache_probs = (weights * (values[None, :] == targets[:, None])).sum(1)
        has_cache = visible.any(1)
        # log((1 - mix) p_model + mix p_cache), finite however small p_model is
        mixed = torch.logaddexp(
            math.log1p(-self.mix) - model_nll, math.log(self.mix) + torch.log(cache_probs)
        )
        self.keys, self.values = keys[-self.size :], values[-self.size :]
        return torch.where(has_cache, -mixed, model_nll)
