"""Screenshots of TensorBoard's tabs (HParams, Scalars, Time Series, Text) over a logdir,
taken with headless Chromium: what `tensorboard --logdir outputs` shows a user, as PNGs.

    python scripts/dashboard_screenshots.py [--logdir DIR] [--out DIR] [--tabs hparams,...]

Without `--logdir` it first builds, in `OUT/logdir`, the case the dashboards must handle:
a mix of tasks and a multirun in one logdir (`trainer.fast_dev_run=true` runs of task=lm,
an lm multirun over `model=lstm,gru` × `model.num_hiddens=32,64`, task=seq2seq and
task=sentiment; seconds each; the datasets from `RNNLAB_DATA`). Needs Chromium (Debian:
`apt-get install chromium`; or name one with `--chromium`). Each PNG is announced with its
path; look at them.
"""

import argparse
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TABS = ("hparams", "scalars", "timeseries", "text")
FAST = ["trainer.fast_dev_run=true", "trainer.num_threads=1", "trainer.progress_bar=false"]
DEMO = {  # run (or sweep) directory under the logdir → the overrides of its command
    "lm": [],
    "lm_sweep": ["-m", "model=lstm,gru", "model.num_hiddens=32,64"],
    "seq2seq": ["task=seq2seq"],
    "sentiment": ["task=sentiment"],
}


def build_demo(logdir: Path) -> None:
    """The mixed logdir: every task, single runs and a multirun."""
    for name, overrides in DEMO.items():
        where = "hydra.sweep.dir" if "-m" in overrides else "hydra.run.dir"
        command = [sys.executable, "-m", "rnnlab.train", *overrides, *FAST]
        command.append(f"{where}={logdir / name}")
        print("running:", " ".join(command[1:]), file=sys.stderr, flush=True)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def serve(logdir: Path, port: int) -> subprocess.Popen:
    """TensorBoard on `port`, once it answers (its first load of the logdir done)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/data/runs", timeout=5) as reply:
                if reply.status == 200 and reply.read() not in (b"", b"[]"):
                    return server
        except OSError:
            pass
        if server.poll() is not None:
            break
        time.sleep(1)
    server.kill()
    raise SystemExit(f"error: TensorBoard did not serve {logdir} on port {port}")


def screenshot(chromium: str, url: str, path: Path, size: str) -> None:
    """One page as a PNG; the virtual-time budget lets the dashboard fetch its data."""
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={size}",
            "--virtual-time-budget=15000",
            f"--screenshot={path}",
            url,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--logdir", type=Path, help="what to show (default: build the demo in OUT/logdir)"
    )
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="where PNGs go")
    parser.add_argument("--tabs", default=",".join(TABS), help=f"of {', '.join(TABS)}")
    parser.add_argument("--chromium", default=None, help="the browser (default: on PATH)")
    parser.add_argument("--size", default="1600,1000", help="window width,height")
    args = parser.parse_args(argv)
    tabs = args.tabs.split(",")
    unknown = [tab for tab in tabs if tab not in TABS]
    if unknown:
        parser.error(f"--tabs {unknown[0]!r}: expected some of {', '.join(TABS)}")
    chromium = args.chromium or next(
        (
            found
            for name in ("chromium", "chromium-browser", "google-chrome")
            if (found := shutil.which(name))
        ),
        None,
    )
    if chromium is None:
        print(
            "error: no Chromium on PATH; install it (Debian: apt-get install chromium) "
            "or pass --chromium",
            file=sys.stderr,
        )
        return 2
    logdir = args.logdir
    if logdir is None:
        logdir = args.out / "logdir"
        if logdir.exists():
            print(f"error: {logdir} exists; remove it, or show it with --logdir", file=sys.stderr)
            return 2
        build_demo(logdir)
        print(f"the demo's runs are in {logdir} (again: --logdir {logdir})")
    elif not logdir.is_dir():
        print(f"error: --logdir {str(logdir)!r} is not a directory", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = serve(logdir, port)
    try:
        for tab in tabs:
            path = args.out / f"{tab}.png"
            screenshot(chromium, f"http://localhost:{port}/#{tab}", path.resolve(), args.size)
            print(f"wrote {path}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
