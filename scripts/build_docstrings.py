"""A multi-class text classification set from real text on any machine with Python: the
docstrings of six CPython standard-library packages, one label per package, as JSONL
for `data=labelled` (results/own_labelled.md).

    python scripts/build_docstrings.py /tmp/docstrings.jsonl

Each example is the first paragraph of one docstring (module, class or function) of a
package's own modules (its test modules left out), its whitespace collapsed; docstrings
shorter than 4 words, and texts found in two packages, are dropped; each package keeps at
most --per-label examples, the first in sorted file order. The standard library read is
the running interpreter's.
"""

import argparse
import ast
import json
import sysconfig
from collections import defaultdict
from pathlib import Path

PACKAGES = ("asyncio", "email", "importlib", "logging", "tkinter", "xml")
DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def first_paragraphs(path: Path) -> list[str]:
    """The first paragraph of each docstring in the module at `path`, in source order."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return []
    texts = []
    for node in ast.walk(tree):
        doc = ast.get_docstring(node) if isinstance(node, DOCUMENTED) else None
        if doc:
            text = " ".join(doc.strip().split("\n\n")[0].split())
            if len(text.split()) >= 4:
                texts.append(text)
    return texts


def build(stdlib: Path, per_label: int) -> list[dict]:
    found = defaultdict(list)
    for package in PACKAGES:
        for path in sorted((stdlib / package).rglob("*.py")):
            if "test" not in path.relative_to(stdlib).parts[1:] and "tests" not in path.parts:
                found[package] += first_paragraphs(path)
    owners = defaultdict(set)
    for package, texts in found.items():
        for text in texts:
            owners[text].add(package)
    rows = []
    for package in PACKAGES:
        kept = list(dict.fromkeys(t for t in found[package] if len(owners[t]) == 1))
        rows += [{"label": package, "text": text} for text in kept[:per_label]]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-label", type=int, default=400)
    args = parser.parse_args()
    rows = build(Path(sysconfig.get_paths()["stdlib"]), args.per_label)
    args.out.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    counts = {p: sum(r["label"] == p for r in rows) for p in PACKAGES}
    print(f"{len(rows)} examples to {args.out}: {counts}")


if __name__ == "__main__":
    main()
