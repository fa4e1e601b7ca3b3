"""task=sentiment on synthetic reviews (no real data): the reviews and small settings."""

SMALL = [
    "task=sentiment",
    "model.embed_size=8",
    "model.num_hiddens=8",
    "data.batch_size=16",
    "trainer.max_epochs=4",
    "trainer.progress_bar=false",
    "optim.lr=0.02",
    "model.dropout=0.0",
    "data.vocab_size=null",
]


def synthetic_reviews(num_reviews, rng):
    """Neutral words with one "good" (positive) or "bad" (negative) somewhere in them."""
    texts, labels = [], []
    for _ in range(num_reviews):
        words = [f"w{rng.randrange(20)}" for _ in range(rng.randrange(2, 12))]
        label = rng.randrange(2)
        words.insert(rng.randrange(len(words) + 1), "good" if label else "bad")
        texts.append(" ".join(words) + " .")
        labels.append(label)
    return texts, labels
