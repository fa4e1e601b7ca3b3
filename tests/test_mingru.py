"""minGRU and minLSTM: the blocked parallel scan, the log-space scan and the fused loop
equal the step-by-step equations (values and gradients, in float64), stay finite where
the closed-form product does not,
carries state across windows, generates as its parallel forward predicts, trains in
every task and refuses the settings it has no use for."""

import random

import pytest
import torch
from helpers.config import TINY, compose_config
from helpers.sentiment import SMALL
from helpers.seq2seq import reverse_corpus

import rnnlab.tasks.lm
import rnnlab.tasks.seq2seq
from rnnlab.errors import RnnlabError
from rnnlab.inference.generation import continue_text
from rnnlab.models.cells import CELLS
from rnnlab.models.linear_recurrence import blocked_scan
from rnnlab.models.lm import build_lm
from rnnlab.models.recurrent import build_recurrent, recurrent_stack
from rnnlab.train import train

MINIMAL = ["mingru", "minlstm"]
FAST_MODES = ("parallel", "log", "fused")  # each against "sequential"


def twin_stacks(cell, input_size, num_hiddens, num_layers, bidirectional, mode):
    """(`mode`, sequential) stacks of `cell` with the same float64 weights."""
    fast = recurrent_stack(
        cell, "scratch", input_size, num_hiddens, num_layers, bidirectional, mode=mode
    ).double()
    sequential = recurrent_stack(
        cell, "scratch", input_size, num_hiddens, num_layers, bidirectional, mode="sequential"
    ).double()
    sequential.load_state_dict(fast.state_dict())
    return fast, sequential


def outputs_and_grads(stack, X, h0, mask, weights):
    """Outputs, final state and the gradients of a random projection of both with respect
    to X, h0 and every parameter."""
    X, h0 = X.clone().requires_grad_(), h0.clone().requires_grad_()
    Y, H = stack(X, h0, mask=mask)
    loss = (Y * weights[0]).sum() + (H * weights[1]).sum()
    grads = torch.autograd.grad(loss, [X, h0, *stack.parameters()])
    return Y.detach(), H.detach(), grads


