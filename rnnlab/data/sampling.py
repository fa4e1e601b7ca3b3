"""Minibatches for language models (d2l section 9.3): each batch is `X`, a
(batch_size, num_steps) block of token ids, and `Y`, the same block shifted one token on,
so `Y[i, t]` is the token that follows `X[i, t]`.

Both samplers drop a random offset in [0, num_steps - 1] from the start of the corpus
every epoch, so the model sees subsequences cut at every phase over a run.
- random: subsequences in shuffled order; adjacent batches are unrelated, so the model
  starts each batch from a fresh hidden state.
- sequential: `batch_size` parallel streams; row i of batch k+1 continues row i of batch k,
  so the hidden state is carried (detached) from one batch to the next.
"""

from collections.abc import Iterator

import torch

from rnnlab.errors import RnnlabError

SAMPLINGS = ("random", "sequential")
Batch = tuple[torch.Tensor, torch.Tensor]


def random_batches(
    corpus: torch.Tensor, batch_size: int, num_steps: int, generator: torch.Generator
) -> Iterator[Batch]:
    """Non-overlapping subsequences after a random offset, shuffled, `batch_size` at a time
    (the incomplete last batch is dropped). corpus: (num_tokens,) int64 ids."""
    check_fits(len(corpus), batch_size, num_steps)
    offset = _random_offset(num_steps, generator)
    num_subseqs = (len(corpus) - offset - 1) // num_steps  # each needs its +1 label token
    num_batches = num_subseqs // batch_size
    order = torch.randperm(num_subseqs, generator=generator, device=generator.device)
    starts = offset + num_steps * order[: num_batches * batch_size].to(corpus.device)
    steps = torch.arange(num_steps, device=corpus.device)
    for batch_starts in starts.view(num_batches, batch_size):
        positions = batch_starts[:, None] + steps  # (batch_size, num_steps)
        yield corpus[positions], corpus[positions + 1]


def sequential_batches(
    corpus: torch.Tensor, batch_size: int, num_steps: int, generator: torch.Generator
) -> Iterator[Batch]:
    """`batch_size` contiguous streams after a random offset, walked `num_steps` at a time:
    X_{k+1}[i, 0] is the token after X_k[i, -1]. corpus: (num_tokens,) int64 ids."""
    check_fits(len(corpus), batch_size, num_steps)
    Xs, Ys = _streams(corpus, batch_size, offset=_random_offset(num_steps, generator))
    for start in range(0, Xs.shape[1] // num_steps * num_steps, num_steps):
        yield (
            Xs[:, start : start + num_steps].contiguous(),
            Ys[:, start : start + num_steps].contiguous(),
        )


def evaluation_batches(corpus: torch.Tensor, batch_size: int, num_steps: int) -> Iterator[Batch]:
    """The held-out tokens for perplexity, each predicted at most once: the sequential
    layout (`batch_size` contiguous streams) with no offset and no dropped tail window (the
    last one may be shorter than num_steps). Not scored: the first token (nothing predicts
    it) and the last (N - 1) mod batch_size, which do not fill a stream (at most
    batch_size - 1 tokens). A corpus too short for `batch_size` streams is read as one
    stream, every token after the first."""
    if (len(corpus) - 1) // batch_size == 0:
        batch_size = 1
    Xs, Ys = _streams(corpus, batch_size, offset=0)
    for start in range(0, Xs.shape[1], num_steps):
        yield Xs[:, start : start + num_steps], Ys[:, start : start + num_steps]


def num_batches(corpus_len: int, batch_size: int, num_steps: int, sampling: str) -> int:
    """Batches in one epoch, for a progress bar: exact for offset 0; a larger random
    offset yields the same number or one fewer."""
    _check_sampling(sampling)
    if sampling == "random":
        return (corpus_len - 1) // num_steps // batch_size
    return (corpus_len - 1) // batch_size // num_steps


def batches(
    corpus: torch.Tensor,
    batch_size: int,
    num_steps: int,
    sampling: str,
    generator: torch.Generator,
) -> Iterator[Batch]:
    """One epoch of (X, Y) batches with the sampler named by `sampling`; bad arguments
    raise here rather than at the first batch."""
    _check_sampling(sampling)
    check_fits(len(corpus), batch_size, num_steps)
    sampler = random_batches if sampling == "random" else sequential_batches
    return sampler(corpus, batch_size, num_steps, generator)


def _streams(corpus: torch.Tensor, batch_size: int, offset: int) -> Batch:
    """The corpus from `offset` as `batch_size` contiguous rows, and the same rows one token
    on: (batch_size, stream_len) each, the tail that does not fill a row dropped."""
    num_tokens = (len(corpus) - offset - 1) // batch_size * batch_size
    Xs = corpus[offset : offset + num_tokens].view(batch_size, -1)
    Ys = corpus[offset + 1 : offset + 1 + num_tokens].view(batch_size, -1)
    return Xs, Ys


def _random_offset(num_steps: int, generator: torch.Generator) -> int:
    return int(torch.randint(num_steps, (1,), generator=generator, device=generator.device))


def _check_sampling(sampling: str) -> None:
    if sampling not in SAMPLINGS:
        raise RnnlabError(f"data.sampling={sampling!r} is not one of: {', '.join(SAMPLINGS)}")


def check_fits(corpus_len: int, batch_size: int, num_steps: int) -> None:
    """Every offset must leave at least one batch, so an epoch is never empty: that needs
    (batch_size + 1) * num_steps tokens (the offset and the label token eat the extra).
    The message blames num_steps when not even batch_size=1 could fit, else batch_size."""
    for name, value in (("batch_size", batch_size), ("num_steps", num_steps)):
        if not isinstance(value, int) or value < 1:
            raise RnnlabError(f"data.{name}={value!r} is not a positive integer")
    needed = (batch_size + 1) * num_steps
    if corpus_len >= needed:
        return
    if corpus_len < 2:  # no num_steps or batch_size could fit: the text is to blame
        raise RnnlabError(
            f"the training text has {corpus_len} tokens; expected at least 2 (batch_size=1, "
            "num_steps=1), from a longer text or a larger data.max_tokens"
        )
    max_batch_size, max_num_steps = corpus_len // num_steps - 1, corpus_len // (batch_size + 1)
    if max_batch_size >= 1:
        raise RnnlabError(
            f"data.batch_size={batch_size} is larger than the {corpus_len // num_steps} "
            f"sequences of num_steps={num_steps} in a training text of {corpus_len} tokens "
            f"(it needs (batch_size + 1) * num_steps = {needed}); expected batch_size <= "
            f"{max_batch_size}"
        )
    expected = (
        f"num_steps <= {max_num_steps} at batch_size={batch_size}"
        if max_num_steps
        else f"num_steps <= {corpus_len // 2} and batch_size=1"
    )
    raise RnnlabError(
        f"data.num_steps={num_steps} is too long for a training text of {corpus_len} tokens "
        f"(it needs (batch_size + 1) * num_steps = {needed}); expected {expected}"
    )
