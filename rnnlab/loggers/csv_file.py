"""`metrics.csv` beside metrics.json: one row per epoch, one column per scalar tag
(`logger=csv`), for reading curves with nothing but a spreadsheet or the csv module.

The columns are `epoch`, then the tags in the order first logged ("train/loss",
"val/perplexity", ..., the test split's tags on the last epoch's row). A cell is empty
where its tag was not logged that epoch (held-out scores every `val_every_n_epochs`). The
whole file is rewritten, atomically, each time scalars are logged, so a tag first seen
later simply adds a column to every row; a file of a few hundred rows costs nothing to
rewrite. A resumed run keeps the rows up to the epoch it resumes from and drops any that
a killed run wrote after its checkpoint, as TensorBoard's purge_step does for the events.
Text and figures are not written here.
"""

import csv
import os
from pathlib import Path

from rnnlab.loggers.base import Curves, Logger

FILE_NAME = "metrics.csv"
STEP = "epoch"


class CsvLogger(Logger):
    """The metrics.csv of one run."""

    def __init__(self, run_dir: str | Path, start_epoch: int = 0):
        self.path = Path(run_dir) / FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # {epoch: {tag: value}}; a new run (start_epoch 0) starts an empty file
        self.rows: dict[int, dict[str, float]] = {
            epoch: row for epoch, row in read_rows(self.path).items() if epoch <= start_epoch
        }
        if self.path.exists():
            self.write()

    def scalars(self, metrics: dict[str, float], step: int) -> None:
        """Adds to (or overwrites in) the row of epoch `step`, then rewrites the file."""
        self.rows.setdefault(step, {}).update(metrics)
        self.write()

    def write(self) -> None:
        tags = list(dict.fromkeys(tag for row in self.rows.values() for tag in row))
        partial = self.path.with_name(self.path.name + ".tmp")
        with open(partial, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=[STEP, *tags], lineterminator="\n")
            writer.writeheader()
            for epoch in sorted(self.rows):
                writer.writerow({STEP: epoch, **self.rows[epoch]})
        os.replace(partial, self.path)

    @classmethod
    def read_curves(cls, run_dir: Path) -> Curves:
        curves: Curves = {}
        for epoch, row in sorted(read_rows(Path(run_dir) / FILE_NAME).items()):
            for tag, value in row.items():
                curves.setdefault(tag, []).append((epoch, value))
        return curves


def read_rows(path: Path) -> dict[int, dict[str, float]]:
    """{epoch: {tag: value}} of a metrics.csv, empty cells left out; {} without the file.
    The csv module writes a float as `str(value)`, the shortest text that reads back as the
    same float, so values round-trip exactly."""
    if not path.is_file():
        return {}
    with open(path, newline="") as file:
        return {
            int(row.pop(STEP)): {tag: float(text) for tag, text in row.items() if text != ""}
            for row in csv.DictReader(file)
        }
