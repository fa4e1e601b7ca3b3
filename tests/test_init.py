"""`model.init=keras` draws what Keras' recurrent layers and Dense draw by default, for
scratch and nn stacks alike; `model.init=d2l` stays the language model's."""

import dataclasses
import math

import pytest
import torch
from omegaconf import OmegaConf

from rnnlab.models.classifier import ClassifierConfig, build_classifier
from rnnlab.models.lm import LMModelConfig, build_lm

VOCAB, EMBED, HIDDEN = 40, 12, 8
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def model_cfg(**overrides):
    return config_of(
        {
            "cell": "lstm",
            "impl": "scratch",
            "embed_size": EMBED,
            "num_hiddens": HIDDEN,
            "num_layers": 2,
            "bidirectional": True,
            "dropout": 0.0,
            "recurrent_dropout": 0.0,
            "pooling": "last",
            "init": "keras",
            "forget_bias": None,
            **overrides,
        }
    )


# the classifier's own settings, which a language model's config does not have
ClassifierOnly = {f.name for f in dataclasses.fields(ClassifierConfig)} - {
    f.name for f in dataclasses.fields(LMModelConfig)
}


def lm_cfg(**overrides):
    """The language model's typed config with model_cfg's shared values and `overrides`."""
    values = {key: value for key, value in model_cfg().items() if key not in ClassifierOnly}
    return OmegaConf.structured(LMModelConfig(**{**values, **overrides}))


def config_of(values: dict):
    """The classifier's typed model config holding `values` (the rest at its defaults)."""
    return OmegaConf.structured(ClassifierConfig(**values))


def recurrent_tensors(recurrent):
    """(kind, tensor in Keras' layout) per parameter: W_x (in, G h), W_h (h, G h), bias."""
    for name, parameter in recurrent.named_parameters():
        which = name.rsplit(".", 1)[-1]
        transposed = which.startswith("weight")  # nn keeps weight_ih == W_x.T
        tensor = parameter.detach().T if transposed else parameter.detach()
        if which == "W_x" or which.startswith("weight_ih"):
            yield "W_x", tensor
        elif which == "W_h" or which.startswith("weight_hh"):
            yield "W_h", tensor
        elif which == "b_x" or which.startswith("bias_ih"):
            yield "bias_ih", tensor
        else:
            yield "bias_hh", tensor


