"""Attention (model.attention): masked weights, shapes, and search with attention decoders
(step-by-step decoding scores what teacher forcing scores; a wide beam finds the
exhaustive argmax)."""

import itertools

import pytest
import torch
from helpers.config import compose_config
from helpers.seq2seq import reverse_corpus, run, translate_cli

from rnnlab.config.run_config import typed_config
from rnnlab.errors import RnnlabError
from rnnlab.inference.decoding import beam_search, greedy_search, sequence_log_prob
from rnnlab.models.seq2seq import build_seq2seq
from rnnlab.models.seq2seq.attention import AdditiveAttention, GeneralAttention, masked_softmax

PAD, BOS, EOS = 1, 2, 3
MODELS = [
    (attention, model)
    for attention in ("none", "bahdanau", "luong")
    for model in ("gru", "lstm_scratch")
]


def seq2seq(attention, model, *overrides, tgt_vocab=13):
    torch.manual_seed(0)
    cfg = compose_config(
        [
            "task=seq2seq",
            f"model={model}",
            f"model.attention={attention}",
            "model.num_hiddens=8",
            "model.embed_size=4",
            *overrides,
        ]
    )
    return build_seq2seq(11, tgt_vocab, cfg.model, src_pad=PAD).eval()


def test_masked_softmax_gives_padding_zero_weight_and_rows_sum_to_one():
    scores = torch.randn(2, 3, 5)
    weights = masked_softmax(scores, torch.tensor([2, 5]))
    assert torch.all(weights[0, :, 2:] == 0) and torch.all(weights[1] > 0)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 3))
    assert torch.allclose(weights[0, :, :2], torch.softmax(scores[0, :, :2], -1))


@pytest.mark.parametrize("attention", [AdditiveAttention(6, 4, 7), GeneralAttention(6, 4)])
def test_attention_shapes_and_mask(attention):
    queries, keys, values = torch.randn(2, 3, 6), torch.randn(2, 5, 4), torch.randn(2, 5, 9)
    context, weights = attention(queries, keys, values, torch.tensor([1, 4]))
    assert context.shape == (2, 3, 9) and weights.shape == (2, 3, 5)
    assert torch.all(weights[0, :, 1:] == 0) and torch.all(weights[1, :, 4:] == 0)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 3))
    assert torch.allclose(context[0], values[0, :1].expand(3, -1))  # all weight on one


@pytest.mark.parametrize(("attention", "model"), MODELS[2:])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_attention_models_mask_the_source_padding(attention, model, bidirectional):
    net = seq2seq(attention, model, f"model.bidirectional={bidirectional}")
    src = torch.randint(4, 11, (3, 6))
    src[0, 4:] = PAD
    logits = net(src, torch.randint(13, (3, 5)))
    weights = net.decoder.attention_weights
    assert logits.shape == (3, 5, 13) and weights.shape == (3, 5, 6)
    assert torch.all(weights[0, :, 4:] == 0) and torch.allclose(weights.sum(-1), torch.ones(3, 5))


def tokens_to_targets(hypotheses, max_len):
    """Hypotheses (id lists without <eos>) → teacher-forcing arrays and the scored mask."""
    rows = [(h + [EOS])[:max_len] for h in hypotheses]
    T = max(map(len, rows))
    tgt_out = torch.tensor([r + [PAD] * (T - len(r)) for r in rows])
    mask = torch.tensor([[True] * len(r) + [False] * (T - len(r)) for r in rows])
    tgt_in = torch.cat([torch.full((len(rows), 1), BOS), tgt_out[:, :-1]], dim=1)
    return tgt_in, tgt_out, mask


@pytest.mark.parametrize(("attention", "model"), MODELS)
def test_search_scores_are_teacher_forced_log_probabilities(attention, model):
    net = seq2seq(attention, model)
    src = torch.randint(4, 11, (5, 4))
    for search in (
        lambda: greedy_search(net, src, BOS, EOS, 6),
        lambda: beam_search(net, src, BOS, EOS, 6, beam_size=3),
    ):
        hypotheses, scores = search()
        expected = sequence_log_prob(net, src, *tokens_to_targets(hypotheses, 6))
        assert torch.allclose(scores, expected, atol=1e-5)


