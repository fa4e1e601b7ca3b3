"""Baselines for a `data=labelled` run on the run's own split and tokens: the majority
label, and TF-IDF + logistic regression (softmax), so a classifier's test accuracy and
macro-F1 have a floor to beat.

    python scripts/labelled_baselines.py data.path=FILE [data.test_fraction=0.2 ...]

The arguments are the run's `data.*` overrides (task=sentiment data=labelled are implied),
so the split and the vocabulary are the run's. TF-IDF of the words (the run's
vocabulary, sublinear tf, smoothed idf, rows L2-normalised); the regression is trained
full-batch with L-BFGS, its L2 weight chosen on the validation split, then scored once on
the test split. No scikit-learn needed.
"""

import sys

import torch
from torch.nn import functional as F

from rnnlab.config.run_config import compose_config
from rnnlab.data.labelled import Labelled, Reviews
from rnnlab.metrics import macro_f1

L2_GRID = (1e-5, 1e-4, 1e-3, 1e-2)


def counts(reviews: Reviews, vocab_size: int) -> torch.Tensor:
    rows = torch.zeros(len(reviews), vocab_size)
    for i, ids in enumerate(reviews.ids):
        rows[i].index_add_(0, ids, torch.ones(len(ids)))
    return rows


def tfidf(tf: torch.Tensor, idf: torch.Tensor) -> torch.Tensor:
    x = torch.where(tf > 0, 1 + torch.log(tf.clamp(min=1)), tf) * idf
    return x / x.norm(dim=1, keepdim=True).clamp(min=1e-12)


def scores(predicted: torch.Tensor, truth: torch.Tensor, num_classes: int) -> tuple:
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    confusion.index_put_((truth, predicted), torch.ones_like(truth), accumulate=True)
    return (predicted == truth).float().mean().item(), macro_f1(confusion.tolist())


def fit(x: torch.Tensor, y: torch.Tensor, num_classes: int, l2: float) -> torch.nn.Linear:
    torch.manual_seed(0)
    model = torch.nn.Linear(x.shape[1], num_classes)
    optimizer = torch.optim.LBFGS(model.parameters(), max_iter=500, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y) + l2 * model.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return model


def main(overrides: list[str]) -> None:
    torch.set_num_threads(1)
    cfg = compose_config(["task=sentiment", "data=labelled", *overrides])
    data = Labelled.load(cfg.data)
    names, size = data.label_names, len(data.vocab)
    y = {name: getattr(data, name).labels.long() for name in ("train", "val", "test")}
    majority = torch.bincount(y["train"], minlength=len(names)).argmax()
    accuracy, f1 = scores(majority.expand_as(y["test"]), y["test"], len(names))
    print(f"labels: {', '.join(names)}; train/val/test {[len(v) for v in y.values()]}")
    print(f"majority ({names[majority]}): test accuracy {accuracy:.4f}, macro-F1 {f1:.4f}")
    tf = {name: counts(getattr(data, name), size) for name in y}
    df = (tf["train"] > 0).sum(0).float()
    idf = torch.log((1 + len(y["train"])) / (1 + df)) + 1
    x = {name: tfidf(tf[name], idf) for name in y}
    best = None
    for l2 in L2_GRID:
        model = fit(x["train"], y["train"], len(names), l2)
        with torch.no_grad():
            val = scores(model(x["val"]).argmax(1), y["val"], len(names))[0]
        print(f"  l2 {l2:g}: val accuracy {val:.4f}")
        if best is None or val > best[1]:
            best = (l2, val, model)
    with torch.no_grad():
        accuracy, f1 = scores(best[2](x["test"]).argmax(1), y["test"], len(names))
    print(
        f"TF-IDF + logistic regression (l2 {best[0]:g}, chosen on val): test accuracy "
        f"{accuracy:.4f}, macro-F1 {f1:.4f}; chance {1 / len(names):.4f}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