@pytest.mark.parametrize("mode", FAST_MODES)
@pytest.mark.parametrize("cell", MINIMAL)
@pytest.mark.parametrize("seed", range(4))
def test_every_mode_equals_sequential_in_float64(cell, seed, mode):
    rng = random.Random(seed)
    T, B = rng.randint(1, 40), rng.randint(1, 5)
    n, d, layers = rng.randint(1, 9), rng.randint(1, 6), rng.randint(1, 3)
    bidirectional = seed % 2 == 1
    torch.manual_seed(seed)
    parallel, sequential = twin_stacks(cell, d, n, layers, bidirectional, mode)
    rows = layers * (2 if bidirectional else 1)
    X = torch.randn(T, B, d, dtype=torch.float64) * 3
    h0 = torch.randn(rows, B, n, dtype=torch.float64)  # a carried state, of any sign
    lengths = torch.randint(1, T + 1, (B,))
    mask = torch.arange(T).unsqueeze(1) < lengths if seed >= 2 else None
    width = (2 if bidirectional else 1) * n
    weights = (torch.randn(T, B, width, dtype=torch.float64), torch.randn(rows, B, n).double())
    Y_p, H_p, grads_p = outputs_and_grads(parallel, X, h0, mask, weights)
    Y_s, H_s, grads_s = outputs_and_grads(sequential, X, h0, mask, weights)
    torch.testing.assert_close(Y_p, Y_s, rtol=0, atol=1e-10)
    torch.testing.assert_close(H_p, H_s, rtol=0, atol=1e-10)
    for grad_p, grad_s in zip(grads_p, grads_s, strict=True):
        torch.testing.assert_close(grad_p, grad_s, rtol=0, atol=1e-10)
    if mask is not None:
        assert (Y_p[~mask] == 0).all()  # padded steps output zeros


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("chunk", [None, 1, 3, 7, 64])
def test_the_blocked_scan_equals_the_step_loop(chunk, reverse):
    """Every block length, windows that are and are not a multiple of it (the leftover
    steps: the last ones, or the first ones in reverse), shorter ones than a block."""
    for T in (1, 2, 5, 21, 64, 100):
        a = torch.rand(T, 2, 3, dtype=torch.float64)
        b, h0 = torch.randn(T, 2, 3, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
        expected, h = torch.empty_like(b), h0
        for t in range(T - 1, -1, -1) if reverse else range(T):
            h = expected[t] = a[t] * h + b[t]
        got = blocked_scan(a, b, h0, reverse=reverse, chunk=chunk)
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("mode", FAST_MODES)
@pytest.mark.parametrize("cell", MINIMAL)
def test_the_state_carries_across_windows(cell, mode):
    torch.manual_seed(0)
    stack = recurrent_stack(cell, "scratch", 3, 5, num_layers=2, mode=mode).double()
    X = torch.randn(30, 2, 3, dtype=torch.float64)
    whole, H = stack(X)
    first, carried = stack(X[:11])
    second, H_split = stack(X[11:], carried)
    torch.testing.assert_close(torch.cat([first, second]), whole, rtol=0, atol=1e-12)
    torch.testing.assert_close(H_split, H, rtol=0, atol=1e-12)


@pytest.mark.parametrize("gates", ["near 1", "near 0", "mixed"])
def test_the_scan_stays_finite_over_4096_steps_where_the_product_underflows(gates):
    """Update gates z ≈ 1 make a = 1 − z ≈ 2e-9, so A_t = a_1 ⋯ a_t is 0 in float32 after
    five steps and the closed form h_t = A_t (h_0 + Σ b_s / A_s) is 0 · inf; z ≈ 0 keeps
    a ≈ 1 over the whole window. Every mode follows the steps; the blocked scan and the
    loop, which never take logarithms, to float32's digits in values and gradients."""
    T, B, n = 4096, 2, 3
    torch.manual_seed(0)
    parallel, sequential, log, fused = (
        recurrent_stack("mingru", "scratch", 1, n, mode=m)
        for m in ("parallel", "sequential", "log", "fused")
    )
    sign = {"near 1": torch.ones(T, B, 1), "near 0": -torch.ones(T, B, 1)}.get(
        gates, torch.randn(T, B, 1).sign()
    )
    X = (sign * 20).requires_grad_()
    for stack in (parallel, sequential, log, fused):
        stack.load_state_dict(parallel.state_dict())
        with torch.no_grad():
            stack.weights[0].W_x[:, :n] = 1.0  # the update gate's pre-activation: ±20
            stack.weights[0].b_x[:n] = 0.0
    expected, _ = sequential(X)
    (expected_grad,) = torch.autograd.grad(expected.sum(), X)
    for stack, rtol in ((parallel, 1e-5), (fused, 1e-5), (log, 1e-3)):
        Y, _ = stack(X)
        (grad,) = torch.autograd.grad(Y.sum(), X)
        assert torch.isfinite(Y).all() and torch.isfinite(grad).all()
        torch.testing.assert_close(Y, expected, rtol=rtol, atol=rtol / 10)
        if stack is not log:  # its gradients pass through logcumsumexp's cancellations
            torch.testing.assert_close(grad, expected_grad, rtol=rtol, atol=rtol / 10)
    XW = (X @ parallel.weights[0].W_x + parallel.weights[0].b_x).detach()
    k, candidate = XW[..., :n], XW[..., n:]
    a, b = (
        torch.sigmoid(-k),
        torch.sigmoid(k) * torch.where(candidate >= 0, candidate + 0.5, torch.sigmoid(candidate)),
    )
    A = torch.cumprod(a, dim=0)
    naive = A * torch.cumsum(b / A, dim=0)
    if gates != "near 0":
        assert (A[-1] == 0).all() and not torch.isfinite(naive).all()


@pytest.fixture
def synthetic_book(monkeypatch, tiny_corpus):
    monkeypatch.setattr(
        rnnlab.data.timemachine, "load_timemachine", lambda *args, **kwargs: tiny_corpus
    )
    return tiny_corpus


@pytest.mark.parametrize("cell", MINIMAL)
def test_the_minimal_cells_are_registered_and_compose(cell):
    assert cell in CELLS
    for task in ("lm", "seq2seq", "sentiment"):
        cfg = compose_config([f"task={task}", f"model={cell}"])
        assert cfg.model.cell == cell and cfg.model.mode is None  # the cell's: parallel


@pytest.mark.parametrize("cell", MINIMAL)
def test_a_tiny_lm_trains(tmp_path, synthetic_book, cell):
    overrides = [*TINY, f"model={cell}", "model.dropout=0.1", "trainer.max_epochs=2"]
    metrics = train(compose_config(overrides), tmp_path, cell)
    assert metrics["status"] == "finished"
    assert 1.0 < metrics["val_perplexity"] < len(synthetic_book.vocab)


@pytest.mark.parametrize("block", ["plain", "paper"])
@pytest.mark.parametrize("cell", MINIMAL)
def test_a_tiny_seq2seq_with_attention_trains(tmp_path, monkeypatch, cell, block):
    corpus = reverse_corpus(300)
    monkeypatch.setattr(rnnlab.data.fra_eng, "load_fra_eng", lambda *args: corpus)
    overrides = [
        "task=seq2seq",
        f"model={cell}",
        "model.attention=bahdanau",
        f"model.block={block}",
        *(["model.dropout=0"] if block == "plain" else []),  # between layers: one has none
        "model.bidirectional=true",
        "model.num_hiddens=16",
        "model.embed_size=8",
        "model.num_layers=1",
        "data.batch_size=32",
        "data.num_steps=7",
        "trainer.max_epochs=1",
        "trainer.progress_bar=false",
        "eval.beam_size=2",
    ]
    metrics = train(compose_config(overrides), tmp_path, cell)
    assert metrics["status"] == "finished"


@pytest.mark.parametrize("block", ["plain", "paper"])
@pytest.mark.parametrize("cell", MINIMAL)
def test_a_tiny_bidirectional_sentiment_model_learns(tmp_path, synthetic_imdb, cell, block):  # noqa: F811
    overrides = [
        *SMALL,
        f"model={cell}",
        "model.bidirectional=true",
        f"model.block={block}",
        "model.pooling=max+mean",
        "trainer.keep_best=false",
    ]
    metrics = train(compose_config(overrides), tmp_path, cell)
    assert metrics["test_accuracy"] >= 0.9


def test_generation_matches_the_parallel_forward_at_every_step(tiny_corpus):
    torch.manual_seed(0)
    cfg = compose_config([*TINY, "model=mingru", "model.num_layers=2"]).model
    model = build_lm(len(tiny_corpus.vocab), cfg).double().eval()
    prefix = list("the time")
    generated = continue_text(model, tiny_corpus.vocab, prefix, num_preds=12)
    ids = torch.tensor([tiny_corpus.vocab[prefix + generated]])
    with torch.no_grad():
        logits, _ = model(ids)  # one parallel scan over the whole text
        state, stepped = None, []
        for t in range(ids.shape[1]):  # one step at a time, as generation feeds it
            step_logits, state = model(ids[:, t : t + 1], state)
            stepped.append(step_logits[0, 0])
    torch.testing.assert_close(
        torch.softmax(torch.stack(stepped), -1), torch.softmax(logits[0], -1), rtol=0, atol=1e-10
    )
    greedy = logits[0, len(prefix) - 1 : -1].argmax(-1)
    assert tiny_corpus.vocab.to_tokens(greedy.tolist()) == generated


@pytest.mark.parametrize(
    ("cell", "override", "fragment"),
    [
        ("mingru", "model.weight_drop=0.3", "model.weight_drop=0.3 does not apply"),
        ("minlstm", "model.recurrent_dropout=0.2", "model.recurrent_dropout=0.2 does not apply"),
        ("mingru", "model.bptt=autograd", "model.bptt='autograd' does not apply"),
        ("mingru", "model.forget_bias=1.0", "model.forget_bias=1.0"),
        (
            "minlstm",
            "model.mode=scan",
            "model.mode='scan' is not one of: parallel, log, fused, sequential",
        ),
        ("minlstm", "model.impl=nn", "has no PyTorch module"),
        ("gru", "model.mode=parallel", "model.mode='parallel' is for the minimal cells"),
        ("gru", "model.block=paper", "model.block='paper' is for the minimal cells"),
        ("mingru", "model.block=deep", "model.block='deep' is not one of: plain, paper"),
        ("minlstm", "model.block=paper model.residual=true", "model.residual=True would act"),
    ],
)
def test_settings_that_do_not_apply_are_refused_in_one_line(
    tmp_path, synthetic_book, cell, override, fragment
):
    with pytest.raises(RnnlabError) as error:
        train(compose_config([*TINY, f"model={cell}", *override.split()]), tmp_path, cell)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_minlstm_takes_a_forget_bias():
    cfg = compose_config(["model=minlstm", "model.forget_bias=2.0", "model.num_hiddens=4"]).model
    stack = build_recurrent(cfg, 3)
    for w in stack.weights:
        assert (w.b_x[:4] == 2.0).all() and (w.b_x[4:].abs() <= 0.5).all()


@pytest.mark.parametrize("cell", MINIMAL)
def test_the_paper_block_runs_parallel_as_sequential_and_zeroes_padding(cell):
    mask = torch.arange(9).unsqueeze(1) < torch.tensor([9, 4, 1])
    X = torch.randn(9, 3, 6, dtype=torch.float64)
    results = []
    for mode in ("parallel", "sequential"):
        overrides = [f"model={cell}", "model.block=paper", "model.num_hiddens=3"]
        cfg = compose_config([*overrides, "model.bidirectional=true", f"model.mode={mode}"])
        torch.manual_seed(0)
        stack = build_recurrent(cfg.model, 6).double().eval()
        results.append(stack(X, mask=mask))
    (Y_p, H_p), (Y_s, H_s) = results
    torch.testing.assert_close(Y_p, Y_s, rtol=0, atol=1e-10)
    torch.testing.assert_close(H_p, H_s, rtol=0, atol=1e-10)
    assert Y_p.shape == (9, 3, 6) and (Y_p[~mask] == 0).all()


def test_a_tiny_lm_of_paper_blocks_trains(tmp_path, synthetic_book):
    overrides = [*TINY, "model=mingru", "model.block=paper", "model.embed_size=16"]
    metrics = train(compose_config([*overrides, "trainer.max_epochs=2"]), tmp_path, "mingru")
    assert metrics["status"] == "finished"
    assert 1.0 < metrics["val_perplexity"] < len(synthetic_book.vocab)