@pytest.mark.parametrize(("attention", "model"), MODELS)
def test_a_wide_beam_finds_the_exhaustive_argmax(attention, model):
    """Every target of up to 3 tokens over a 5-word vocabulary is scored by teacher
    forcing; a beam as wide as their number must return the best."""
    V, max_len = 5, 3
    net = seq2seq(attention, model, tgt_vocab=V)
    src = torch.randint(4, 11, (2, 4))
    candidates = [
        list(c)
        for n in range(max_len)
        for c in itertools.product([t for t in range(V) if t != EOS], repeat=n)
    ]  # then <eos>
    candidates += [
        list(c) for c in itertools.product([t for t in range(V) if t != EOS], repeat=max_len)
    ]  # cut at max_len
    best, _ = beam_search(net, src, BOS, EOS, max_len, beam_size=len(candidates))
    for row in range(2):
        one = src[row : row + 1].expand(len(candidates), -1)
        scores = sequence_log_prob(net, one, *tokens_to_targets(candidates, max_len))
        assert best[row] == candidates[int(scores.argmax())]


def test_attention_is_checked_at_start_up():
    with pytest.raises(RnnlabError, match="model.attention='dot' is not one of: none"):
        typed_config(compose_config(["task=seq2seq", "model.attention=dot"]))


def test_length_penalty_on_a_hand_worked_case():
    from rnnlab.inference.decoding import length_penalty, pick_best

    # Two final hypotheses: log P -1.0 with |Y| = 1, log P -1.5 with |Y| = 6.
    scores, lengths = torch.tensor([[-1.0, -1.5]]), torch.tensor([[1, 6]])
    assert length_penalty(torch.tensor(6), 1.0) == pytest.approx(11 / 6)
    assert length_penalty(torch.tensor(6), 0.0) == 1.0
    assert pick_best(scores, lengths, 0.0).item() == 0  # off: the most probable
    # α = 1: -1.0 / (6/6) = -1.0 against -1.5 / (11/6) = -0.818: the longer one wins
    assert pick_best(scores, lengths, 1.0).item() == 1
    # α = 0.5: -1.0 against -1.5 / sqrt(11/6) = -1.108: the shorter one still wins
    assert pick_best(scores, lengths, 0.5).item() == 0


@pytest.mark.parametrize("attention", ["none", "bahdanau"])
def test_length_penalty_returns_one_of_the_beams_with_its_log_probability(attention):
    net = seq2seq(attention, "gru")
    src = torch.randint(4, 11, (6, 4))
    plain, plain_scores = beam_search(net, src, BOS, EOS, 6, beam_size=4)
    hypotheses, scores = beam_search(net, src, BOS, EOS, 6, beam_size=4, alpha=2.0)
    expected = sequence_log_prob(net, src, *tokens_to_targets(hypotheses, 6))
    assert torch.allclose(scores, expected, atol=1e-5)
    assert (scores <= plain_scores + 1e-6).all()  # never more probable than the argmax
    assert all(len(h) >= len(p) for h, p in zip(hypotheses, plain, strict=True))


def test_attention_heat_map_in_tensorboard_and_as_png(tmp_path):
    corpus = reverse_corpus(300)
    overrides = [
        "task=seq2seq",
        "model=gru",
        "model.num_hiddens=16",
        "model.embed_size=8",
        "model.num_layers=1",
        "model.dropout=0",
        "data.num_steps=7",
        "trainer.max_epochs=1",
        "trainer.progress_bar=false",
        "model.attention=bahdanau",
    ]
    _, run_dir = run(tmp_path, corpus, overrides)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir), size_guidance={"images": 0})
    events.Reload()
    assert {f"attention/{i}" for i in range(4)} <= set(events.Tags()["images"])
    png = tmp_path / "map.png"
    result = translate_cli(f"checkpoint={run_dir / 'best.pt'}", "a b c", f"attention_png={png}")
    assert result.returncode == 0, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("folder", "is a directory; expected a file path"),
        ("map.foo", "has no picture suffix; expected one of: .png"),
        ("missing/map.png", "the folder"),
    ],
)
def test_a_heat_map_path_that_cannot_be_written_is_one_line(tmp_path, name, message):
    from rnnlab.errors import RnnlabError
    from rnnlab.translate import check_picture_path

    (tmp_path / "folder").mkdir()
    with pytest.raises(RnnlabError, match=message):
        check_picture_path(str(tmp_path / name))
    check_picture_path(str(tmp_path / "map.png"))  # a file in a folder that exists
