"""The encoder-decoder: masked loss, the bidirectional bridge, step-by-step decoding."""

import pytest
import torch
from helpers.config import compose_config
from torch.nn import functional as F

from rnnlab.config.run_config import compose_config as typed_compose
from rnnlab.errors import RnnlabError
from rnnlab.models.seq2seq import bridge, build_seq2seq
from rnnlab.tasks.seq2seq import masked_cross_entropy

PAD = 1


def test_masked_loss_ignores_padding():
    torch.manual_seed(0)
    logits = torch.randn(3, 5, 7)
    labels = torch.tensor([[4, 5, 3, PAD, PAD], [6, 3, PAD, PAD, PAD], [2, 4, 5, 6, 3]])
    loss = masked_cross_entropy(logits, labels, PAD)
    real = labels != PAD
    garbage = logits.clone()
    garbage[~real] = torch.randn(int((~real).sum()), 7) * 100
    assert masked_cross_entropy(garbage, labels, PAD) == loss
    # The mean over the 10 real tokens, not over all 15 positions.
    per_token = F.cross_entropy(logits[real], labels[real], reduction="none")
    assert loss == pytest.approx(per_token.mean().item())
    assert masked_cross_entropy(logits, labels, PAD, "sum") == pytest.approx(per_token.sum().item())


def test_masked_loss_is_plain_cross_entropy_without_padding():
    torch.manual_seed(0)
    logits = torch.randn(4, 6, 9)
    labels = torch.randint(2, 9, (4, 6))
    expected = F.cross_entropy(logits.reshape(-1, 9), labels.reshape(-1))
    assert masked_cross_entropy(logits, labels, PAD) == pytest.approx(expected.item())


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_bridge_sums_each_layers_two_directions(cell):
    rnn = getattr(torch.nn, cell.upper())(3, 4, num_layers=2, bidirectional=True)
    _, state = rnn(torch.randn(5, 2, 3))
    bridged = bridge(state, num_layers=2, bidirectional=True)
    for full, summed in zip(
        state if cell == "lstm" else (state,),
        bridged if cell == "lstm" else (bridged,),
        strict=True,
    ):
        assert summed.shape == (2, 2, 4)
        for layer in range(2):  # nn's rows: layer * 2 + direction
            assert torch.equal(summed[layer], full[2 * layer] + full[2 * layer + 1])
    assert bridge(state, 2, bidirectional=False) is state


def seq2seq(model, *overrides):
    cfg = compose_config(
        ["task=seq2seq", f"model={model}", "model.num_hiddens=8", "model.embed_size=6", *overrides]
    )
    torch.manual_seed(0)
    return build_seq2seq(11, 13, cfg.model).eval()


@pytest.mark.parametrize("model", ["gru", "lstm", "rnn", "gru_scratch", "lstm_scratch"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_step_by_step_decoding_equals_teacher_forcing(model, bidirectional):
    """Search feeds the decoder one token at a time, carrying its state; that must be the
    function training optimises on whole sequences."""
    net = seq2seq(model, f"model.bidirectional={bidirectional}")
    src, tgt_in = torch.randint(11, (3, 6)), torch.randint(13, (3, 5))
    with torch.no_grad():
        logits = net(src, tgt_in)
        state, context = net.encode(src)
        steps = []
        for t in range(5):
            step_logits, state = net.decode(tgt_in[:, t : t + 1], state, context)
            steps.append(step_logits)
    assert logits.shape == (3, 5, 13)
    assert torch.allclose(torch.cat(steps, dim=1), logits, atol=1e-6)
    assert context.shape == (3, 8)
    H = state[0] if isinstance(state, tuple) else state
    assert H.shape == (2, 3, 8)  # the decoder's layout whatever the encoder's directions


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_scratch_and_nn_cells_give_the_same_model_and_gradients(cell, bidirectional):
    """Gradients included: the decoder's initial state is the encoder's final state, so
    the scratch cells' backward must carry gradients into their initial state."""
    bi = f"model.bidirectional={bidirectional}"
    nn_model, scratch_model = seq2seq(cell, bi), seq2seq(f"{cell}_scratch", bi)
    for name in ("encoder", "decoder"):
        nn_part, scratch_part = getattr(nn_model, name), getattr(scratch_model, name)
        scratch_part.recurrent.copy_weights_from(nn_part.recurrent)
        scratch_part.embedding.load_state_dict(nn_part.embedding.state_dict())
    scratch_model.decoder.head.load_state_dict(nn_model.decoder.head.state_dict())
    src, tgt_in = torch.randint(11, (2, 4)), torch.randint(13, (2, 5))
    labels = torch.randint(13, (2, 5))
    for model in (nn_model, scratch_model):
        masked_cross_entropy(model(src, tgt_in), labels, PAD).backward()
    assert torch.allclose(nn_model(src, tgt_in), scratch_model(src, tgt_in), atol=1e-5)
    for part in ("encoder", "decoder"):
        nn_grad = getattr(nn_model, part).embedding.weight.grad
        scratch_grad = getattr(scratch_model, part).embedding.weight.grad
        assert nn_grad.abs().sum() > 0
        assert torch.allclose(nn_grad, scratch_grad, atol=1e-5)


def test_the_context_is_the_encoders_last_layer():
    net = seq2seq("gru")
    src = torch.randint(11, (2, 4))
    with torch.no_grad():
        _, final = net.encoder.recurrent(net.encoder.embedding(src.T))
        state, context = net.encode(src)
    assert torch.equal(state, final) and torch.equal(context, final[-1])


def test_embed_size_is_required():
    with pytest.raises(RnnlabError, match="model.embed_size=null is not allowed"):
        typed_compose(["task=seq2seq", "model.embed_size=null"])


@pytest.mark.parametrize("model", ["gru_scratch", "lstm_scratch"])
def test_recurrent_dropout_reaches_encoder_and_decoder(model):
    """`model.recurrent_dropout` is used by task=seq2seq (it was once silently ignored):
    both stacks hold it, and in training it makes two passes over one batch differ."""
    net = seq2seq(model, "model.recurrent_dropout=0.3")
    assert net.encoder.recurrent.recurrent_dropout == 0.3
    assert net.decoder.recurrent.recurrent_dropout == 0.3
    src, tgt_in = torch.randint(11, (4, 5)), torch.randint(13, (4, 5))
    with torch.no_grad():
        assert torch.equal(net(src, tgt_in), net(src, tgt_in))  # eval mode: no dropout
        net.train()
        assert not torch.equal(net(src, tgt_in), net(src, tgt_in))
