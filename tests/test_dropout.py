"""The AWD regularisers: each is off in eval mode and a no-op at rate 0, locked dropout draws
one mask per sequence, embedding dropout drops whole tokens, weight drop leaves the stored
weights alone and gives the gradients of a hand-made masked copy (nn and scratch)."""

import warnings

import pytest
import torch
from helpers.config import compose_config
from torch.nn import functional as F

from rnnlab.models.dropout import LockedDropout, TokenDropoutEmbedding, token_dropout_scale
from rnnlab.models.lm import build_lm
from rnnlab.models.recurrent import build_recurrent, recurrent_stack
from rnnlab.tasks.lm import activation_penalty

ALL_ON = [
    "model.embed_size=16",
    "model.num_hiddens=16",
    "model.embedding_dropout=0.3",
    "model.input_dropout=0.3",
    "model.output_dropout=0.3",
    "model.locked_dropout=true",
    "model.weight_drop=0.3",
    "model.residual=true",
    "model.dropout=0.3",
]


def model_cfg(*overrides):
    return compose_config(list(overrides)).model


def test_locked_dropout_uses_one_mask_per_sequence():
    torch.manual_seed(0)
    X = torch.ones(7, 5, 32)  # (num_steps, batch, width)
    Y = LockedDropout(0.5).train()(X)
    assert torch.equal(Y, Y[:1].expand_as(Y))  # the same mask at every step
    assert not torch.equal(Y[:, 0], Y[:, 1])  # but not the same for every sequence
    assert set(Y.unique().tolist()) == {0.0, 2.0}


def test_embedding_dropout_drops_whole_tokens_everywhere_in_the_batch():
    torch.manual_seed(0)
    embedding = TokenDropoutEmbedding(10, 8, token_dropout=0.5).train()
    X = torch.arange(10).repeat(6, 3)  # every token at many positions
    E = embedding(X)
    dropped = (E == 0).all(-1)  # (num_steps, batch): a whole vector is zero
    for token in range(10):
        at_token = dropped[X == token]
        assert at_token.all() or not at_token.any()  # a token is dropped everywhere or nowhere
    assert 0 < dropped.float().mean() < 1
    kept = ~dropped
    assert torch.allclose(E[kept], 2 * embedding.weight[X[kept]])  # scaled by 1 / (1 - p)


def test_token_dropout_scale_equals_awd_masked_embedding_matrix():
    weight = torch.randn(12, 4)
    X = torch.randint(0, 12, (5, 3))
    torch.manual_seed(1)
    ours = F.embedding(X, weight) * token_dropout_scale(X, 12, 0.4)
    torch.manual_seed(1)  # AWD's embedded_dropout: a (vocab, 1) mask on the matrix
    mask = torch.bernoulli(torch.full((12,), 0.6)).unsqueeze(1) / 0.6
    assert torch.equal(ours, F.embedding(X, weight * mask))


@pytest.mark.parametrize("model", ["lstm", "gru_scratch", "rnn"])
def test_every_regulariser_is_off_in_eval_mode_and_a_no_op_at_rate_0(model):
    """All of them on: eval mode computes what the same weights compute with all of them
    at rate 0 (residual stays, as it is no regulariser); in training at rate 0, too."""
    torch.manual_seed(0)
    on = build_lm(20, model_cfg(f"model={model}", *ALL_ON))
    zero = build_lm(
        20,
        model_cfg(
            f"model={model}",
            *ALL_ON,
            "model.embedding_dropout=0",
            "model.input_dropout=0",
            "model.output_dropout=0",
            "model.weight_drop=0",
            "model.dropout=0",
        ),
    )
    zero.load_state_dict(on.state_dict())
    X = torch.randint(0, 20, (3, 9))
    reference = zero.train()(X)[0]
    assert torch.allclose(on.eval()(X)[0], reference, atol=1e-6)
    assert torch.allclose(zero.eval()(X)[0], reference, atol=1e-6)
    assert not torch.allclose(on.train()(X)[0], reference, atol=1e-3)  # training does drop


