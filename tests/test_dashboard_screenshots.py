"""`scripts/dashboard_screenshots.py` (issue 31, item 3): headless Chromium's screenshots of
TensorBoard over a logdir of two tasks' runs. Skipped where no Chromium is installed (CI):
the dashboards' data itself is checked over HTTP in test_tensorboard_http.py."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab.loggers.tensorboard import TensorBoardLogger

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "dashboard_screenshots.py"
CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)


def write_run(run_dir: Path, hparams: dict, metrics: dict) -> None:
    logger = TensorBoardLogger(run_dir)
    logger.session_start(hparams)
    for epoch in (1, 2):
        logger.scalars({tag: value * epoch for tag, value in metrics.items()}, epoch)
    logger.session_end()
    logger.close()


def test_the_script_refuses_what_it_cannot_show(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--logdir", str(tmp_path / "none"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "error:" in result.stderr.splitlines()[-1]


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")
def test_screenshots_of_each_tab_show_a_drawn_dashboard(tmp_path):
    from PIL import Image

    logdir = tmp_path / "outputs"
    write_run(logdir / "lm", {"task": "lm", "trainer.keep_best": True}, {"val/perplexity": 9.0})
    write_run(
        logdir / "cls", {"task": "sentiment", "trainer.keep_best": False}, {"val/accuracy": 0.4}
    )
    out = tmp_path / "shots"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--logdir", str(logdir), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    for tab in ("hparams", "scalars", "timeseries", "text"):
        assert f"wrote {out / f'{tab}.png'}" in result.stdout
        with Image.open(out / f"{tab}.png") as image:
            assert image.size == (1600, 1000)
            # a blank or error page has a handful of colours; a drawn dashboard hundreds
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 50
