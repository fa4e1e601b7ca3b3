"""sampling: with corpus = arange(n) every id is its own position, so offsets, shifts and
coverage can be checked exactly."""

import pytest
import torch

from rnnlab.data.sampling import (
    batches,
    evaluation_batches,
    num_batches,
    random_batches,
    sequential_batches,
)
from rnnlab.errors import RnnlabError

N, BATCH_SIZE, NUM_STEPS = 103, 3, 5


def _epoch(sampler, seed=0, n=N, batch_size=BATCH_SIZE, num_steps=NUM_STEPS):
    generator = torch.Generator().manual_seed(seed)
    return list(sampler(torch.arange(n), batch_size, num_steps, generator))


@pytest.mark.parametrize("sampler", [random_batches, sequential_batches])
def test_shapes_dtype_and_shift_by_one(sampler):
    epoch = _epoch(sampler)
    assert epoch
    for X, Y in epoch:
        assert X.shape == Y.shape == (BATCH_SIZE, NUM_STEPS)
        assert X.dtype == Y.dtype == torch.int64
        assert torch.equal(Y, X + 1)
        assert torch.equal(X[:, 1:], X[:, :-1] + 1)  # each row is a contiguous run


@pytest.mark.parametrize("seed", range(8))
def test_random_covers_every_subsequence_after_the_offset_once(seed):
    epoch = _epoch(random_batches, seed)
    starts = torch.cat([X[:, 0] for X, _ in epoch]).tolist()
    assert len(set(starts)) == len(starts)  # no subsequence repeats
    offset = starts[0] % NUM_STEPS
    assert all(s % NUM_STEPS == offset for s in starts)
    available = (N - offset - 1) // NUM_STEPS  # full subsequences, each with a label token
    assert available - BATCH_SIZE < len(starts) <= available  # only a partial batch dropped
    assert len(starts) % BATCH_SIZE == 0
    assert max(starts) + NUM_STEPS < N  # the last label exists


def test_random_order_depends_on_the_seed_only():
    first = [X for X, _ in _epoch(random_batches, seed=1)]
    again = [X for X, _ in _epoch(random_batches, seed=1)]
    other = [X for X, _ in _epoch(random_batches, seed=2)]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert torch.cat(first).tolist() != torch.cat(other).tolist()


def test_random_offsets_vary_across_seeds():
    offsets = {_epoch(random_batches, seed)[0][0][0, 0].item() % NUM_STEPS for seed in range(30)}
    assert offsets == set(range(NUM_STEPS))


@pytest.mark.parametrize("seed", range(8))
def test_sequential_batches_continue_row_by_row(seed):
    epoch = _epoch(sequential_batches, seed)
    for (X, _), (X_next, _) in zip(epoch, epoch[1:], strict=False):
        assert torch.equal(X_next[:, 0], X[:, -1] + 1)
    streams = torch.cat([X for X, _ in epoch], dim=1)  # (batch_size, tokens per stream)
    assert torch.equal(streams[:, 1:], streams[:, :-1] + 1)  # each stream is contiguous
    stream_len = (N - streams[0, 0].item() - 1) // BATCH_SIZE
    assert torch.equal(
        streams[1:, 0] - streams[:-1, 0], torch.full((BATCH_SIZE - 1,), stream_len)
    )  # streams tile the corpus
    assert streams[0, 0].item() < NUM_STEPS


@pytest.mark.parametrize(
    "sampling,sampler", [("random", random_batches), ("sequential", sequential_batches)]
)
def test_num_batches_is_exact_or_one_more(sampling, sampler):
    for n in (40, 103, 257):
        bound = num_batches(n, BATCH_SIZE, NUM_STEPS, sampling)
        counts = {len(_epoch(sampler, seed, n=n)) for seed in range(20)}
        assert counts <= {bound, bound - 1}
        assert bound in counts


def test_dispatcher_matches_the_named_sampler():
    generator = torch.Generator().manual_seed(3)
    via_dispatch = list(batches(torch.arange(N), BATCH_SIZE, NUM_STEPS, "sequential", generator))
    direct = _epoch(sequential_batches, seed=3)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(via_dispatch, direct, strict=True))


def test_unknown_sampling_lists_valid_values():
    with pytest.raises(RnnlabError, match="'shuffled' is not one of: random, sequential"):
        batches(torch.arange(N), BATCH_SIZE, NUM_STEPS, "shuffled", torch.Generator())


@pytest.mark.parametrize("sampling", ["random", "sequential"])
def test_too_short_corpus_names_sizes_and_length(sampling):
    n = (BATCH_SIZE + 1) * NUM_STEPS - 1
    with pytest.raises(RnnlabError) as info:
        batches(torch.arange(n), BATCH_SIZE, NUM_STEPS, sampling, torch.Generator())
    message = str(info.value)
    assert f"batch_size={BATCH_SIZE}" in message and f"num_steps={NUM_STEPS}" in message
    assert f"{n} tokens" in message


@pytest.mark.parametrize("sampler", [random_batches, sequential_batches])
def test_shortest_allowed_corpus_gives_a_batch_for_every_offset(sampler):
    n = (BATCH_SIZE + 1) * NUM_STEPS
    assert all(len(_epoch(sampler, seed, n=n)) >= 1 for seed in range(20))


@pytest.mark.parametrize(("n", "batch_size"), [(N, BATCH_SIZE), (4, 10)])
def test_evaluation_batches_predict_each_token_of_the_full_streams_once(n, batch_size):
    epoch = list(evaluation_batches(torch.arange(n), batch_size, NUM_STEPS))
    targets = torch.cat([Y.reshape(-1) for _, Y in epoch])
    usable = (n - 1) // batch_size * batch_size if (n - 1) // batch_size else n - 1
    assert sorted(targets.tolist()) == list(range(1, usable + 1))
    for X, Y in epoch:
        assert torch.equal(Y, X + 1)
    for (X, _), (X_next, _) in zip(epoch, epoch[1:], strict=False):
        assert torch.equal(X_next[:, 0], X[:, -1] + 1)  # streams continue: state is carried


@pytest.mark.parametrize("corpus_len", [0, 1])
def test_a_training_text_too_short_for_any_batch_blames_the_text(corpus_len):
    """Issue 31, defect 14: data.max_tokens=1 said "expected num_steps <= 0"."""
    from rnnlab.data.sampling import check_fits

    with pytest.raises(RnnlabError) as error:
        check_fits(corpus_len, 32, 35)
    assert str(error.value) == (
        f"the training text has {corpus_len} tokens; expected at least 2 (batch_size=1, "
        "num_steps=1), from a longer text or a larger data.max_tokens"
    )