def hand_masked_gradients(module, weight_names, p, X, seed):
    """Run `module` with weight drop at rate p under `seed`, then redo the forward on a
    plain copy whose hidden weights are the dropped copy (the same RNG draws): outputs and
    the stored weights' gradients (the copy's times the mask) must agree."""
    stored = {name: module.get_parameter(name).detach().clone() for name in weight_names}
    torch.manual_seed(seed)
    module.train()
    outputs = module(X)[0]
    outputs.pow(2).sum().backward()
    for name in weight_names:  # the stored weights were never touched
        assert torch.equal(module.get_parameter(name), stored[name])
    torch.manual_seed(seed)
    masks = {name: F.dropout(torch.ones_like(stored[name]), p) for name in weight_names}
    dropped = {name: (stored[name] * masks[name]).requires_grad_() for name in weight_names}
    saved, module.weight_drop = module.weight_drop, 0.0
    try:
        hand = torch.func.functional_call(module, dropped, (X,))[0]
    finally:
        module.weight_drop = saved
    hand.pow(2).sum().backward()
    assert torch.allclose(outputs, hand, atol=1e-6)
    for name in weight_names:
        expected = dropped[name].grad * masks[name]
        assert torch.allclose(module.get_parameter(name).grad, expected, atol=1e-5), name
        assert (module.get_parameter(name).grad[masks[name] == 0] == 0).all()


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_nn_weight_drop_gives_the_gradients_of_a_masked_copy_without_warnings(cell):
    torch.manual_seed(0)
    module = recurrent_stack(cell, "nn", 3, 8, num_layers=2, bidirectional=True, weight_drop=0.5)
    names = [name for name, _ in module.named_parameters() if name.startswith("weight_hh")]
    assert len(names) == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no non-contiguous or flatten_parameters warning
        hand_masked_gradients(module, names, 0.5, torch.randn(6, 2, 3), seed=3)
    plain = recurrent_stack(cell, "nn", 3, 8, num_layers=2, bidirectional=True)
    assert list(module.state_dict()) == list(plain.state_dict())  # nn's names, unchanged


@pytest.mark.parametrize("bptt", ["fused", "autograd"])
def test_scratch_weight_drop_gives_the_gradients_of_a_masked_copy(bptt):
    torch.manual_seed(0)
    module = recurrent_stack(
        "lstm", "scratch", 3, 8, num_layers=2, bptt=bptt, weight_drop=0.5
    ).double()
    names = [name for name, _ in module.named_parameters() if name.endswith("W_h")]
    hand_masked_gradients(module, names, 0.5, torch.randn(6, 2, 3, dtype=torch.float64), seed=3)


def test_weight_drop_is_one_mask_per_batch_not_per_step():
    """The same dropped W_h serves every step: a model whose steps all see one input gives
    what a hand-masked copy gives, which `hand_masked_gradients` checks, and two forwards
    draw two masks."""
    torch.manual_seed(0)
    module = recurrent_stack("gru", "nn", 3, 8, weight_drop=0.5).train()
    X = torch.randn(4, 2, 3)
    assert not torch.equal(module(X)[0], module(X)[0])


def test_tied_weights_are_one_tensor():
    cfg = model_cfg("model.embed_size=32", "model.num_hiddens=32", "model.tie_weights=true")
    model = build_lm(20, cfg)
    assert model.head.weight is model.embedding.weight
    assert len(list(model.parameters())) == len({id(p) for p in model.parameters()})
    untied = build_lm(20, model_cfg("model.embed_size=32", "model.num_hiddens=32"))
    assert (
        sum(p.numel() for p in untied.parameters()) - sum(p.numel() for p in model.parameters())
        == 20 * 32
    )
    model(torch.randint(0, 20, (2, 5)))[0].sum().backward()
    assert model.embedding.weight.grad is model.head.weight.grad


