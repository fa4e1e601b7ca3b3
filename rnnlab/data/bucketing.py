"""Batches of reviews of similar length, so padding (and the work spent on it) is small.

Training: shuffle all examples, cut the shuffled order into pools of `pool_batches`
batches, sort each pool by length, cut it into batches and shuffle the batches. Every
example lands in exactly one batch per epoch, batches still differ from epoch to epoch,
and a seeded generator makes each epoch's batches reproducible (a resumed run sees the
same ones). Evaluation: one pass sorted by length, in order.
"""

import torch


def bucket_batches(
    lengths: torch.Tensor, batch_size: int, generator: torch.Generator, pool_batches: int = 50
) -> list[torch.Tensor]:
    """lengths: (n,) → a list of index tensors, each at most `batch_size` long, that
    together hold every index in range(n) exactly once."""
    order = torch.randperm(len(lengths), generator=generator)
    pool = batch_size * pool_batches
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        # stable sort: equal lengths keep their shuffled order
        chunk = chunk[torch.sort(lengths[chunk], stable=True).indices]
        batches += list(chunk.split(batch_size))
    permutation = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in permutation]


def sorted_batches(lengths: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    """Every index once, in batches of similar length (for evaluation: order is free)."""
    return list(torch.sort(lengths, stable=True).indices.split(batch_size))


def pad_batch(sequences: list[torch.Tensor], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids (batch, longest) and the true lengths (batch,)."""
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)
    X = torch.nn.utils.rnn.pad_sequence(sequences, batch_first=True, padding_value=pad_id)
    return X, lengths


def same_length_batches(
    group_lengths: torch.Tensor,
    lengths: torch.Tensor,
    batch_size: int,
    generator: torch.Generator | None = None,
    pool_batches: int = 50,
) -> list[torch.Tensor]:
    """Batches in which every example has the same `group_lengths` (a translation's source
    length) and similar `lengths` (its target length), each index exactly once. With a
    `generator` (training) each group is bucketed as `bucket_batches` does and the batches
    of all groups are shuffled together; without one (evaluation), in order of
    (group length, length)."""
    batches = []
    for value in torch.unique(group_lengths).tolist():
        members = (group_lengths == value).nonzero().squeeze(1)
        if generator is None:
            batches += [members[b] for b in sorted_batches(lengths[members], batch_size)]
        else:
            batches += [
                members[b]
                for b in bucket_batches(lengths[members], batch_size, generator, pool_batches)
            ]
    if generator is None:
        return batches
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def same_length_batch_count(group_lengths: torch.Tensor, batch_size: int) -> int:
    """How many batches `same_length_batches` makes (with or without a generator): each
    group of one length is cut into ceil(size / batch_size) batches."""
    counts = torch.unique(group_lengths, return_counts=True)[1]
    return int(((counts + batch_size - 1) // batch_size).sum())


def trim_padding(ids: torch.Tensor, pad: int) -> torch.Tensor:
    """Right-padded ids (batch, steps) without the trailing steps that are padding in
    every row (at least one step is kept)."""
    real = (ids != pad).any(dim=0).nonzero()
    return ids[:, : int(real[-1]) + 1 if len(real) else 1]
