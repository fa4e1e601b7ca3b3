"""Dynamic evaluation and the neural cache (rnnlab/inference/adaptive.py): off they are
the model's own loss, the cache's probabilities are the formula's on a hand-worked case,
neither ever reads a token before scoring it, and the trained model is left as it was."""

import logging
import math

import pytest
import torch
from helpers.config import TINY, compose_config
from torch.nn import functional as F

from rnnlab.inference.adaptive import NeuralCache, adaptive_nll, adaptive_nlls
from rnnlab.models.lm import RNNLM
from rnnlab.models.recurrent import recurrent_stack
from rnnlab.models.state import detach_state
from rnnlab.train import train

VOCAB = 11


def small_lm(seed: int = 0) -> RNNLM:
    torch.manual_seed(seed)
    return RNNLM(VOCAB, recurrent_stack("lstm", "nn", 8, 16, num_layers=2), embed_size=8).eval()


def stream(length: int = 61, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, VOCAB, (length,), generator=torch.Generator().manual_seed(seed))


def test_with_both_off_it_is_the_models_loss_at_batch_one():
    model, tokens = small_lm(), stream()
    expected, state = [], None
    with torch.no_grad():
        for start in range(0, len(tokens) - 1, 7):
            Y = tokens[start + 1 : start + 8]
            logits, state = model(tokens[start : start + len(Y)][None], state)
            expected.append(F.cross_entropy(logits[0], Y, reduction="none"))
            state = detach_state(state)
    torch.testing.assert_close(adaptive_nlls(model, tokens, 7), torch.cat(expected))


def test_the_cache_mixes_in_the_formulas_probabilities():
    theta, mix = 2.0, 0.25
    cache = NeuralCache(size=2, theta=theta, mix=mix)
    uniform = torch.full((2, 3), math.log(1 / 3))
    first = cache.score(uniform, torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1]))
    # position 0 sees nothing; position 1 sees (h=[1, 0], next token 0): token 1 gets 0
    torch.testing.assert_close(first, torch.tensor([math.log(3), -math.log((1 - mix) / 3)]))
    second = cache.score(uniform[:1], torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
    # sees both: scores theta*1 (token 0) and theta*0 (token 1)
    p_cache = math.exp(theta) / (math.exp(theta) + 1)
    torch.testing.assert_close(second, torch.tensor([-math.log((1 - mix) / 3 + mix * p_cache)]))


def test_the_cache_forgets_what_is_older_than_its_size():
    cache = NeuralCache(size=1, theta=1.0, mix=0.5)
    uniform = torch.full((2, 3), math.log(1 / 3))
    cache.score(uniform, torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1]))
    # only the last pair (next token 1) is left, so token 0 gets nothing from the cache
    got = cache.score(uniform[:1], torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
    torch.testing.assert_close(got, torch.tensor([-math.log(0.5 / 3)]))


def test_the_cache_window_holds_within_a_segment():
    cache = NeuralCache(size=1, theta=1.0, mix=0.5)
    uniform = torch.full((3, 3), math.log(1 / 3))
    outputs = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    got = cache.score(uniform, outputs, torch.tensor([0, 1, 0]))
    # position 2 sees only position 1 (next token 1), not position 0 (next token 0)
    torch.testing.assert_close(got[2], torch.tensor(-math.log(0.5 / 3)))
    torch.testing.assert_close(got[1], torch.tensor(-math.log(0.5 / 3 + 0)))


def test_the_mixture_stays_finite_when_the_model_gives_a_token_nothing():
    cache = NeuralCache(size=4, theta=1.0, mix=0.1)
    log_probs = torch.tensor([[0.0, -1e4], [0.0, -1e4]])  # token 1: p_model = e^-10000 = 0
    got = cache.score(log_probs, torch.ones(2, 2), torch.tensor([1, 1]))
    assert got[0] == 1e4  # nothing cached yet: the model's own
    torch.testing.assert_close(got[1], torch.tensor(-math.log(0.1)))  # all from the cache


@pytest.mark.parametrize(
    "settings",
    [
        {"dynamic_lr": 0.5, "grad_clip": 1.0},
        {"cache_size": 20, "cache_theta": 0.5},
        {"dynamic_lr": 0.5, "cache_size": 20},
    ],
)
def test_no_token_is_read_before_it_is_scored(settings):
    model, tokens = small_lm(), stream()
    changed = tokens.clone()
    changed[30] = (changed[30] + 1) % VOCAB
    before = adaptive_nlls(model, tokens, 7, **settings)
    after = adaptive_nlls(model, changed, 7, **settings)
    # target j is tokens[j + 1]: every target up to and including token 30 is as it was
    torch.testing.assert_close(after[:29], before[:29], rtol=0, atol=0)
    assert not torch.equal(after[29:], before[29:])


def test_dynamic_evaluation_adapts_a_copy_and_leaves_the_model_as_it_was():
    model = small_lm().train()
    weights = {name: value.clone() for name, value in model.state_dict().items()}
    tokens = torch.arange(5).repeat(30)  # a pattern the first segments teach
    static = adaptive_nll(model, tokens, 10)
    dynamic = adaptive_nll(model, tokens, 10, dynamic_lr=1.0)
    assert dynamic < 0.9 * static  # 2.35 → 1.94 nats
    for name, value in model.state_dict().items():
        assert torch.equal(value, weights[name]), name
    assert model.training  # as it was


def test_a_run_reports_the_adaptive_perplexity_beside_the_stream_one(tmp_path, synthetic_book):
    metrics = train(
        compose_config(TINY + ["eval.dynamic_lr=0.5", "eval.cache_size=50"]), tmp_path, "lstm"
    )
    assert metrics["val_adaptive_perplexity"] > 1 and metrics["val_stream_perplexity"] > 1
    assert metrics["val_adaptive_perplexity"] != metrics["val_stream_perplexity"]
    assert "val_stream_perplexity" not in train(compose_config(TINY), tmp_path / "off", "lstm")


def test_a_diverged_adaptive_reading_is_warned_about_naming_the_setting(
    tmp_path, synthetic_book, caplog
):
    """Issue 31: eval.dynamic_lr=1e10 ended with val_adaptive_perplexity null, status
    finished and no word about it. Training was fine, so the run stays finished."""
    with caplog.at_level(logging.WARNING):
        cfg = compose_config([*TINY, "trainer.max_epochs=1", "eval.dynamic_lr=1e10"])
        metrics = train(cfg, tmp_path, "lstm")
    assert metrics["status"] == "finished" and math.isfinite(metrics["val_stream_perplexity"])
    assert not math.isfinite(metrics["val_adaptive_perplexity"])
    [warning] = [r.getMessage() for r in caplog.records if "adaptive" in r.getMessage()]
    assert warning.startswith("the adaptive perplexity is ") and "eval.dynamic_lr=1e+10" in warning