def test_embedding_init_draws_the_tied_weights_from_its_uniform_range():
    """word_language_model's U(±0.1) instead of nn.Embedding's N(0, 1): a tied output layer
    then starts with small logits."""
    tied = ["model.embed_size=32", "model.num_hiddens=32", "model.tie_weights=true"]
    model = build_lm(500, model_cfg(*tied, "model.embedding_init=0.1"))
    assert model.head.weight is model.embedding.weight
    assert model.embedding.weight.abs().max() <= 0.1
    assert model.embedding.weight.std() > 0.05  # U(±0.1): std 0.058
    assert build_lm(500, model_cfg(*tied)).embedding.weight.std() > 0.9  # null: N(0, 1)


@pytest.mark.parametrize("model", ["lstm", "lstm_scratch"])
def test_forget_bias_starts_the_forget_gate_at_its_value(model):
    recurrent = build_recurrent(
        model_cfg(f"model={model}", "model.forget_bias=1.0", "model.num_hiddens=4"), 3
    )
    n, biases = 4, dict(recurrent.named_parameters())
    pairs = [
        (name, name.replace("ih", "hh").replace("b_x", "b_h"))
        for name in biases
        if "bias_ih" in name or name.endswith("b_x")
    ]
    assert len(pairs) == 2  # two layers
    for input_bias, hidden_bias in pairs:
        total = biases[input_bias] + biases[hidden_bias]
        assert torch.equal(total[n : 2 * n], torch.ones(n))
        assert not torch.equal(total[:n], torch.ones(n))  # the other gates keep their init


def test_residual_adds_each_stacked_layers_input():
    torch.manual_seed(0)
    plain = build_recurrent(
        model_cfg(
            "model.num_hiddens=6",
            "model.num_layers=3",
            "model.dropout=0",
            "model.locked_dropout=true",
        ),
        6,
    )
    residual = build_recurrent(
        model_cfg(
            "model.num_hiddens=6", "model.num_layers=3", "model.dropout=0", "model.residual=true"
        ),
        6,
    )
    residual.load_state_dict(plain.state_dict())
    X = torch.randn(5, 2, 6)
    layers = plain.layers
    Y0 = layers[0](X)[0]
    Y1 = layers[1](Y0)[0] + Y0
    Y2 = layers[2](Y1)[0] + Y1
    assert torch.allclose(residual(X)[0], Y2, atol=1e-6)
    assert not torch.allclose(plain(X)[0], Y2, atol=1e-3)


def test_layer_by_layer_state_round_trips_as_nns():
    """A LayeredRecurrent takes and returns nn's packed state: carried from one batch to
    the next it gives what one long batch gives."""
    torch.manual_seed(0)
    stack = build_recurrent(
        model_cfg("model.num_hiddens=5", "model.num_layers=2", "model.locked_dropout=true"), 3
    ).eval()
    X = torch.randn(8, 2, 3)
    whole, final = stack(X)
    first, state = stack(X[:4])
    second, state = stack(X[4:], state)
    assert torch.allclose(torch.cat([first, second]), whole, atol=1e-6)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(state, final, strict=True))
    assert final[0].shape == (2, 2, 5)


def test_activation_penalties_follow_awds_formulas():
    raw = torch.tensor([[[1.0]], [[3.0]], [[2.0]]])  # (num_steps, batch, width)
    dropped = torch.tensor([[[2.0]], [[0.0]], [[4.0]]])
    assert activation_penalty(raw, dropped, 0.0, 0.0) is None
    assert activation_penalty(raw, dropped, 2.0, 0.0).item() == pytest.approx(2 * 20 / 3)
    assert activation_penalty(raw, dropped, 0.0, 1.0).item() == pytest.approx((4 + 1) / 2)


