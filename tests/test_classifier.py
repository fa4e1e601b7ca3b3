"""The sentiment classifier: padding never changes a review's logit (every cell, both
implementations, bidirectional, every pooling), and the padded nn stack computes what
PyTorch computes on packed sequences."""

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab.errors import RnnlabError
from rnnlab.models.classifier import ClassifierConfig, build_classifier, parse_pooling
from rnnlab.models.padded import PaddedRecurrent, reverse_padded

VOCAB, PAD = 30, 1


def model_cfg(**overrides):
    return config_of(
        {
            "cell": "gru",
            "impl": "nn",
            "embed_size": 8,
            "num_hiddens": 6,
            "num_layers": 2,
            "bidirectional": True,
            "dropout": 0.0,
            "recurrent_dropout": 0.0,
            "pooling": "last",
            **overrides,
        }
    )


def config_of(values: dict):
    """The classifier's typed model config holding `values` (the rest at its defaults)."""
    return OmegaConf.structured(ClassifierConfig(**values))


@pytest.mark.parametrize("impl", ["nn", "scratch"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_does_not_change_the_logit(impl, cell, bidirectional):
    torch.manual_seed(0)
    model = build_classifier(
        VOCAB,
        model_cfg(impl=impl, cell=cell, bidirectional=bidirectional, pooling="last+max+mean"),
        PAD,
    ).eval()
    review = torch.randint(2, VOCAB, (1, 5))
    alone = model(review, torch.tensor([5]))
    # The same review in a batch padded to 9 steps, beside a longer review.
    batch = torch.full((2, 9), PAD)
    batch[0, :5], batch[1] = review[0], torch.randint(2, VOCAB, (9,))
    torch.testing.assert_close(model(batch, torch.tensor([5, 9]))[0], alone[0])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_padded_stack_equals_packed_sequences(cell):
    """Same weights as a 2-layer bidirectional nn module: same outputs and final H."""
    torch.manual_seed(0)
    nn_class = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
    reference = nn_class(4, 5, 2, bidirectional=True).double()
    padded = PaddedRecurrent(cell, 4, 5, 2, True).double()
    with torch.no_grad():
        for layer in range(2):
            for direction, suffix in enumerate(["", "_reverse"]):
                module = padded.layers[layer * 2 + direction]
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(module, f"{name}_l0").copy_(
                        getattr(reference, f"{name}_l{layer}{suffix}")
                    )
    lengths = torch.tensor([6, 2, 4])
    X = torch.randn(6, 3, 4, dtype=torch.float64)
    expected, state = reference(pack_padded_sequence(X, lengths, enforce_sorted=False))
    expected, _ = pad_packed_sequence(expected, total_length=6)
    outputs, H = padded(X, mask=torch.arange(6).unsqueeze(1) < lengths)
    torch.testing.assert_close(outputs, expected)
    torch.testing.assert_close(H, state[0] if isinstance(state, tuple) else state)


def test_reverse_padded_reverses_within_each_length():
    X = torch.arange(8).view(4, 2)  # (num_steps, batch)
    assert reverse_padded(X, torch.tensor([4, 2])).T.tolist() == [[6, 4, 2, 0], [3, 1, 5, 7]]


def test_pooling_names_are_checked():
    assert parse_pooling("max+mean") == ["max", "mean"]
    for bad in ["avg", "max+max", ""]:
        with pytest.raises(RnnlabError, match="model.pooling"):
            parse_pooling(bad)


def test_nn_cells_refuse_recurrent_dropout():
    """(The config check, `model.recurrent_dropout=0.2 needs a scratch cell`: test_validation.)"""
    with pytest.raises(ValueError, match="cannot drop out its recurrent state"):
        build_classifier(VOCAB, model_cfg(recurrent_dropout=0.2))
    model = build_classifier(VOCAB, model_cfg(impl="scratch", recurrent_dropout=0.2))
    assert model.recurrent.recurrent_dropout == 0.2


def test_the_ngram_bag_hashes_each_reviews_own_bigrams():
    """Hand-worked: words 2 3 4 (vocabulary 10, 7 buckets) → ids 2, 3, 4 and the bigrams
    (2, 3), (3, 4) hashed to 10 + (a * 1000003 + b) % 7; padding adds nothing."""
    from rnnlab.models.ngram_bag import NgramBag

    bag = NgramBag(vocab_size=10, order=2, num_buckets=7, size=3)
    ids, valid = bag.ngram_ids(torch.tensor([[2, 3, 4, PAD, PAD]]), torch.tensor([3]))
    kept = ids[valid].tolist()
    assert kept == [2, 3, 4, 10 + (2 * 1000003 + 3) % 7, 10 + (3 * 1000003 + 4) % 7]
    vector = bag(torch.tensor([[2, 3, 4, PAD, PAD]]), torch.tensor([3]))[0]
    torch.testing.assert_close(vector, bag.table.weight[kept].mean(dim=0))
    torch.testing.assert_close(vector, bag(torch.tensor([[2, 3, 4]]), torch.tensor([3]))[0])


def test_a_trigram_needs_three_real_words():
    from rnnlab.models.ngram_bag import NgramBag

    bag = NgramBag(vocab_size=10, order=3, num_buckets=7, size=3)
    _, valid = bag.ngram_ids(torch.tensor([[2, 3, 4, 5], [2, 3, PAD, PAD]]), torch.tensor([4, 2]))
    assert valid.sum(dim=1).tolist() == [4 + 3 + 2, 2 + 1 + 0]


def test_nb_weighting_counts_each_distinct_ngram_once_scaled_by_its_ratio():
    """Words 2 2 3 (vocabulary 10, 7 buckets, bigrams): the repeated word counts once; the
    vector is the sum of the distinct rows, each times its ratio."""
    from rnnlab.models.ngram_bag import NgramBag

    bag = NgramBag(vocab_size=10, order=2, num_buckets=7, size=2, weighting="nb")
    assert bag.table.weight.abs().sum() == 0  # the NB classifier's start
    X, lengths = torch.tensor([[2, 2, 3, PAD]]), torch.tensor([3])
    ids, keep = bag.distinct_ngram_ids(X, lengths)
    distinct = [2, 3, 10 + (2 * 1000003 + 2) % 7, 10 + (2 * 1000003 + 3) % 7]
    assert sorted(ids[keep].tolist()) == sorted(distinct)
    with torch.no_grad():
        bag.table.weight.normal_()
        bag.ratio.normal_()
    expected = (bag.table.weight[distinct] * bag.ratio[distinct].unsqueeze(1)).sum(dim=0)
    torch.testing.assert_close(bag(X, lengths)[0], expected)
    torch.testing.assert_close(bag(X[:, :3], lengths)[0], expected)  # padding adds nothing


def test_nb_ratios_equal_the_hand_worked_log_count_ratios():
    """Vocabulary 6, words only. Positive reviews [2, 2, 3] and [2]; negative [3, 4]; the
    rows count reviews, not occurrences: p = 1 + (0, 0, 2, 1, 0, 0), q = 1 + (0, 0, 0, 1,
    1, 0), r = log(p / |p|) - log(q / |q|); with min_count 2 only rows 2 and 3 keep one."""
    from rnnlab.models.ngram_bag import NgramBag

    bag = NgramBag(vocab_size=6, order=1, num_buckets=1, size=1, weighting="nb", min_count=2)
    X = torch.tensor([[2, 2, 3], [2, PAD, PAD], [3, 4, PAD]])
    kept = bag.fit_ratios([(X, torch.tensor([3, 1, 2]), torch.tensor([1.0, 1.0, 0.0]))])
    p = torch.tensor([1.0, 1, 3, 2, 1, 1])
    q = torch.tensor([1.0, 1, 1, 2, 2, 1])
    ratio = torch.log(p / p.sum()) - torch.log(q / q.sum())
    assert kept == 2
    torch.testing.assert_close(bag.ratio, torch.tensor([0, 0, ratio[2], ratio[3], 0, 0]))
    assert bag.ratio[2] > 0 and "ratio" in bag.state_dict()


@pytest.mark.parametrize("impl", ["nn", "scratch"])
def test_the_bag_joins_the_head_and_padding_still_changes_nothing(impl):
    torch.manual_seed(0)
    plain = build_classifier(VOCAB, model_cfg(impl=impl), PAD)
    model = build_classifier(
        VOCAB, model_cfg(impl=impl, bag_ngrams=2, bag_buckets=50, bag_size=4), PAD
    ).eval()
    assert plain.bag is None and model.bag.table.num_embeddings == VOCAB + 50
    assert model.head.in_features == plain.head.in_features + 4
    review = torch.randint(2, VOCAB, (1, 5))
    batch = torch.full((2, 9), PAD)
    batch[0, :5], batch[1] = review[0], torch.randint(2, VOCAB, (9,))
    torch.testing.assert_close(
        model(batch, torch.tensor([5, 9]))[0], model(review, torch.tensor([5]))[0]
    )
    model(review, torch.tensor([5])).sum().backward()
    assert model.bag.table.weight.grad[review[0]].abs().sum() > 0
