"""The dashboards users read a sweep in, checked against a real TensorBoard: a two-run sweep,
`tensorboard --logdir` on a free loopback port, and its HTTP data API (runs, scalar tags,
the HParams plugin's sessions with the swept value)."""

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from helpers.config import TINY, compose_config

import rnnlab.tasks.lm
from rnnlab.train import train

pytest.importorskip("tensorboard")
TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


@pytest.fixture
def tensorboard(tmp_path):
    """Start TensorBoard on tmp_path/sweep; yield its base URL; stop it."""
    logdir, port = tmp_path / "sweep", free_port()
    logdir.mkdir()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tensorboard.main",
            "--logdir",
            str(logdir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--load_fast=false",
            "--reload_interval=1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield logdir, f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for(check, what: str):
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except OSError:  # not listening yet
            pass
        time.sleep(0.3)
    pytest.fail(f"TensorBoard did not show {what} within {TIMEOUT_S} s")


def test_tensorboard_serves_runs_scalars_and_hparams(tensorboard, tiny_corpus, monkeypatch):
    monkeypatch.setattr(
        rnnlab.data.timemachine, "load_timemachine", lambda *args, **kwargs: tiny_corpus
    )
    logdir, url = tensorboard
    names = {8: "0_model.num_hiddens=8", 16: "1_model.num_hiddens=16"}
    for num_hiddens, name in names.items():
        train(
            compose_config(TINY + [f"model.num_hiddens={num_hiddens}", "trainer.max_epochs=2"]),
            logdir / name,
            "lstm",
        )

    # TensorBoard reloads the logdir every second: wait until it has read both runs whole
    wanted = {"train/perplexity", "val/perplexity", "train/tokens_per_sec"}

    def scalar_tags():
        tags = get_json(f"{url}/data/plugin/scalars/tags")
        return tags if all(wanted <= tags.get(name, {}).keys() for name in names.values()) else None

    def session_groups():
        request = {
            "experimentName": "",
            "startIndex": 0,
            "sliceSize": 100,
            "colParams": [],
            "allowedStatuses": [
                "STATUS_UNKNOWN",
                "STATUS_SUCCESS",
                "STATUS_FAILURE",
                "STATUS_RUNNING",
            ],
        }
        groups = get_json(f"{url}/data/plugin/hparams/session_groups", request)
        groups = groups.get("sessionGroups", [])
        whole = len(groups) == 2 and all(
            wanted <= {value["name"]["tag"] for value in group["metricValues"]} for group in groups
        )
        return groups if whole else None

    shown = wait_for(scalar_tags, "the scalar tags of both runs")
    assert sorted(name for name in shown if not name.endswith("/steps")) == sorted(names.values())
    steps = [f"{name}/steps" for name in names.values()]  # the per-step curves: runs of their own
    assert sorted(get_json(f"{url}/data/runs")) == sorted([*names.values(), *steps])
    groups = wait_for(session_groups, "both HParams sessions with their metrics")
    swept = {group["name"]: group["hparams"]["model.num_hiddens"] for group in groups}
    assert swept == {name: float(num_hiddens) for num_hiddens, name in names.items()}
    assert all(group["hparams"]["model.cell"] == "lstm" for group in groups)


def test_hparams_shows_each_tasks_metrics_and_bools_as_bools(
    tensorboard, tiny_corpus, synthetic_imdb, monkeypatch
):
    """Issue 31, item 3: with runs of two tasks in one logdir, the HParams columns hold
    both tasks' metrics (val/perplexity and val/accuracy), and a bool setting is a bool."""
    from helpers.sentiment import SMALL

    monkeypatch.setattr(
        rnnlab.data.timemachine, "load_timemachine", lambda *args, **kwargs: tiny_corpus
    )
    logdir, url = tensorboard
    train(compose_config([*TINY, "trainer.max_epochs=1"]), logdir / "lm", "lstm")
    train(compose_config([*SMALL, "trainer.max_epochs=1"]), logdir / "sentiment", "lstm")

    def experiment():
        found = get_json(f"{url}/data/plugin/hparams/experiment", {"experimentName": ""})
        tags = {metric["name"]["tag"] for metric in found.get("metricInfos", [])}
        return found if {"val/perplexity", "val/accuracy"} <= tags else None

    found = wait_for(experiment, "both tasks' metrics as HParams columns")
    types = {hparam["name"]: hparam["type"] for hparam in found["hparamInfos"]}
    assert types["trainer.keep_best"] == "DATA_TYPE_BOOL"
