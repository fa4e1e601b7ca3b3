"""Labelled texts from a user's file: TSV, CSV or JSONL, one example each (`data=labelled`,
and `rnnlab.evaluate file=` on a labelled run).

  tsv    one example per line: the label, a tab, the text (later tabs belong to the text)
  csv    a header row naming the columns; the label and the text columns are named by
         `data.label_field` and `data.text_field` (other columns are ignored)
  jsonl  one JSON object per line, with the keys `data.label_field` and `data.text_field`

Blank lines are skipped. A label is any string (a JSON number or boolean is read as its
text); a line that does not fit is one error naming the file and the line.
"""

import csv
import io
import json
from pathlib import Path

from rnnlab.errors import RnnlabError

FORMATS = ("auto", "tsv", "csv", "jsonl")
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl"}


def format_of(path: str, fmt: str) -> str:
    """`fmt`, or for "auto" the file's suffix: .csv, .jsonl (.json, .ndjson), else tsv."""
    return SUFFIXES.get(Path(path).suffix.lower(), "tsv") if fmt == "auto" else fmt


def expected(fmt: str, label_field: str, text_field: str) -> str:
    return {
        "tsv": "one example per line: a label, a tab, the text",
        "csv": f"a header row with the columns {label_field!r} and {text_field!r}, "
        "then one example per row",
        "jsonl": f"one JSON object per line with the keys {label_field!r} and {text_field!r}",
    }[fmt]


def read_examples(
    text: str, fmt: str, label_field: str, text_field: str, source: str
) -> list[tuple[int, str, str]]:
    """(line number, label, text) of each example of `text` in format `fmt` ("tsv",
    "csv" or "jsonl"); `source` names the file in errors."""
    reader = {"tsv": _tsv, "csv": _csv, "jsonl": _jsonl}[fmt]
    examples = reader(text, label_field, text_field, source)
    for number, label, _ in examples:
        if not label.strip():
            raise RnnlabError(
                f"{source} line {number} has an empty label; expected "
                + expected(fmt, label_field, text_field)
            )
    return [(number, label.strip(), body) for number, label, body in examples]


def _tsv(text: str, label_field: str, text_field: str, source: str):
    examples = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        label, tab, body = line.partition("\t")
        if not tab:
            raise RnnlabError(
                f"{source} line {number} has no tab: {line[:40]!r}; expected "
                + expected("tsv", label_field, text_field)
            )
        examples.append((number, label, body))
    return examples


def _csv(text: str, label_field: str, text_field: str, source: str):
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows)
    except (StopIteration, csv.Error) as error:
        raise RnnlabError(f"{source} has no CSV header row ({error})") from None
    columns = [name.strip() for name in header]
    _require_fields(columns, label_field, text_field, f"{source} line 1", "column")
    label_at, text_at = columns.index(label_field), columns.index(text_field)
    examples = []
    try:
        for row in rows:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) <= max(label_at, text_at):
                raise RnnlabError(
                    f"{source} line {rows.line_num} has {len(row)} columns, the header "
                    f"{len(columns)}; expected " + expected("csv", label_field, text_field)
                )
            examples.append((rows.line_num, row[label_at], row[text_at]))
    except csv.Error as error:
        raise RnnlabError(f"{source} line {rows.line_num} is not CSV: {error}") from None
    return examples


def _require_fields(names: list, label_field: str, text_field: str, where: str, what: str):
    """Refuse `names` (a CSV header, a JSON object's keys) without the label or text field."""
    for field, kind in ((label_field, "label"), (text_field, "text")):
        if field not in names:
            raise RnnlabError(
                f"{where} has no {kind} {what} {field!r} ({what}s: "
                f"{', '.join(map(repr, names))}); set data.{kind}_field"
            )


def _jsonl(text: str, label_field: str, text_field: str, source: str):
    examples = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise RnnlabError(f"{source} line {number} is not JSON: {error.msg}") from None
        if not isinstance(record, dict):
            raise RnnlabError(
                f"{source} line {number} is not a JSON object; expected "
                + expected("jsonl", label_field, text_field)
            )
        _require_fields(list(record), label_field, text_field, f"{source} line {number}", "key")
        label, body = record[label_field], record[text_field]
        if not isinstance(body, str):
            raise RnnlabError(f"{source} line {number}: {text_field!r} is not a string")
        label = json.dumps(label) if isinstance(label, bool | type(None)) else str(label)
        examples.append((number, label, body))
    return examples