@pytest.mark.parametrize("impl", ["scratch", "nn"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_keras_init_as_keras_draws_it(cell, impl):
    torch.manual_seed(0)
    model = build_classifier(VOCAB, model_cfg(cell=cell, impl=impl))
    G, seen = GATES[cell], set()
    for kind, tensor in recurrent_tensors(model.recurrent):
        seen.add(kind)
        if kind == "W_x":  # glorot_uniform over the whole (in, G h) kernel
            fan_in = tensor.shape[0]
            bound = math.sqrt(6 / (fan_in + G * HIDDEN))
            assert tensor.abs().max() <= bound
            assert tensor.abs().max() > 0.9 * bound  # drawn up to the bound, not below it
        elif kind == "W_h":  # orthogonal (h, G h): its h rows orthonormal, as Keras draws it
            assert tensor.shape == (HIDDEN, G * HIDDEN)
            torch.testing.assert_close(tensor @ tensor.T, torch.eye(HIDDEN), atol=1e-5, rtol=0)
        else:  # zeros, but the LSTM forget gate's input bias at 1 (unit_forget_bias)
            expected = torch.zeros(G * HIDDEN)
            if cell == "lstm" and kind == "bias_ih":
                expected[HIDDEN : 2 * HIDDEN] = 1.0
            torch.testing.assert_close(tensor, expected)
    assert seen == {"W_x", "W_h", "bias_ih", "bias_hh"}
    head_bound = math.sqrt(6 / (model.head.in_features + 1))
    assert model.head.weight.abs().max() <= head_bound
    assert not model.head.bias.any()
    assert model.embedding.weight.abs().max() <= 0.05  # Keras' Embedding, the classifier's own


def test_keras_recurrent_blocks_are_slices_of_one_orthogonal_matrix():
    """Keras orthogonalises the (h, 4h) recurrent kernel as a whole, so one gate's (h, h)
    block is not itself orthogonal: its rows have norm about sqrt(1/4)."""
    torch.manual_seed(0)
    model = build_classifier(VOCAB, model_cfg(num_hiddens=64, num_layers=1, bidirectional=False))
    W_h = dict(recurrent_tensors(model.recurrent))["W_h"]
    forget_block = W_h[:, 64:128]
    assert forget_block.norm(dim=1).mean() == pytest.approx(0.5, abs=0.05)


def test_an_explicit_forget_bias_wins_over_the_keras_one():
    model = build_classifier(VOCAB, model_cfg(forget_bias=2.0, num_layers=1))
    biases = dict((kind, t) for kind, t in recurrent_tensors(model.recurrent))
    assert torch.all(biases["bias_ih"][HIDDEN : 2 * HIDDEN] == 2.0)
    assert not biases["bias_hh"].any()


def test_default_init_is_left_alone():
    torch.manual_seed(0)
    default = build_classifier(VOCAB, model_cfg(init="default"))
    torch.manual_seed(0)
    absent = build_classifier(
        VOCAB, config_of({k: v for k, v in model_cfg().items() if k != "init"})
    )
    for (name, a), b in zip(
        default.state_dict().items(), absent.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, msg=name)


def test_keras_init_for_the_language_model():
    torch.manual_seed(0)
    model = build_lm(VOCAB, lm_cfg(impl="nn", bidirectional=False, tie_weights=False))
    assert model.embedding.weight.abs().max() <= 0.05
    assert not model.head.bias.any()
    W_h = model.recurrent.weight_hh_l1.detach()  # nn's (4h, h): its columns orthonormal
    torch.testing.assert_close(W_h.T @ W_h, torch.eye(HIDDEN), atol=1e-5, rtol=0)


@pytest.mark.parametrize("init", ["keras", "d2l"])
def test_an_explicit_embedding_init_wins_over_the_init_of_a_tied_output_layer(init):
    model = build_lm(
        VOCAB,
        lm_cfg(
            init=init, num_hiddens=EMBED, bidirectional=False, tie_weights=True, embedding_init=0.01
        ),
    )
    assert model.head.weight is model.embedding.weight
    assert model.embedding.weight.abs().max() <= 0.01  # not Glorot's ±0.33, nor N(0, 0.01)
    assert model.embedding.weight.std() > 0.004  # U(±0.01): std 0.0058


def d2l_rnn(X, H, W_xh, W_hh, b_h, W_hq, b_q):
    """d2l's scratch `rnn` (sec_rnn_scratch): one bias per cell. X: (steps, batch, vocab)."""
    outputs = []
    for x in X:
        H = torch.tanh(x @ W_xh + H @ W_hh + b_h)
        outputs.append(H @ W_hq + b_q)
    return torch.stack(outputs)


def d2l_gru(X, H, W_x, W_h, b, W_hq, b_q):
    """d2l's scratch `gru` (sec_gru), its z, r, h blocks side by side in nn's (r, z, n)
    order: one bias per gate, the candidate's outside r * (H W_hh)."""
    (W_xr, W_xz, W_xh), (W_hr, W_hz, W_hh) = W_x.chunk(3, -1), W_h.chunk(3, -1)
    b_r, b_z, b_h = b.chunk(3)
    outputs = []
    for x in X:
        Z = torch.sigmoid(x @ W_xz + H @ W_hz + b_z)
        R = torch.sigmoid(x @ W_xr + H @ W_hr + b_r)
        H = Z * H + (1 - Z) * torch.tanh(x @ W_xh + (R * H) @ W_hh + b_h)
        outputs.append(H @ W_hq + b_q)
    return torch.stack(outputs)


@pytest.mark.parametrize("cell,equations", [("rnn", d2l_rnn), ("gru", d2l_gru)])
@pytest.mark.parametrize("bptt", ["fused", "autograd"])
def test_d2l_init_gives_the_scratch_cells_d2l_single_bias(cell, equations, bptt):
    """Under model.init=d2l b_h is frozen at zero, so b_x is d2l's one bias: after a few
    SGD steps on nonzero biases the scratch cell still computes d2l's function, and b_h
    gets no gradient (nor a share of the clipped norm)."""
    torch.manual_seed(0)
    model = build_lm(
        VOCAB,
        lm_cfg(
            cell=cell,
            init="d2l",
            embed_size=None,
            num_layers=1,
            dropout=0.0,
            bidirectional=False,
            bptt=bptt,
        ),
    ).double()
    w = model.recurrent.weights[0]
    assert not w.b_h.requires_grad and not w.b_h.any()
    X = torch.randint(VOCAB, (3, 5))
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)
    for _ in range(3):
        logits, _ = model(X, None)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), X.reshape(-1)).backward()
        assert w.b_h.grad is None
        optimizer.step()
    assert w.b_x.abs().sum() > 0 and not w.b_h.any()
    one_hot = torch.nn.functional.one_hot(X.T, VOCAB).double()
    H = torch.zeros(3, HIDDEN, dtype=torch.double)
    expected = equations(
        one_hot, H, w.W_x, w.W_h, w.b_x, model.head.weight.T, model.head.bias
    ).transpose(0, 1)
    torch.testing.assert_close(model(X, None)[0], expected)
