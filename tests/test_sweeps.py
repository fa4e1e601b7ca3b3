"""Sweep configuration and job bookkeeping, without running jobs: presets expand to the
published grids, the SLURM and Optuna configs compose, and rnnlab.run.sweeps decides how many
threads a job uses (what a job returns and skips: tests/test_records.py)."""

import math

import pytest
from helpers.config import CONF_DIR, compose_with_hydra
from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from rnnlab.run.sweeps import short_dirname, threads_per_job


def sweep_jobs(preset: str, command_line=()) -> list[list[str]]:
    """The jobs `python -m rnnlab.train -m experiment=PRESET COMMAND_LINE` launches: Hydra's
    BasicSweeper splits the preset's hydra.sweeper.params plus the command line (which wins
    on a shared key), as in BasicSweeper.sweep, without running anything."""
    cfg = compose_with_hydra([f"experiment={preset}"])
    params = [f"{key}={value}" for key, value in cfg.hydra.sweeper.params.items()]
    overrides = OverridesParser.create().parse_overrides(
        params + [f"experiment={preset}", *command_line]
    )
    return BasicSweeper.split_arguments(overrides, max_batch_size=None)[0]


def job_config(job: list[str]):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=job)


# The study's baseline (its table 8; conf/experiment/ablation_baseline.yaml).
BASELINE = {
    "model.cell": "rnn",
    "data.token": "char",
    "data.preprocess": "d2l",
    "data.max_tokens": 10000,
    "data.sampling": "sequential",
    "data.batch_size": 32,
    "data.num_steps": 35,
    "model.num_hiddens": 512,
    "model.num_layers": 1,
    "model.dropout": 0.0,
    "model.embed_size": None,
    "optim._target_": "torch.optim.SGD",
    "optim.lr": 1.0,
    "trainer.max_epochs": 500,
    "trainer.grad_clip": 1.0,
}
HIDDENS = [32, 64, 128, 256, 512, 1024]


@pytest.mark.slow  # an exhaustive grid: make test runs it, make test-fast does not
@pytest.mark.parametrize(
    ("preset", "swept", "changes"),
    [
        (
            "ablation_table9",
            {"model": ["rnn_scratch"], "data.sampling": ["sequential", "random"]},
            {"model.init": "d2l"},
        ),
        (
            "ablation_table10",
            {"model": ["rnn", "rnn_scratch"], "data.sampling": ["sequential", "random"]},
            {"model.init": "d2l"},
        ),
        ("ablation_table12", {"model": ["rnn"], "model.num_hiddens": HIDDENS}, {}),
        ("ablation_table13", {"data.num_steps": [15, 20, 25, 30, 35, 40]}, {}),
        ("ablation_table14", {"data.batch_size": [16, 32, 64, 128, 256]}, {}),
        ("ablation_table15", {"optim.lr": [0.01, 0.1, 0.25, 0.5, 1.0]}, {}),
        ("ablation_table16", {"model": ["lstm"], "model.num_hiddens": HIDDENS}, {}),
        ("ablation_table17", {"model": ["gru"], "model.num_hiddens": HIDDENS}, {}),
        (
            "ablation_table20",
            {"model.num_layers": [1, 2, 3, 4, 5]},
            {"model.cell": "lstm", "model.num_hiddens": 32},
        ),
        (  # the study's §1.2: table 9 without clipping
            "ablation_noclip",
            {"model": ["rnn_scratch"], "data.sampling": ["sequential", "random"]},
            {"model.init": "d2l", "trainer.grad_clip": 0.0},
        ),
    ],
)
def test_presets_expand_to_the_published_grids(preset, swept, changes):
    jobs = sweep_jobs(preset)
    assert len(jobs) == math.prod(len(values) for values in swept.values()) * 20

    def values(key):
        return list(
            dict.fromkeys(
                o.split("=", 1)[1] for job in jobs for o in job if o.startswith(key + "=")
            )
        )

    assert values("seed") == [str(seed) for seed in range(20)]
    for key, expected in swept.items():
        assert values(key) == [str(value) for value in expected]

    for job in (jobs[0], jobs[-1]):  # they compose, on the baseline but for the swept values
        cfg = job_config(job)
        chosen = dict(override.split("=", 1) for override in job)
        expected = {
            **BASELINE,
            **changes,
            **{("model.cell" if key == "model" else key): chosen[key] for key in swept},
        }
        expected["model.cell"] = expected["model.cell"].removesuffix("_scratch")
        actual = {key: OmegaConf.select(cfg, key) for key in expected}
        assert {k: str(v) for k, v in actual.items()} == {k: str(v) for k, v in expected.items()}
        assert cfg.seed == int(chosen["seed"])


