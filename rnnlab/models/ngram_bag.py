"""A bag of n-grams beside the recurrent stack: fastText's text classifier (Joulin et al.,
2017, "Bag of Tricks for Efficient Text Classification") as a branch of the sentiment
classifier (`model.bag_ngrams`).

A review becomes the mean of one learned vector per word and per hashed word n-gram
(n = 2 .. `bag_ngrams`), each n-gram hashed into `bag_buckets` rows as fastText does. The
recurrent stack reads the review in order; the bag sees which phrases occur, however far
apart, the feature that lets a linear model on TF-IDF bigrams (90.7% on IMDB) beat a
recurrent model trained for a few epochs from scratch. Padding never enters the mean.
"""

import torch
from torch import nn

HASH_MULTIPLIER = 1_000_003  # a prime: consecutive ids spread over the buckets


class NgramBag(nn.Module):
    """(batch, num_steps) right-padded ids, lengths → (batch, size): the mean vector of
    each review's words and its hashed 2..`order`-grams."""

    def __init__(self, vocab_size: int, order: int, num_buckets: int, size: int):
        super().__init__()
        self.vocab_size, self.order, self.num_buckets = vocab_size, order, num_buckets
        self.size = size
        self.table = nn.Embedding(vocab_size + (num_buckets if order > 1 else 0), size)
        nn.init.uniform_(self.table.weight, -1.0 / size, 1.0 / size)

    def ngram_ids(self, X: torch.Tensor, lengths: torch.Tensor):
        """(ids (batch, L), valid (batch, L)): the words, then every n-gram's bucket (offset
        by the vocabulary); an n-gram is valid where all its words are."""
        steps = torch.arange(X.shape[1], device=X.device)
        lengths = lengths.to(X.device).unsqueeze(1)
        ids, valid = [X], [steps < lengths]
        code = X
        for n in range(2, self.order + 1):
            code = (code[:, :-1] * HASH_MULTIPLIER + X[:, n - 1:]) % self.num_buckets
            ids.append(code + self.vocab_size)
            valid.append(steps[: X.shape[1] - n + 1] + n <= lengths)
        return torch.cat(ids, dim=1), torch.cat(valid, dim=1)

    def forward(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        ids, valid = self.ngram_ids(X, lengths)
        weights = valid.to(self.table.weight.dtype).unsqueeze(-1)
        summed = (self.table(ids) * weights).sum(dim=1)
        return summed / weights.sum(dim=1).clamp_min(1.0)
