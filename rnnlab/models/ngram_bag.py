"""A bag of n-grams beside the recurrent stack (`model.bag_ngrams`): fastText's text
classifier (Joulin et al., 2017, "Bag of Tricks for Efficient Text Classification") or
NBSVM's Naive-Bayes-weighted n-grams (Wang and Manning, 2012, "Baselines and Bigrams") as
a branch of the sentiment classifier.

Each word and each hashed word n-gram (n = 2 .. `bag_ngrams`, hashed into `bag_buckets`
rows as fastText does) has a learned vector. `model.bag_weighting` says how a review's
n-grams make one vector:
- `mean` (fastText): the mean over every n-gram occurrence.
- `nb` (NBSVM): the sum over the review's distinct n-grams, each scaled by its fixed
  Naive Bayes log-count ratio r = log((p / |p|) / (q / |q|)), where p and q count the
  positive and negative training reviews holding it, plus one (`fit_ratios`). An n-gram
  in fewer than `bag_min_count` training reviews gets r = 0: a phrase of one review lets
  the model memorise that review. With a linear head this is logistic regression on
  NB-scaled binary features, the classical model that beats TF-IDF on IMDB.
The recurrent stack reads the review in order; the bag sees which phrases occur, however
far apart. Padding never enters the vector.
"""

import torch
from torch import nn

HASH_MULTIPLIER = 1_000_003  # a prime: consecutive ids spread over the buckets
WEIGHTINGS = ("mean", "nb")


class NgramBag(nn.Module):
    """(batch, num_steps) right-padded ids, lengths → (batch, size): one vector per review
    from its words and hashed 2..`order`-grams, weighted as `weighting` says."""

    def __init__(
        self,
        vocab_size: int,
        order: int,
        num_buckets: int,
        size: int,
        weighting: str = "mean",
        min_count: int = 2,
    ):
        super().__init__()
        self.vocab_size, self.order, self.num_buckets = vocab_size, order, num_buckets
        self.size, self.weighting, self.min_count = size, weighting, min_count
        num_rows = vocab_size + (num_buckets if order > 1 else 0)
        self.table = nn.Embedding(num_rows, size)
        if weighting == "nb":  # the ratios set the scale: start from the NB classifier's 0
            nn.init.zeros_(self.table.weight)
            self.register_buffer("ratio", torch.zeros(num_rows))
        else:
            nn.init.uniform_(self.table.weight, -1.0 / size, 1.0 / size)

    def ngram_ids(self, X: torch.Tensor, lengths: torch.Tensor):
        """(ids (batch, L), valid (batch, L)): the words, then every n-gram's bucket (offset
        by the vocabulary); an n-gram is valid where all its words are."""
        steps = torch.arange(X.shape[1], device=X.device)
        lengths = lengths.to(X.device).unsqueeze(1)
        ids, valid = [X], [steps < lengths]
        code = X
        for n in range(2, self.order + 1):
            code = (code[:, :-1] * HASH_MULTIPLIER + X[:, n - 1 :]) % self.num_buckets
            ids.append(code + self.vocab_size)
            valid.append(steps[: X.shape[1] - n + 1] + n <= lengths)
        return torch.cat(ids, dim=1), torch.cat(valid, dim=1)

    def distinct_ngram_ids(self, X: torch.Tensor, lengths: torch.Tensor):
        """As `ngram_ids`, but each row's valid ids are distinct: a repeated n-gram counts
        once (NBSVM's binary features)."""
        ids, valid = self.ngram_ids(X, lengths)
        ids, _ = ids.masked_fill(~valid, -1).sort(dim=1)
        first = torch.ones_like(valid)
        first[:, 1:] = ids[:, 1:] != ids[:, :-1]
        return ids.clamp_min(0), first & (ids >= 0)

    @torch.no_grad()
    def fit_ratios(self, batches) -> int:
        """Set the NB log-count ratios from (X, lengths, labels) batches of the training
        reviews (labels 1. positive, 0. negative); returns how many rows kept a ratio."""
        rows = self.table.num_embeddings
        positive = torch.zeros(rows, dtype=torch.int64)
        negative = torch.zeros(rows, dtype=torch.int64)
        for X, lengths, labels in batches:
            ids, keep = self.distinct_ngram_ids(X, lengths)
            is_positive = (labels > 0.5).unsqueeze(1).expand_as(ids)
            positive += torch.bincount(ids[keep & is_positive], minlength=rows)
            negative += torch.bincount(ids[keep & ~is_positive], minlength=rows)
        p, q = positive + 1.0, negative + 1.0
        ratio = torch.log(p / p.sum()) - torch.log(q / q.sum())
        kept = positive + negative >= self.min_count
        self.ratio.copy_(ratio.where(kept, torch.zeros(())))
        return int(kept.sum())

    def forward(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.weighting == "nb":
            ids, keep = self.distinct_ngram_ids(X, lengths)
            weights = (self.ratio[ids] * keep).to(self.table.weight.dtype).unsqueeze(-1)
            return (self.table(ids) * weights).sum(dim=1)
        ids, valid = self.ngram_ids(X, lengths)
        weights = valid.to(self.table.weight.dtype).unsqueeze(-1)
        summed = (self.table(ids) * weights).sum(dim=1)
        return summed / weights.sum(dim=1).clamp_min(1.0)
