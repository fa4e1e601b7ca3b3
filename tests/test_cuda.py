"""The CUDA path, on a real GPU: scratch cells equal cuDNN's, every task trains in bf16 and
fp16, a resumed run equals an uninterrupted one, and the hot loop never waits for the GPU.

Skipped without a CUDA device, so CI (CPU only) skips them all; on a GPU machine run
`pytest -m cuda` (none has run on a device yet: issue 16).
"""

import itertools

import pytest
import torch
from helpers.config import TINY, compose_config, train_whole_and_resumed
from helpers.scratch import NUM_HIDDENS, NUM_STEPS, PAIRS, build_pair, random_state, run
from helpers.sentiment import SMALL
from helpers.seq2seq import TINY as SEQ2SEQ
from helpers.seq2seq import run as run_seq2seq

from rnnlab.engine import train_epoch
from rnnlab.models.recurrent import recurrent_stack
from rnnlab.models.scratch import NN_NAMES, nn_parameter_name
from rnnlab.tasks.lm import LanguageModelTask
from rnnlab.train import train

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

CUDA = "trainer.device=cuda"
# float64: cuDNN computes in double, so the scratch cells must agree to rounding. float32:
# TF32 is switched off, so both sides round alike; what is left is summation order.
TOLERANCES = {
    torch.float64: {"atol": 1e-10, "rtol": 0},
    torch.float32: {"atol": 2e-5, "rtol": 2e-4},
}


@pytest.fixture
def no_tf32():
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("bptt", ["fused", "autograd"])
@pytest.mark.parametrize(
    "cell, num_layers, bidirectional", list(itertools.product(PAIRS, [1, 2], [False, True]))
)
def test_scratch_equals_cudnn(cell, num_layers, bidirectional, bptt, dtype, no_tf32):
    generator = torch.Generator().manual_seed(0)
    reference, scratch = build_pair(cell, num_layers, bidirectional, bptt=bptt)
    reference, scratch = reference.to("cuda", dtype), scratch.to("cuda", dtype)
    D = 2 if bidirectional else 1
    X = torch.randn(NUM_STEPS, 3, 4, dtype=torch.float64, generator=generator)
    state = random_state(cell, num_layers, D, generator)
    shapes = [(NUM_STEPS, 3, D * NUM_HIDDENS)]
    shapes += [(num_layers * D, 3, NUM_HIDDENS)] * (2 if cell == "lstm" else 1)
    probes = [torch.randn(s, dtype=torch.float64, generator=generator) for s in shapes]

    def cuda(tensor):
        return tensor.to("cuda", dtype)

    state = tuple(map(cuda, state)) if cell == "lstm" else cuda(state)
    probes = list(map(cuda, probes))
    expected, expected_X_grad, expected_state_grads = run(reference, cuda(X), state, probes)
    actual, actual_X_grad, actual_state_grads = run(scratch, cuda(X), state, probes)

    tolerance = TOLERANCES[dtype]
    for want, got in zip(expected, actual, strict=True):
        torch.testing.assert_close(got, want, **tolerance)
    torch.testing.assert_close(actual_X_grad, expected_X_grad, **tolerance)
    for want, got in zip(expected_state_grads, actual_state_grads, strict=True):
        torch.testing.assert_close(got, want, **tolerance)
    scratch_grads = {name: p.grad for name, p in scratch.named_parameters()}
    reference_grads = [p.grad for p in reference.parameters()]
    assert len(scratch_grads) == len(reference_grads)
    assert all(g is not None and torch.isfinite(g).all() for g in scratch_grads.values())
    # Every parameter's gradient, matched by nn's name (the CPU tests check the mapping).
    for layer, direction in itertools.product(range(num_layers), range(D)):
        weights = scratch.weights_of(layer, direction)
        for which in NN_NAMES:
            want = getattr(reference, nn_parameter_name(layer, direction, which)).grad
            got = getattr(weights, which).grad
            torch.testing.assert_close(got, want.T if got.dim() == 2 else want, **tolerance)


@pytest.mark.parametrize("precision", ["32", "bf16", "fp16"])
@pytest.mark.parametrize(
    "model", ["rnn", "lstm", "gru", "rnn_scratch", "lstm_scratch", "gru_scratch"]
)
def test_language_model_trains(tmp_path, synthetic_book, model, precision):
    metrics = train(
        compose_config(
            TINY
            + [CUDA, f"model={model}", "trainer.max_epochs=2", f"trainer.precision={precision}"]
        ),
        tmp_path,
        model,
    )
    assert metrics["status"] == "finished"
    assert 1.0 < metrics["val_perplexity"] < len(synthetic_book.vocab)
    assert "cuda" in (tmp_path / "run_info.json").read_text()


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
@pytest.mark.parametrize("model", ["gru", "lstm_scratch"])
def test_sentiment_trains(tmp_path, synthetic_imdb, model, precision):
    metrics = train(
        compose_config(
            SMALL
            + [
                CUDA,
                f"model={model}",
                "model.pooling=max+mean",
                f"trainer.precision={precision}",
                "trainer.keep_best=false",
            ]
        ),
        tmp_path,
        model,
    )
    assert metrics["status"] == "finished"
    assert metrics["test_accuracy"] >= 0.9


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
@pytest.mark.parametrize("model", ["gru", "lstm_scratch"])
@pytest.mark.parametrize("attention", ["none", "bahdanau"])
def test_seq2seq_trains(tmp_path, reverse_pairs, model, precision, attention):
    metrics, _ = run_seq2seq(
        tmp_path,
        reverse_pairs,
        SEQ2SEQ
        + [
            CUDA,
            f"model={model}",
            f"model.attention={attention}",
            f"trainer.precision={precision}",
        ],
    )
    assert metrics["status"] == "finished"
    assert metrics["test_sacrebleu"] > 50  # the reverse task, learned (CPU float32: > 70)


