"""The sentiment task end to end on synthetic reviews (no real data): it learns, writes
the issue's metrics and TensorBoard tags, is deterministic, and its checkpoint predicts."""

import json
import subprocess
import sys

import pytest
import torch
from helpers.config import compose_config
from helpers.sentiment import SMALL
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rnnlab.train import train


@pytest.mark.parametrize(
    ("model", "extra"),
    [
        ("gru", []),
        ("lstm_scratch", []),
        pytest.param("lstm", ["model.bag_ngrams=2"], marks=pytest.mark.slow),
        pytest.param(
            "gru", ["model.bag_ngrams=2", "model.bag_weighting=nb"], marks=pytest.mark.slow
        ),
    ],
)
def test_a_synthetic_sentiment_task_is_learned(tmp_path, synthetic_imdb, model, extra):
    # The 40 validation reviews are all right from epoch 1 on, so the best epoch would be
    # the first; score the last epoch's weights instead.
    metrics = train(
        compose_config(
            SMALL + [f"model={model}", "model.pooling=max+mean", "trainer.keep_best=false", *extra]
        ),
        tmp_path,
        model,
    )
    saved = json.loads((tmp_path / "metrics.json").read_text())
    for key in (
        "test_accuracy",
        "val_accuracy",
        "test_loss",
        "tokens_per_sec",
        "epochs",
        "wall_seconds",
        "num_params",
        "best_val_accuracy",
        "best_epoch",
    ):
        assert key in saved
    assert saved["test_accuracy"] >= 0.97 and saved["best_val_accuracy"] >= 0.97
    assert metrics["epochs"] == 4
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    for tag in (
        "train/loss",
        "train/accuracy",
        "val/accuracy",
        "test/accuracy",
        "train/tokens_per_sec",
    ):
        assert tag in events.Tags()["scalars"]
    assert events.Scalars("test/accuracy")[-1].value == pytest.approx(saved["test_accuracy"])
    assert "_hparams_/session_start_info" in events.PluginTagToContent("hparams")


def test_same_seed_same_metrics(tmp_path, synthetic_imdb):
    """Everything but the timings is identical for the same seed (and differs for another)."""

    def run(name, seed):
        overrides = SMALL + ["trainer.max_epochs=2", f"seed={seed}"]
        metrics = train(compose_config(overrides), tmp_path / name, "gru")
        return {
            k: v
            for k, v in metrics.items()
            if k
            not in ("wall_seconds", "last_launch_seconds", "tokens_per_sec", "train_tokens_per_sec")
        }

    first, second, other = run("a", 0), run("b", 0), run("c", 1)
    assert first == second
    assert first != other


def test_pretrained_frozen_embeddings_stay_fixed(tmp_path, synthetic_imdb):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("good " + " ".join(["0.5"] * 8) + "\nbad " + " ".join(["-0.5"] * 8) + "\n")
    train(
        compose_config(
            SMALL
            + [
                "trainer.max_epochs=1",
                f"model.pretrained_embeddings={vectors}",
                "model.freeze_embeddings=true",
            ]
        ),
        tmp_path / "run",
        "gru",
    )
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    vocab = saved["vocab"]
    table = saved["model"]["embedding.weight"]
    assert table[vocab.index("good")].tolist() == [0.5] * 8
    assert table[vocab.index("bad")].tolist() == [-0.5] * 8


def test_the_nb_bags_ratios_come_from_training_and_travel_in_the_checkpoint(
    tmp_path, synthetic_imdb
):
    """ "good" marks positive reviews and "bad" negative ones: their ratios are the largest
    of either sign, and the checkpoint's model carries them (no refit at inference)."""
    from rnnlab.run.checkpoint import load_for_inference
    from rnnlab.tasks.sentiment import SentimentTask

    train(
        compose_config(
            SMALL + ["trainer.max_epochs=1", "model.bag_ngrams=2", "model.bag_weighting=nb"]
        ),
        tmp_path,
        "gru",
    )
    model, saved = load_for_inference(tmp_path / "checkpoint.pt", SentimentTask)
    vocab = saved["vocab"]
    ratio = model.bag.ratio
    assert ratio.argmax() == vocab.index("good") and ratio.argmin() == vocab.index("bad")
    assert (ratio[: len(vocab)] != 0).sum() > 20  # the neutral words too, near 0


def test_predict_prints_the_probability_of_a_positive_review(tmp_path, synthetic_imdb):
    train(compose_config(SMALL), tmp_path, "gru")
    # checkpoint.pt: the last epoch, sure of itself (best.pt is the first epoch that got
    # all 40 validation reviews right, still hesitant)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnnlab.predict",
            f"checkpoint={tmp_path / 'checkpoint.pt'}",
            "w1 w2 good w3",
            "w4 bad w5 w6 w7",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert [review for _, review in lines] == ["w1 w2 good w3", "w4 bad w5 w6 w7"]
    positive, negative = (float(p) for p, _ in lines)
    assert positive > 0.9 and negative < 0.1
    result = subprocess.run(
        [sys.executable, "-m", "rnnlab.predict", "this film"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and result.stderr.startswith("error: bad arguments")

    long_review = " ".join(["w1"] * 500 + ["good"])  # longer than data.max_len
    from_stdin = subprocess.run(
        [sys.executable, "-m", "rnnlab.predict", f"checkpoint={tmp_path / 'checkpoint.pt'}", "-"],
        input=f"w4 bad w5 w6 w7\n{long_review}\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert from_stdin.returncode == 0, from_stdin.stderr
    lines = [line.split("\t") for line in from_stdin.stdout.splitlines()]
    assert [review for _, review in lines] == ["w4 bad w5 w6 w7", long_review]
    assert "a review of 501 tokens is cut" in from_stdin.stderr


def test_bad_model_values_fail_before_the_data_loads(tmp_path):
    """No synthetic data here: the error must come before the archive is looked for."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnnlab.train",
            "task=sentiment",
            "model.recurrent_dropout=0.2",
            f"data.root={tmp_path}",
            "data.download=false",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: model.recurrent_dropout=0.2 needs a scratch cell")
