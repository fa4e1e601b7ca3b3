"""Sweeps as a user runs them (subprocesses on the real book, tiny models): a diverging run
exits cleanly, a crashing job does not stop the sweep and is listed at the end, a rerun
skips finished jobs, joblib runs jobs in parallel with their share of the cores, and an
Optuna search gets a float from every trial."""

import json
import math
import os
import re

from helpers.cli import FAST, run
from omegaconf import OmegaConf

from rnnlab.run.checkpoint import load_checkpoint


def job_dirs(sweep):
    return sorted(
        (p for p in sweep.iterdir() if p.is_dir() and p.name[0].isdigit()),
        key=lambda p: int(p.name.split("_")[0]),
    )


def metrics(job):
    return json.loads((job / "metrics.json").read_text())


def test_diverging_run_exits_zero(tmp_path, real_data_dir):
    result = run(
        "rnnlab.train",
        "optim=sgd",
        "optim.lr=1e6",
        "trainer.grad_clip=0",
        f"hydra.run.dir={tmp_path}",
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    assert "error:" not in result.stderr
    assert metrics(tmp_path)["status"] == "diverged"


def test_failed_job_is_reported_and_rerun_skips_finished(tmp_path, real_data_dir):
    sweep = tmp_path / "sweep"
    # a bad value is refused before any job starts; a job that composes can still fail
    # (data.num_steps longer than the book) or diverge (lr 1e6), and the sweep goes on
    args = [
        "-m",
        "optim=sgd",
        "optim.lr=0.5,1e6",
        "data.num_steps=35,200000",
        "trainer.grad_clip=0",
        f"hydra.sweep.dir={sweep}",
        *FAST,
    ]
    result = run("rnnlab.train", *args)
    assert result.returncode == 1, result.stderr  # after every job ran: finished, diverged
    finished, failed, diverged, failed_too = job_dirs(sweep)
    assert metrics(finished)["status"] == "finished"
    assert metrics(diverged)["status"] == "diverged"
    for job in (failed, failed_too):
        assert metrics(job)["status"] == "failed" and "200000" in metrics(job)["error"]
    summary = result.stderr[result.stderr.index("2 job(s) of this sweep failed") :]
    assert "data.num_steps=200000" in summary and "data.num_steps=35" not in summary

    before = {job: (job / "metrics.json").stat().st_mtime_ns for job in (finished, diverged)}
    rerun = run("rnnlab.train", *args, "trainer.skip_finished=true")
    assert rerun.returncode == 1, rerun.stderr
    assert job_dirs(sweep) == [finished, failed, diverged, failed_too]  # the same run dirs
    for job, mtime in before.items():  # skipped: not retrained
        assert (job / "metrics.json").stat().st_mtime_ns == mtime
    assert (rerun.stdout + rerun.stderr).count("skipping") == 2
    assert metrics(failed)["status"] == "failed"  # retried, and failed again
    assert "2 job(s) of this sweep failed" in rerun.stderr


def test_rerun_without_skip_finished_never_overwrites_a_finished_job(tmp_path, real_data_dir):
    sweep = tmp_path / "sweep"
    args = ["-m", "model=rnn,gru", f"hydra.sweep.dir={sweep}", *FAST]
    assert run("rnnlab.train", *args).returncode == 0
    kept = ("metrics.json", ".hydra/config.yaml")
    saved = {job: {name: (job / name).read_bytes() for name in kept} for job in job_dirs(sweep)}
    again = run("rnnlab.train", *args)  # the same command again, without skip_finished
    assert again.returncode == 1
    assert "2 job(s) of this sweep failed" in again.stderr
    assert again.stderr.count("checkpoint.pt exists") == 2
    for job, files in saved.items():  # the finished records and configs stand
        assert {name: (job / name).read_bytes() for name in files} == files


def test_joblib_runs_jobs_in_parallel_with_a_share_of_the_cores(tmp_path, real_data_dir):
    sweep = tmp_path / "sweep"
    result = run(
        "rnnlab.train",
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "model=rnn,gru",
        f"hydra.sweep.dir={sweep}",
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    jobs = job_dirs(sweep)
    assert [metrics(job)["model"] for job in jobs] == ["rnn", "gru"]
    for job in jobs:
        assert metrics(job)["status"] == "finished"
        config = load_checkpoint(job / "checkpoint.pt")["config"]
        assert config["trainer"]["num_threads"] == max((os.cpu_count() or 1) // 2, 1)


def test_optuna_search_gets_a_float_from_every_trial(tmp_path, real_data_dir):
    sweep = tmp_path / "sweep"
    result = run(
        "rnnlab.train",
        "-m",
        "hparams_search=lm_optuna",
        "hydra.sweeper.n_trials=2",
        "model=rnn",
        f"hydra.sweep.dir={sweep}",
        *FAST,
    )  # fixed values leave the search
    assert result.returncode == 0, result.stderr
    assert [metrics(job)["status"] for job in job_dirs(sweep)] == ["finished", "finished"]
    best = OmegaConf.load(sweep / "optimization_results.yaml")
    assert set(best.best_params) == {  # the searched names less model and num_hiddens, fixed
        "model.dropout",
        "optim",
        "optim.lr",
        "optim.weight_decay",
        "scheduler",
        "model.embedding_dropout",
        "model.input_dropout",
        "model.output_dropout",
        "model.locked_dropout",
        "model.weight_drop",
        "model.residual",
        "task.ar_alpha",
        "task.tar_beta",
    }
    values = [metrics(job)["best_val_perplexity"] for job in job_dirs(sweep)]
    assert math.isclose(best.best_value, min(values))
    best_dir = job_dirs(sweep)[values.index(min(values))]
    assert best.best_run_dir == str(best_dir)
    assert f"run directory: {best_dir}" in result.stdout
    for job in job_dirs(sweep):  # floats cut to 4 digits, the rest cut at 120 characters
        assert len(job.name) <= len("0_") + 120
        assert re.search(r"model\.dropout=0\.\d{1,4},", job.name)  # optim.lr: past the cut


def test_optuna_search_whose_trials_all_fail_has_no_best(tmp_path, real_data_dir):
    sweep = tmp_path / "sweep"
    result = run(
        "rnnlab.train",
        "-m",
        "hparams_search=lm_optuna",
        "hydra.sweeper.n_trials=2",
        "data.num_steps=200000",  # composes, then fails in every trial: longer than the book
        f"hydra.sweep.dir={sweep}",
        *FAST[1:],
    )
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "Best value" not in output and "inf" not in output
    assert "no trial of this Optuna search finished (2 ran: 2 failed, 0 diverged)" in output
    assert "2 job(s) of this sweep failed" in result.stderr
    assert OmegaConf.load(sweep / "optimization_results.yaml").best_value is None


def test_the_awd_search_keeps_its_study_and_a_rerun_continues_it(tmp_path, real_data_dir):
    import optuna

    sweep = tmp_path / "sweep"
    tiny = ["model.embed_size=8", "trainer.max_train_seconds=null"]  # tied: embed = hidden
    for seed in (0, 1):  # the second command continues the study, with another seed
        result = run(
            "rnnlab.train",
            "-m",
            "experiment=lm_awd",
            "hparams_search=lm_awd_optuna",
            "hydra.sweeper.n_trials=1",
            f"hydra.sweeper.sampler.seed={seed}",
            f"hydra.sweep.dir={sweep}",
            *FAST,
            *tiny,
        )
        assert result.returncode == 0, result.stderr
    study = optuna.load_study(
        study_name="lm_awd_optuna", storage=f"sqlite:///{sweep}/lm_awd_optuna.db"
    )
    trials = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(trials) == 2 and trials[0].params != trials[1].params
    assert sorted(t.value for t in trials) == sorted(
        metrics(job)["best_val_perplexity"] for job in job_dirs(sweep)
    )


def test_a_sweep_directory_resumes_each_job_with_the_overrides_it_was_launched_with(
    tmp_path, real_data_dir
):
    """Issue 31, item 1: `-m hydra.sweep.dir=DIR trainer.resume=true` alone continues each
    job of DIR's sweep in its own directory with the sweep's overrides (DIR/multirun.yaml),
    where before it composed the default job and was refused by each job's checkpoint."""
    sweep = tmp_path / "sweep"
    launch = ["model=rnn,gru", "data.max_tokens=3000"]
    first = run("rnnlab.train", "-m", f"hydra.sweep.dir={sweep}", *launch, *FAST)
    assert first.returncode == 0, first.stderr
    jobs = job_dirs(sweep)
    assert [metrics(job)["epochs"] for job in jobs] == [1, 1]
    again = run("rnnlab.train", "-m", f"hydra.sweep.dir={sweep}", "trainer.resume=true")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("nothing to resume") == 2  # both finished, neither refused
    longer = ["trainer.resume=true", "trainer.max_epochs=2"]  # names the job directories
    extended = run("rnnlab.train", "-m", f"hydra.sweep.dir={sweep}", *longer)
    assert extended.returncode == 2
    assert extended.stderr.startswith("error: trainer.max_epochs=2 would give the jobs")
    assert len(extended.stderr.strip().splitlines()) == 1
    assert job_dirs(sweep) == jobs  # the same run directories, no new ones
    assert [(metrics(job)["model"], metrics(job)["epochs"]) for job in jobs] == [
        ("rnn", 1),
        ("gru", 1),
    ]