def test_the_noclip_runs_are_named_apart_from_table_9s():
    """The pool's run names leave grad_clip out, so the no-clip preset names its own: else
    skip_finished would take table 9's clipped runs for them."""
    names = {
        preset: OmegaConf.to_container(compose_with_hydra([f"experiment={preset}"]).hydra.sweep)[
            "subdir"
        ]  # unresolved: it names Hydra's runtime choices
        for preset in ("ablation_table9", "ablation_noclip")
    }
    assert "noclip" in names["ablation_noclip"] and "noclip" not in names["ablation_table9"]


def test_the_lr_001_preset_trains_1500_epochs_for_5_seeds():
    jobs = sweep_jobs("ablation_lr001_e1500")
    assert [job for job in jobs if "seed=4" in job] and len(jobs) == 5
    cfg = job_config(jobs[0])
    expected = {**BASELINE, "optim.lr": 0.01, "trainer.max_epochs": 1500}
    assert {key: OmegaConf.select(cfg, key) for key in expected} == expected


def test_command_line_shrinks_a_preset():
    jobs = sweep_jobs("ablation_table16", ["seed=0", "trainer.max_epochs=2"])
    assert len(jobs) == 6
    assert all("seed=0" in job and "trainer.max_epochs=2" in job for job in jobs)
    assert len(sweep_jobs("ablation_table15", ["seed=range(0,3)"])) == 15


def test_slurm_launcher_composes():
    launcher = compose_with_hydra(["hydra/launcher=slurm"]).hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert (
        launcher.partition,
        launcher.timeout_min,
        launcher.gpus_per_node,
        launcher.cpus_per_task,
    ) == (None, 240, 1, 4)
    assert threads_per_job(launcher) == 4
    custom = compose_with_hydra(
        ["hydra/launcher=slurm", "hydra.launcher.partition=gpu", "hydra.launcher.cpus_per_task=16"]
    ).hydra.launcher
    assert custom.partition == "gpu" and threads_per_job(custom) == 16


def test_optuna_search_composes():
    """(The sweeper's direction comes from the task: a resolver that importing
    rnnlab.tasks registers, as `python -m rnnlab.train` does.)"""
    from hydra_plugins.hydra_optuna_sweeper._impl import create_params_from_overrides
    from optuna.distributions import CategoricalDistribution, LogUniformDistribution

    import rnnlab.tasks  # noqa: F401

    cfg = compose_with_hydra(["hparams_search=lm_optuna"])
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper") and sweeper.direction == "minimize"
    assert cfg.trainer.early_stopping_patience and cfg.trainer.max_train_seconds
    distributions, fixed = create_params_from_overrides(
        [f"{key}={value}" for key, value in sweeper.params.items()]
    )
    assert not fixed
    assert isinstance(distributions["model"], CategoricalDistribution)
    assert isinstance(distributions["optim.lr"], LogUniformDistribution)
    for key in distributions:  # every searched name exists in the run config
        assert OmegaConf.select(cfg, key) is not None


def test_threads_per_job_for_joblib():
    joblib = lambda n: OmegaConf.create(  # noqa: E731
        {
            "_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher",
            "n_jobs": n,
        }
    )
    assert threads_per_job(joblib(2), cpu_count=8) == 4
    assert threads_per_job(joblib(3), cpu_count=8) == 2
    assert threads_per_job(joblib(-1), cpu_count=8) == 1  # joblib: one job per core
    assert threads_per_job(joblib(-2), cpu_count=8) == 1  # 7 jobs
    assert threads_per_job(joblib(16), cpu_count=8) == 1
    basic = compose_with_hydra([]).hydra.launcher
    assert threads_per_job(basic) is None


def test_job_directory_names_stay_short():
    trial = (
        "model=gru,model.dropout=0.41234567890123456,model.num_hiddens=384,"
        "optim.lr=0.0051234567891234,optim.weight_decay=1e-05"
    )
    assert short_dirname(trial) == (
        "model=gru,model.dropout=0.4123,model.num_hiddens=384,"
        "optim.lr=0.005123,optim.weight_decay=1e-05"
    )
    assert short_dirname("model=lstm,optim.lr=0.5,seed=3") == "model=lstm,optim.lr=0.5,seed=3"
    assert short_dirname("") == ""
    long = ",".join(f"data.key_{i}=value_{i}" for i in range(30))
    cut = short_dirname(long)
    assert len(cut) == 120 and cut != short_dirname(long.replace("value_29", "other"))
    sweep = OmegaConf.to_container(compose_with_hydra([]).hydra.sweep)  # unresolved
    assert sweep["subdir"] == "${hydra.job.num}_${short_dirname:${hydra.job.override_dirname}}"
