"""A user's own data files, written by the tests: sentence pairs and labelled texts in each
format, small settings to train on them, and the training command line run in-process up
to the point where a bad file is refused."""

import csv
import io
import json
import random
import sys

import pytest

from rnnlab.train import cli

WORDS = {"haus": "house", "katze": "cat", "hund": "dog", "baum": "tree", "buch": "book"}
WORDS |= {"rot": "red", "groß": "big", "klein": "small", "alt": "old", "neu": "new"}


def pairs_text(num_pairs: int, seed: int = 0) -> str:
    """German→English word lists: each word translated, the order kept, a mark at the end."""
    rng = random.Random(seed)
    lines = set()
    while len(lines) < num_pairs:
        words = rng.sample(sorted(WORDS), rng.randint(2, 5))
        mark = rng.choice("!?.")
        lines.add(
            f"{' '.join(words).capitalize()}{mark}\t{' '.join(WORDS[w] for w in words)}{mark}"
        )
    return "\n".join(sorted(lines)) + "\n"


TOPICS = {
    "sport": ["ball", "goal", "team", "match"],
    "weather": ["rain", "sun", "wind", "cloud"],
    "food": ["bread", "soup", "cheese", "apple"],
}
NOISE = [f"w{i}" for i in range(30)]


def labelled_examples(num_examples: int, seed: int = 0) -> list[tuple[str, str]]:
    """(label, text) with three labels: noise words and one or two of the label's words."""
    rng = random.Random(seed)
    examples = []
    for _ in range(num_examples):
        label = rng.choice(sorted(TOPICS))
        words = [rng.choice(NOISE) for _ in range(rng.randint(3, 10))]
        for _ in range(rng.randint(1, 2)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(TOPICS[label]))
        examples.append((label, " ".join(words) + "."))
    return examples


def write_labelled(path, examples, fmt: str) -> None:
    """`examples` as a TSV, CSV (columns label, text, and an id) or JSONL file."""
    if fmt == "tsv":
        path.write_text("".join(f"{label}\t{text}\n" for label, text in examples))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["id", "text", "label"])
        writer.writerows([i, text, label] for i, (label, text) in enumerate(examples))
        path.write_text(out.getvalue())
    else:
        path.write_text("".join(json.dumps({"label": y, "text": x}) + "\n" for y, x in examples))


PAIRS_SMALL = [
    "task=seq2seq",
    "data=pairs",
    "model=gru",
    "model.num_hiddens=32",
    "model.embed_size=16",
    "model.num_layers=1",
    "model.dropout=0",
    "data.batch_size=16",
    "data.num_steps=8",
    "data.min_freq=1",
    "data.val_fraction=0.1",
    "data.test_fraction=0.1",
    "optim.lr=0.01",
    "trainer.max_epochs=3",
    "trainer.progress_bar=false",
    "task.sample_sentences=[]",
]
LABELLED_SMALL = [
    "task=sentiment",
    "data=labelled",
    "model=gru",
    "model.embed_size=16",
    "model.num_hiddens=16",
    "model.dropout=0.0",
    "data.batch_size=16",
    "data.vocab_size=null",
    "optim.lr=0.02",
    "trainer.max_epochs=4",
    "trainer.progress_bar=false",
]


def refused(monkeypatch, capsys, argv: list[str]) -> str:
    """The one `error:` line `rnnlab-train ARGV` gives (asserting exit 2 and nothing else
    on stderr), run in-process: a bad file is refused before Hydra starts a job."""
    monkeypatch.setattr(sys, "argv", ["rnnlab-train", *argv])
    with pytest.raises(SystemExit) as stop:
        cli()
    stderr = capsys.readouterr().err
    assert stop.value.code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def refused_file(monkeypatch, capsys, path, content, argv: list[str]) -> str:
    """The one-line refusal of `rnnlab-train ARGV data.path=PATH` for a file holding
    `content` (text, bytes, "folder" for a directory, None for no file), asserting that it
    names the file and leaves no run directory."""
    if content == "folder":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    run_dir = path.parent / "run"
    line = refused(monkeypatch, capsys, [*argv, f"data.path={path}", f"hydra.run.dir={run_dir}"])
    assert str(path) in line
    assert not run_dir.exists()
    return line
