"""The seq2seq decoders' registry (`model.attention`): its options, its one-line refusal
of an unknown one, the state_dict keys old checkpoints hold, and a tiny run per decoder."""

import math

import pytest
import torch
from helpers.config import compose_config
from helpers.seq2seq import reverse_corpus
from helpers.seq2seq import run as run_seq2seq

from rnnlab.config.run_config import typed_config
from rnnlab.errors import RnnlabError
from rnnlab.models.seq2seq import build_seq2seq
from rnnlab.models.seq2seq.decoders import ATTENTIONS, DECODERS, Decoder, decoder_class


def test_the_registry_lists_every_decoder_none_first():
    assert ATTENTIONS == ("none", "bahdanau", "luong")
    for name, decoder in DECODERS.items():
        assert issubclass(decoder, Decoder) and decoder.name == name


def test_an_unknown_decoder_is_refused_in_one_line():
    """At start-up (the entry points print an RnnlabError as one `error:` line, exit 2),
    and by the registry itself for code that builds a model without validating."""
    message = "model.attention='dot' is not one of: none, bahdanau, luong"
    with pytest.raises(RnnlabError) as at_start:
        typed_config(compose_config(["task=seq2seq", "model.attention=dot"]))
    with pytest.raises(RnnlabError) as in_registry:
        decoder_class("dot")
    assert str(at_start.value) == str(in_registry.value) == message


# The state_dict keys, in order, of main's code before the decoders became a package
# (commit 5f0060e; model.num_layers=2, model.bidirectional=true): old checkpoints hold
# these names, and the optimizer's state follows the parameters' order.
ENCODER_STACK = {
    "gru": [
        f"{kind}_{part}_l{layer}{direction}"
        for layer in (0, 1)
        for direction in ("", "_reverse")
        for kind, part in (("weight", "ih"), ("weight", "hh"), ("bias", "ih"), ("bias", "hh"))
    ],
    "lstm_scratch": [
        f"weights.{row}.{name}" for row in range(4) for name in ("W_x", "W_h", "b_x", "b_h")
    ],
}
DECODER_STACK = {
    "gru": [
        f"{kind}_{part}_l{layer}"
        for layer in (0, 1)
        for kind, part in (("weight", "ih"), ("weight", "hh"), ("bias", "ih"), ("bias", "hh"))
    ],
    "lstm_scratch": [
        f"weights.{row}.{name}" for row in range(2) for name in ("W_x", "W_h", "b_x", "b_h")
    ],
}
DECODER_PARTS = {
    "none": [],
    "bahdanau": ["attention.W_q.weight", "attention.W_k.weight", "attention.w_v.weight"],
    "luong": ["attention.W.weight", "combine.weight"],
}


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("model", ["gru", "lstm_scratch"])
def test_state_dict_keys_are_those_old_checkpoints_hold(attention, model):
    cfg = compose_config(
        [
            "task=seq2seq",
            f"model={model}",
            f"model.attention={attention}",
            "model.num_hiddens=8",
            "model.embed_size=4",
            "model.num_layers=2",
            "model.bidirectional=true",
        ]
    )
    keys = list(build_seq2seq(11, 13, cfg.model, src_pad=1).state_dict())
    assert keys == [
        "encoder.embedding.weight",
        *(f"encoder.recurrent.{key}" for key in ENCODER_STACK[model]),
        "decoder.embedding.weight",
        *(f"decoder.recurrent.{key}" for key in DECODER_STACK[model]),
        "decoder.head.weight",
        "decoder.head.bias",
        *(f"decoder.{key}" for key in DECODER_PARTS[attention]),
    ]


@pytest.fixture(scope="module")
def small_corpus():
    return reverse_corpus(300)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_a_tiny_run_trains_with_each_decoder(tmp_path, small_corpus, attention):
    torch.manual_seed(0)
    overrides = [
        "task=seq2seq",
        "model=gru",
        "model.num_hiddens=16",
        "model.embed_size=8",
        "model.num_layers=1",
        "model.dropout=0",
        "data.num_steps=7",
        "optim.lr=0.01",
        "trainer.max_epochs=2",
        "trainer.progress_bar=false",
        "eval.beam_size=1",
        f"model.attention={attention}",
    ]
    metrics, run_dir = run_seq2seq(tmp_path, small_corpus, overrides)
    assert metrics["status"] == "finished" and (run_dir / "best.pt").is_file()
    uniform = math.log(len(small_corpus.tgt_vocab))  # the loss of a uniform guess
    assert metrics["val_loss"] < 0.9 * uniform


def test_the_cut_warning_quotes_only_the_start_of_a_long_sentence(caplog):
    """Issue 31, defect 14: translate quoted a whole 1 MB sentence."""
    from rnnlab.inference.decoding import translate

    corpus = reverse_corpus()
    torch.manual_seed(0)
    model = build_seq2seq(
        len(corpus.src_vocab), len(corpus.tgt_vocab), compose_config(["task=seq2seq"]).model
    )
    long = "a b " * 250_000
    with caplog.at_level("WARNING"):
        translate(model, corpus.src_vocab, corpus.tgt_vocab, [long], num_steps=8)
    [warning] = [r.getMessage() for r in caplog.records if "tokens:" in r.getMessage()]
    assert warning.startswith(f"{long[:60]!r}... (1,000,000 characters) has 500000 tokens")
    assert len(warning) < 200
