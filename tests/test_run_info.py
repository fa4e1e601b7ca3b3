"""run_info.json: seed, versions, git commit and device of every launch of a run."""

import json
import re
import subprocess

import torch

from rnnlab.run import run_info
from rnnlab.run.run_info import git_state, record_launch, versions


def test_versions_name_python_torch_rnnlab_and_hydra():
    found = versions()
    assert found["torch"] == torch.__version__ and found["rnnlab"] == "0.1.0"
    assert found["python"].count(".") == 2 and found["hydra-core"]


def test_git_commit_of_the_source_tree(tmp_path):
    state = git_state()  # rnnlab's own checkout, or null when installed without git
    assert state["commit"] is None or re.fullmatch("[0-9a-f]{40}", state["commit"])
    assert git_state(tmp_path) == {"commit": None, "dirty": None}  # not a repository


def test_missing_git_is_null_not_a_failure(monkeypatch):
    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(subprocess, "run", no_git)
    assert git_state() == {"commit": None, "dirty": None}


def test_resumes_are_appended_and_a_damaged_record_is_replaced(tmp_path):
    cpu = torch.device("cpu")
    first = record_launch(tmp_path, seed=7, device=cpu, start_epoch=0)
    assert first["seed"] == 7 and first["resumes"] == [] and first["device"].startswith("cpu")
    record_launch(tmp_path, seed=7, device=cpu, start_epoch=3)
    saved = json.loads((tmp_path / "run_info.json").read_text())
    assert saved["start_epoch"] == 0 and [r["start_epoch"] for r in saved["resumes"]] == [3]
    assert saved["versions"] == run_info.versions()

    (tmp_path / "run_info.json").write_text("{not json")
    again = record_launch(tmp_path, seed=7, device=cpu, start_epoch=5)
    assert again["start_epoch"] == 5 and again["resumes"] == []
