"""`python tests/helpers/synthetic_train.py data.root=DIR data.download=false OVERRIDES`: the real
`python -m rnnlab.train` command line, except that DIR/timemachine.txt may hold any text
(its sha1 is not checked), for tests that need a separate process (signals, SIGKILL, exit
codes) but not the real book. `write_book(DIR)` puts a small learnable text there.

With RNNLAB_TEST_PAUSE_EPOCH=n and RNNLAB_TEST_PAUSED=FILE set, the run stops inside
epoch n, after its first batch has been trained on, creates FILE and sleeps: a test can
then signal or kill it mid-epoch at a known point.
"""

import os
import runpy
import time
from pathlib import Path

import rnnlab.tasks.lm
from rnnlab.data import download

TEXT = "the time machine is here " * 80  # as conftest.tiny_corpus


def write_book(root: Path, text: str = TEXT) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "timemachine.txt").write_text(text)
    return root


def pause_in(epoch_batches, marker: Path):
    for index, batch in enumerate(epoch_batches):
        if index == 1:
            marker.touch()
            time.sleep(600)
        yield batch


def main() -> None:
    book = download.DATASETS["timemachine"]
    download.DATASETS["timemachine"] = download.DataFile(book.file_name, book.url, sha1=None)
    pause_epoch = os.environ.get("RNNLAB_TEST_PAUSE_EPOCH")
    if pause_epoch:
        marker = Path(os.environ["RNNLAB_TEST_PAUSED"])
        train_batches = rnnlab.tasks.lm.LanguageModelTask.train_batches

        def paused_train_batches(self, epoch):
            batches = train_batches(self, epoch)
            return pause_in(batches, marker) if epoch == int(pause_epoch) else batches

        rnnlab.tasks.lm.LanguageModelTask.train_batches = paused_train_batches
    # as `python -m rnnlab.train` (run as __main__, so Hydra finds conf/ beside rnnlab/)
    runpy.run_module("rnnlab.train", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