def test_ar_tar_change_the_gradient_not_the_reported_loss(tiny_corpus):
    from rnnlab.tasks.lm import LanguageModelTask

    grads, losses = [], []
    for penalties in (
        ["task.ar_alpha=0", "task.tar_beta=0"],
        ["task.ar_alpha=2", "task.tar_beta=1"],
    ):
        cfg = compose_config(
            [
                "model.num_hiddens=8",
                "data.batch_size=2",
                "data.num_steps=6",
                "model.output_dropout=0.2",
                *penalties,
            ]
        )
        task = LanguageModelTask(cfg, tiny_corpus)
        torch.manual_seed(0)
        model = task.build_model()
        batch = next(iter(task.train_batches(1)))
        torch.manual_seed(1)
        loss, _, _ = task.training_loss(model, batch, None)
        loss.backward()
        losses.append(loss.item())
        grads.append(next(model.recurrent.parameters()).grad.clone())
    assert losses[0] == losses[1]
    assert not torch.allclose(grads[0], grads[1])


@pytest.mark.parametrize("model", ["lstm", "lstm_scratch"])
def test_a_language_model_trains_with_every_tool_on(tmp_path, monkeypatch, tiny_corpus, model):
    from helpers.config import TINY

    import rnnlab.tasks.lm
    from rnnlab.train import train

    monkeypatch.setattr(
        rnnlab.data.timemachine, "load_timemachine", lambda *args, **kwargs: tiny_corpus
    )
    metrics = train(
        compose_config(
            TINY
            + [
                f"model={model}",
                *ALL_ON,
                "model.tie_weights=true",
                "model.forget_bias=1",
                "task.ar_alpha=2",
                "task.tar_beta=1",
                "optim=adamw",
                "scheduler=cosine",
            ]
        ),
        tmp_path,
        model,
    )
    assert metrics["status"] == "finished" and metrics["val_perplexity"] < len(tiny_corpus.vocab)


@pytest.mark.parametrize("impl", ["nn", "scratch"])
def test_classifier_and_seq2seq_take_every_tool(impl):
    from rnnlab.models.classifier import build_classifier
    from rnnlab.models.seq2seq import build_seq2seq

    tools = [
        f"model={'lstm' if impl == 'nn' else 'lstm_scratch'}",
        "model.num_layers=2",
        "model.embedding_dropout=0.2",
        "model.input_dropout=0.2",
        "model.output_dropout=0.2",
        "model.locked_dropout=true",
        "model.weight_drop=0.3",
        "model.residual=true",
        "model.forget_bias=1",
    ]
    classifier = build_classifier(30, compose_config(["task=sentiment", *tools]).model)
    X, lengths = torch.randint(2, 30, (3, 7)), torch.tensor([7, 4, 1])
    logits = classifier(X, lengths)
    logits.sum().backward()
    assert logits.shape == (3,) and classifier.embedding.token_dropout == 0.2
    seq2seq = build_seq2seq(30, 40, compose_config(["task=seq2seq", *tools]).model)
    out = seq2seq(torch.randint(0, 30, (3, 6)), torch.randint(0, 40, (3, 5)))
    out.sum().backward()
    assert out.shape == (3, 5, 40) and seq2seq.decoder.embedding.token_dropout == 0.2


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_layer_by_layer_kernel_computes_what_the_fused_stack_computes(cell, bidirectional):
    # What nn cells run on CUDA in training with dropout between layers (tests/test_cuda.py
    # runs it there); with the dropout at 0 it must be nn's three-layer stack exactly.
    torch.manual_seed(0)
    module = (
        recurrent_stack(cell, "nn", 3, 5, num_layers=3, bidirectional=bidirectional, dropout=0.4)
        .double()
        .train()
    )
    X = torch.randn(6, 2, 3, dtype=torch.float64)
    rows = 3 * (2 if bidirectional else 1)
    state = torch.randn(rows, 2, 5, dtype=torch.float64)
    state = (state, torch.randn_like(state)) if cell == "lstm" else state
    module.dropout = 0.0
    want_outputs, want_state = module(X, state)
    got_outputs, got_state = module.layer_by_layer(X, state, module._flat_weights, 0.0)
    torch.testing.assert_close(got_outputs, want_outputs, atol=1e-12, rtol=0)
    for got, want in zip(
        got_state if cell == "lstm" else (got_state,),
        want_state if cell == "lstm" else (want_state,),
        strict=True,
    ):
        torch.testing.assert_close(got, want, atol=1e-12, rtol=0)
