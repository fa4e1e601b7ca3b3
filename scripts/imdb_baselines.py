"""Classical IMDB baselines on the sentiment task's own split and tokens, so its models'
test accuracy has a floor to beat.

    pip install scikit-learn   # not a dependency of rnnlab: only this script needs it
    python scripts/imdb_baselines.py [--val-fraction 0.1] [--split-seed 0]

Two linear models on word n-grams of the whole reviews (rnnlab's tokenizer, every word
kept), each with its regularisation C chosen on the validation reviews (the 10% of the
training reviews that task=sentiment validates on), then scored once on all 25,000 test
reviews:
- TF-IDF of 1-2-grams (sublinear tf, n-grams in at least 2 reviews) + logistic regression;
- NB-weighted 1-3-grams + logistic regression: binary features, each scaled by its Naive
  Bayes log-count ratio (Wang and Manning, 2012; what `model.bag_weighting=nb` feeds the
  classifier's bag).
"""

import argparse
import os
import time

import numpy as np

from rnnlab.data.imdb import load_imdb

GRID = (0.1, 1.0, 4.0, 16.0, 64.0)


def fit_best(X: dict, y: dict, grid=GRID):
    """(C, val accuracy, test accuracy) of the logistic regression best on validation."""
    from sklearn.linear_model import LogisticRegression

    best = None
    for C in grid:
        model = LogisticRegression(C=C, max_iter=2000).fit(X["train"], y["train"])
        val = model.score(X["val"], y["val"])
        if best is None or val > best[1]:
            best = (C, val, model.score(X["test"], y["test"]))
    return best


def nb_scaled(X: dict, y_train: np.ndarray) -> dict:
    """Binary features times r = log((p / |p|) / (q / |q|)), p and q counting the positive
    and negative training reviews that hold each n-gram, plus one."""
    from scipy.sparse import diags

    binary = {split: (matrix > 0).astype(np.float64) for split, matrix in X.items()}
    p = 1 + np.asarray(binary["train"][y_train == 1].sum(axis=0)).ravel()
    q = 1 + np.asarray(binary["train"][y_train == 0].sum(axis=0)).ravel()
    scale = diags(np.log(p / p.sum()) - np.log(q / q.sum()))
    return {split: matrix @ scale for split, matrix in binary.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--split-seed", type=int, default=0)
    args = parser.parse_args()
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
    except ImportError:
        raise SystemExit(
            "error: this script needs scikit-learn (pip install scikit-learn)"
        ) from None
    data = load_imdb(
        os.environ.get("RNNLAB_DATA"),
        None,
        None,
        1,
        10**6,
        "head",
        args.val_fraction,
        args.split_seed,
    )
    splits = {"train": data.train, "val": data.val, "test": data.test}
    texts = {
        name: [" ".join(map(str, r.tolist())) for r in reviews.ids]
        for name, reviews in splits.items()
    }
    y = {name: reviews.labels.numpy() for name, reviews in splits.items()}
    print(f"reviews: {len(data.train)} train, {len(data.val)} val, {len(data.test)} test")
    for label, order, weighting in (
        ("TF-IDF 1-2-grams", 2, "tfidf"),
        ("NB-weighted 1-3-grams", 3, "nb"),
    ):
        start = time.perf_counter()
        vectorizer = TfidfVectorizer(
            ngram_range=(1, order), token_pattern=r"\S+", sublinear_tf=True, min_df=2
        )
        X = {
            name: (vectorizer.fit_transform(t) if name == "train" else vectorizer.transform(t))
            for name, t in texts.items()
        }
        if weighting == "nb":
            X = nb_scaled(X, y["train"])
        C, val, test = fit_best(X, y)
        print(
            f"{label} + logistic regression ({X['train'].shape[1]:,} features): C={C}  "
            f"val {val:.2%}  test {test:.2%}  ({time.perf_counter() - start:.0f} s)"
        )


if __name__ == "__main__":
    main()
