"""The sweep's HParams experiment: one record at the sweep's root naming the swept keys and
their values (the dashboard's first columns) and the task's metrics; each run writes its
session when it starts, so a run that never ends is listed too."""

import pytest
from helpers.cli import FAST, run
from helpers.config import TINY, compose_config, compose_with_hydra
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata

import rnnlab.tasks.lm
from rnnlab.run.sweeps import metric_tags, swept_parameters
from rnnlab.train import train


def read_experiment(log_dir):
    events = EventAccumulator(str(log_dir))
    events.Reload()
    content = events.PluginTagToContent("hparams")[metadata.EXPERIMENT_TAG]
    return metadata.parse_experiment_plugin_data(content)


def domain(hparam):
    if hparam.HasField("domain_interval"):
        return (hparam.domain_interval.min_value, hparam.domain_interval.max_value)
    return [value for value in hparam.domain_discrete]


def test_a_multirun_writes_one_experiment_with_the_swept_keys_first(tmp_path, real_data_dir):
    sweep = tmp_path / "sweep"
    result = run(
        "rnnlab.train",
        "-m",
        "model=rnn,gru",
        "optim.lr=0.01,0.02",
        "seed=3",
        f"hydra.sweep.dir={sweep}",
        "trainer.summary=false",
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    [record] = sweep.glob("events.out.tfevents.*")  # at the root, beside the four job dirs
    experiment = read_experiment(sweep)
    names = [hparam.name for hparam in experiment.hparam_infos]
    assert names[:2] == ["model", "optim.lr"]
    assert "seed" in names and "model.num_hiddens" in names  # the constant ones after
    assert domain(experiment.hparam_infos[0]) == ["rnn", "gru"]
    assert domain(experiment.hparam_infos[1]) == [0.01, 0.02]
    # TensorBoard sorts the columns by `differs` first: only the swept ones have it
    assert [hparam.name for hparam in experiment.hparam_infos if hparam.differs] == names[:2]
    assert [metric.name.tag for metric in experiment.metric_infos] == [
        "val/perplexity",
        "val/loss",
        "train/loss",
        "train/tokens_per_sec",
    ]
    # each job's session names its group choice under the swept key
    job = next(path for path in sweep.iterdir() if path.name.startswith("3_"))
    start = EventAccumulator(str(job))
    start.Reload()
    session = metadata.parse_session_start_info_plugin_data(
        start.PluginTagToContent("hparams")[metadata.SESSION_START_INFO_TAG]
    )
    assert session.hparams["model"].string_value == "gru"
    assert session.hparams["optim.lr"].number_value == pytest.approx(0.02)


def test_presets_and_searches_name_their_domains():
    swept = swept_parameters(compose_with_hydra(["hparams_search=lm_optuna"]))
    assert swept["model"] == ["lstm", "gru"]
    assert swept["model.num_hiddens"] == [256, 384, 512]
    assert swept["model.dropout"] == (0.1, 0.6) and swept["optim.lr"] == (0.002, 0.01)
    table = swept_parameters(
        compose_with_hydra(["experiment=ablation_table13", "data.num_steps=35"])
    )
    assert "data.num_steps" not in table  # fixed on the command line: not swept
    assert table["seed"] == list(range(20))


def test_task_metrics_lead_with_the_objective():
    assert metric_tags("sentiment") == [
        "val/accuracy",
        "val/loss",
        "train/loss",
        "test/accuracy",
        "train/tokens_per_sec",
    ]
    assert metric_tags("seq2seq")[0] == "val/sacrebleu"
    assert "test/perplexity" not in metric_tags("lm")  # the book has no test text
    assert "test/perplexity" in metric_tags("lm", test_text=True)  # data.test_path


def test_a_run_that_never_ends_still_has_its_session(tmp_path, tiny_corpus, monkeypatch):
    monkeypatch.setattr(
        rnnlab.data.timemachine, "load_timemachine", lambda *args, **kwargs: tiny_corpus
    )

    def killed(self, model):
        raise KeyboardInterrupt

    monkeypatch.setattr(rnnlab.tasks.lm.LanguageModelTask, "evaluate", killed)
    with pytest.raises(KeyboardInterrupt):
        train(compose_config(TINY + ["trainer.max_epochs=1"]), tmp_path, "lstm")
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert set(events.PluginTagToContent("hparams")) == {metadata.SESSION_START_INFO_TAG}
