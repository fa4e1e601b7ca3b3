"""The ledger keeps the CPU model each run ran on, restores it, and the table header
reports the runs' CPUs (not the machine that rewrote the table)."""

import json

import yaml

from rnnlab.run.records import write_metrics
from rnnlab.run.run_info import record_launch, recorded_cpu
from rnnlab.tables import ledger, report, study

IDENTITY = {key: "x" for key in study.IDENTITY_KEYS}


def write_run(pool, name: str, cpu: str | None, seed: int = 0):
    run_dir = pool / name
    (run_dir / ".hydra").mkdir(parents=True)
    config: dict = {"seed": seed, "trainer": {"num_threads": 1}}
    for key, value in IDENTITY.items():
        group, rest = key.split(".", 1)
        config.setdefault(group, {})[rest] = value
    (run_dir / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    write_metrics(run_dir, {"status": "finished", "train_perplexity": 1.5, "wall_seconds": 60})
    if cpu is not None:
        (run_dir / "run_info.json").write_text(json.dumps({"cpu": cpu, "resumes": []}))


def test_a_run_records_its_cpu_model(tmp_path):
    import torch

    info = record_launch(tmp_path, 0, torch.device("cpu"), 0)
    assert info["cpu"] and recorded_cpu(tmp_path) == info["cpu"]


def test_a_resume_on_another_cpu_names_both(tmp_path):
    info = {"cpu": "A", "resumes": [{"cpu": "B"}, {"cpu": "A"}]}
    (tmp_path / "run_info.json").write_text(json.dumps(info))
    assert recorded_cpu(tmp_path) == "A + B"
    assert recorded_cpu(tmp_path / "missing") is None


def test_the_ledger_keeps_the_cpu_and_the_header_reports_the_runs_cpus(tmp_path):
    pool = tmp_path / "pool"
    write_run(pool, "a_seed0", "Intel(R) Xeon(R) Processor", 0)
    write_run(pool, "a_seed1", "Intel(R) Xeon(R) Processor", 1)
    write_run(pool, "a_seed2", None, 2)  # a run from before the CPU was recorded
    path = tmp_path / "runs.csv"
    ledger.export(study.pool_runs(pool), path)
    rows = ledger.read(path)
    assert [rows[name]["cpu"] for name in sorted(rows)] == ["Intel(R) Xeon(R) Processor"] * 2 + [""]

    fresh = tmp_path / "fresh"  # another machine: the ledger restored into an empty pool
    assert ledger.restore(path, fresh) == 3
    groups = study.pool_runs(fresh)
    runs = study.collect(groups, list(groups))
    header = report.provenance("cmd", runs)[1]
    assert header.startswith(
        "- machine: the runs ran on Intel(R) Xeon(R) Processor (2 runs), unrecorded CPU (1 run)"
    )


def test_a_run_without_a_cpu_record_keeps_the_one_its_ledger_line_names(tmp_path):
    pool, path = tmp_path / "pool", tmp_path / "runs.csv"
    write_run(pool, "a_seed0", "Intel(R) Xeon(R) Processor")
    ledger.export(study.pool_runs(pool), path)
    (pool / "a_seed0" / "run_info.json").unlink()  # as a run restored by an older rnnlab
    ledger.export(study.pool_runs(pool), path)
    assert ledger.read(path)["a_seed0"]["cpu"] == "Intel(R) Xeon(R) Processor"