@pytest.mark.parametrize("model", ["lstm", "gru_scratch"])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_resumed_run_ends_like_an_uninterrupted_one(
    tmp_path,
    synthetic_book,
    model,
    dropout,
):
    # nn with dropout 0.3 over 2 layers: cuDNN would draw it from its own generator, which
    # no checkpoint saves (rnnlab.models.nn_cells runs such stacks a layer at a time).
    overrides = TINY + [
        CUDA,
        f"model={model}",
        f"model.dropout={dropout}",
        "model.num_layers=2",
        "data.sampling=random",
        "model.weight_drop=0.2",
        "scheduler=cosine",
    ]
    whole, resumed = train_whole_and_resumed(tmp_path, overrides)
    assert resumed["epochs"] == 4
    assert resumed["val_perplexity"] == whole["val_perplexity"]
    assert resumed["train_perplexity"] == whole["train_perplexity"]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_dropout_between_cudnn_layers_follows_torchs_seed(cell):
    torch.manual_seed(0)
    module = recurrent_stack(cell, "nn", 3, 8, num_layers=3, dropout=0.5).cuda().train()
    X = torch.randn(6, 2, 3, device="cuda")

    def outputs(seed):
        torch.manual_seed(seed)
        return module(X)[0]

    assert torch.equal(outputs(1), outputs(1))
    assert not torch.equal(outputs(1), outputs(2))


@pytest.mark.parametrize("model", ["lstm", "gru_scratch"])
def test_an_epoch_never_waits_for_the_gpu_between_log_steps(tmp_path, synthetic_book, model):
    """The hot loop's only sync is the loss read every `log_every_n_steps` steps: with
    CUDA's sync check set to error, an epoch shorter than that trains through."""
    cfg = compose_config(TINY + [CUDA, f"model={model}", "trainer.log_every_n_steps=1000"])
    task = LanguageModelTask(cfg, corpus=synthetic_book).to(torch.device("cuda"))
    model_ = task.build_model().cuda()
    optimizer = torch.optim.SGD(model_.parameters(), lr=0.1)
    batches = list(task.train_batches(1))
    assert 2 < len(batches) < 1000
    train_epoch(task, model_, optimizer, cfg.trainer, torch.device("cuda"), batches[:1])  # warm
    consumed = []
    torch.cuda.set_sync_debug_mode("error")
    try:
        with pytest.raises(RuntimeError, match="synchronizing") as raised:
            train_epoch(
                task,
                model_,
                optimizer,
                cfg.trainer,
                torch.device("cuda"),
                then_sync(batches, consumed),
            )
    finally:
        torch.cuda.set_sync_debug_mode("default")
    # The error came from the deliberate sync after the last batch, not from a step.
    assert consumed == [None] * len(batches) + ["sync"], str(raised.getrepr())


def then_sync(batches, consumed: list):
    """The batches, then a deliberate sync (which the sync check turns into an error);
    `consumed` records each batch handed out and "sync" when the sync is reached."""
    for batch in batches:
        consumed.append(None)
        yield batch
    consumed.append("sync")
    torch.zeros(1, device="cuda").item()


@pytest.mark.parametrize("impl", ["nn", "scratch"])
def test_dynamic_evaluation_on_cuda_equals_the_cpu_one(impl):
    # cuDNN's RNN backward refuses eval mode: the adaptive reading must not use it
    from rnnlab.inference.adaptive import adaptive_nll
    from rnnlab.models.lm import RNNLM

    torch.manual_seed(0)
    model = RNNLM(11, recurrent_stack("lstm", impl, 8, 16, num_layers=2), embed_size=8).double()
    tokens = torch.randint(0, 11, (61,), generator=torch.Generator().manual_seed(1))
    settings = {"dynamic_lr": 0.5, "grad_clip": 1.0, "cache_size": 20}
    on_cpu = adaptive_nll(model, tokens, 7, **settings)
    on_cuda = adaptive_nll(model.cuda(), tokens.cuda(), 7, **settings)
    assert on_cuda == pytest.approx(on_cpu, rel=1e-9)
