"""The d2l reference column: what d2l 0.17.6's own chapter-8 code gives for a table entry.

`results/d2l_reference.jsonl` holds one JSON record per run of scripts/d2l_reference.py
(scripts/d2l_column.py runs the grid). A record matches a table entry when it trained what
the entry's composed config trains, compared on `study.IDENTITY_KEYS` through `KEYS`; the
settings d2l_reference.py never varies (d2l's corpus and one-hot input, plain SGD, no
dropout) must hold in the entry's config too, or no record matches.
"""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "results" / "d2l_reference.jsonl"

# identity key -> how a d2l record says it (a function of the record)
KEYS = {
    "model.cell": lambda r: r["model"].removesuffix("_scratch"),
    "model.impl": lambda r: "scratch" if r["model"].endswith("_scratch") else "nn",
    "model.num_hiddens": lambda r: r["num_hiddens"],
    "model.num_layers": lambda r: r["num_layers"],
    "data.sampling": lambda r: r["sampling"],
    "data.batch_size": lambda r: r["batch_size"],
    "data.num_steps": lambda r: r["num_steps"],
    "optim.lr": lambda r: r["lr"],
    "trainer.max_epochs": lambda r: r["epochs"],
    "trainer.grad_clip": lambda r: 1.0 if r["grad_clip"] else 0.0,
}
FIXED = {
    "model.dropout": 0.0,
    "model.embed_size": "None",
    "data.token": "char",
    "data.preprocess": "d2l",
    "data.max_tokens": 10000,
    "optim._target_": "torch.optim.SGD",
}


def load(path: Path = REFERENCE) -> list[dict]:
    """The records, in the order they were written; none when there is no file."""
    if not Path(path).is_file():
        return []
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def same(a, b) -> bool:
    """Identity values compare as numbers where both are numbers ("1.0" == 1), else as text."""
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def matching(records: list[dict], identity: dict[str, str]) -> list[dict]:
    """The records of the entry whose identity (`study.IDENTITY_KEYS` → value) is given."""
    if not all(same(identity[key], value) for key, value in FIXED.items()):
        return []
    return [r for r in records if all(same(identity[k], f(r)) for k, f in KEYS.items())]
