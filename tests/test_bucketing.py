"""Length bucketing: every example exactly once per epoch, similar lengths per batch,
reproducible from the seed."""

import torch

from rnnlab.data.bucketing import bucket_batches, pad_batch, sorted_batches


def test_every_example_lands_in_exactly_one_batch():
    lengths = torch.randint(1, 500, (1003,), generator=torch.Generator().manual_seed(0))
    for epoch in range(3):
        batches = bucket_batches(lengths, 32, torch.Generator().manual_seed(epoch), pool_batches=5)
        assert sorted(torch.cat(batches).tolist()) == list(range(1003))
        assert all(1 <= len(b) <= 32 for b in batches)
    assert sorted(torch.cat(sorted_batches(lengths, 64)).tolist()) == list(range(1003))


def test_batches_hold_similar_lengths_and_depend_on_the_seed():
    lengths = torch.randint(1, 500, (4000,), generator=torch.Generator().manual_seed(0))
    batches = bucket_batches(lengths, 32, torch.Generator().manual_seed(1))
    spread = sum(int(lengths[b].max() - lengths[b].min()) for b in batches) / len(batches)
    assert spread < 40  # a random batch of 32 spans about 470
    again = bucket_batches(lengths, 32, torch.Generator().manual_seed(1))
    other = bucket_batches(lengths, 32, torch.Generator().manual_seed(2))
    assert all(torch.equal(a, b) for a, b in zip(batches, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(batches, other, strict=True))


def test_pad_batch_pads_on_the_right():
    X, lengths = pad_batch([torch.tensor([5, 6, 7]), torch.tensor([8])], pad_id=1)
    assert X.tolist() == [[5, 6, 7], [8, 1, 1]] and lengths.tolist() == [3, 1]


def test_same_length_batch_count_is_the_number_of_batches_either_way():
    from rnnlab.data.bucketing import same_length_batch_count, same_length_batches

    generator = torch.Generator().manual_seed(0)
    groups = torch.randint(1, 6, (537,), generator=generator)
    lengths = torch.randint(1, 11, (537,), generator=generator)
    for size in (1, 7, 16, 600):
        count = same_length_batch_count(groups, size)
        assert count == len(same_length_batches(groups, lengths, size))
        assert count == len(same_length_batches(groups, lengths, size, generator, pool_batches=3))
