"""task=seq2seq end to end on a synthetic reverse-the-words task (no real data): it is
learned, search behaves, runs are reproducible, checkpoints translate from the command line."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers.cli import REPO
from helpers.config import compose_config
from helpers.seq2seq import TINY, reverse_corpus, run, translate_cli
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import rnnlab.tasks.seq2seq
from rnnlab.config.run_config import compose_config as typed_compose
from rnnlab.data.pairs import BOS, EOS, PAD
from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError
from rnnlab.inference.decoding import beam_search, greedy_search, sequence_log_prob
from rnnlab.models.seq2seq import build_seq2seq
from rnnlab.run.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.tasks.seq2seq import Seq2SeqTask, masked_cross_entropy
from rnnlab.translate import main as translate_main

TIMINGS = {"wall_seconds", "last_launch_seconds", "tokens_per_sec", "train_tokens_per_sec"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, reverse_pairs):
    """(metrics, run directory) of one tiny run, shared by the tests below."""
    return run(tmp_path_factory.mktemp("seq2seq"), reverse_pairs, TINY)


def load_model(path):
    saved = load_checkpoint(path)
    model = build_seq2seq(
        len(saved["src_vocab"]), len(saved["tgt_vocab"]), compose_config(TINY).model
    )
    model.load_state_dict(saved["model"])
    return model.eval(), Vocab.from_list(saved["tgt_vocab"])


def test_the_reverse_task_is_learned(trained):
    metrics, run_dir = trained
    assert metrics["status"] == "finished" and metrics["task"] == "seq2seq"
    assert metrics["test_bleu_d2l"] > 0.9 and metrics["test_sacrebleu"] > 70  # d2l BLEU near 1
    assert metrics["test_loss"] < 0.3
    assert metrics["objective"] == "val_sacrebleu"
    assert metrics["best_val_sacrebleu"] == pytest.approx(
        max(e.value for e in events(run_dir).Scalars("val/sacrebleu"))
    )
    assert (run_dir / "best.pt").is_file()


def events(run_dir):
    accumulator = EventAccumulator(str(run_dir))
    accumulator.Reload()
    return accumulator


def test_tensorboard_has_the_issue_tags_and_a_translation_panel(trained):
    metrics, run_dir = trained
    logged = events(run_dir)
    for tag in ("train/loss", "train/tokens_per_sec", "val/loss", "val/bleu", "val/sacrebleu"):
        assert len(logged.Scalars(tag)) == 7
    assert logged.Scalars("test/sacrebleu")[0].value == pytest.approx(metrics["test_sacrebleu"])
    tags = logged.Tags()["tensors"]  # TensorBoard's Text tab: its cards in this order
    texts = sorted(t for t in tags if t.endswith("/text_summary"))
    assert texts[0] == "sample/translations/text_summary"
    assert [t for t in texts if t.startswith("test/")] == ["test/scores/text_summary"]
    # two test charts, not eight: the other BLEUs and the signatures share one text card
    charts = [t for t in logged.Tags()["scalars"] if t.startswith("test/")]
    assert sorted(charts) == ["test/loss", "test/sacrebleu"]
    scores = logged.Tensors("test/scores/text_summary")[-1].tensor_proto.string_val[0].decode()
    assert f"| test/sacrebleu_signature | {metrics['test_sacrebleu_signature']} |" in scores
    assert f"| test/sacrebleu_lc | {metrics['test_sacrebleu_lc']} |" in scores
    panel = logged.Tensors(texts[0])[-1].tensor_proto.string_val[0].decode()
    for sentence in ("go .", "i lost .", "he's calm .", "i'm home ."):
        assert f"| {sentence} |" in panel
    assert len(panel.splitlines()) == 2 + 4 + 4  # header, the book's four, four test ones


def test_label_smoothing_trains_on_the_smoothed_cross_entropy(reverse_pairs):
    cfg = compose_config([*TINY, "task.label_smoothing=0.2"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rnnlab.data.fra_eng, "load_fra_eng", lambda *args: reverse_pairs)
        task = Seq2SeqTask(cfg)
    torch.manual_seed(0)
    model = task.build_model().eval()  # no dropout: the two forward passes agree
    src, tgt_in, tgt_out = next(iter(task.train_batches(1)))
    loss, tokens, _ = task.training_loss(model, (src, tgt_in, tgt_out), None)
    real = tgt_out != task.tgt_vocab[PAD]
    log_p = torch.log_softmax(model(src, tgt_in, select=real), -1)
    labels = tgt_out[real]
    hand = (0.8 * -log_p.gather(1, labels[:, None]).squeeze(1) - 0.2 * log_p.mean(1)).mean()
    assert tokens == int(real.sum())
    assert torch.allclose(loss, hand, atol=1e-6)  # the hard-label loss is 1e-3 away


def test_batches_hold_one_source_length_and_every_pair_once(reverse_pairs):
    """No padding reaches the encoder; tokens/sec counts real target tokens; the loss of a
    cut batch is the masked loss of the same pairs padded to num_steps."""
    task = Seq2SeqTask(compose_config(TINY), reverse_pairs)
    model = task.build_model()
    train, pad = reverse_pairs.train, task.tgt_vocab[PAD]
    rows = [r for b in task.batch_rows(train, 16, task.epoch_generator(1)) for r in b.tolist()]
    assert sorted(rows) == list(range(len(train)))
    batches = list(task.train_batches(1))
    assert len(batches) == task.num_train_batches()
    for src, tgt_in, tgt_out in batches:
        assert (src != task.src_vocab[PAD]).all()  # one length, cut after <eos>
        assert tgt_in.shape == tgt_out.shape and (tgt_out[:, -1] != pad).any()
    rows = task.batch_rows(train, 16, task.epoch_generator(1))[0]
    src, tgt_in, tgt_out = batches[0]
    loss, num_tokens, state = task.training_loss(model, batches[0], None)
    assert num_tokens == int((tgt_out != pad).sum()) and state is None
    with torch.no_grad():  # the targets' padding changes nothing (the decoder is causal)
        padded = masked_cross_entropy(model(src, train.tgt_in[rows]), train.tgt_out[rows], pad)
    assert loss.item() == pytest.approx(padded.item(), rel=1e-5)


def test_beam_1_is_greedy_and_wider_beams_score_at_least_as_well(trained, reverse_pairs):
    model, tgt_vocab = load_model(trained[1] / "checkpoint.pt")
    bos, eos = tgt_vocab[BOS], tgt_vocab[EOS]
    src = torch.cat([reverse_pairs.val.src, reverse_pairs.test.src])
    greedy, greedy_scores = greedy_search(model, src, bos, eos, max_len=7)
    beam1, beam1_scores = beam_search(model, src, bos, eos, max_len=7, beam_size=1)
    assert beam1 == greedy
    assert torch.allclose(beam1_scores, greedy_scores, atol=1e-5)
    # Scores are the model's log-probabilities of the hypotheses (with <eos>).
    assert torch.allclose(greedy_scores, log_prob(model, src, greedy, tgt_vocab), atol=1e-4)
    changed = 0
    for beam_size in (2, 4):
        hypotheses, scores = beam_search(model, src, bos, eos, max_len=7, beam_size=beam_size)
        assert torch.allclose(scores, log_prob(model, src, hypotheses, tgt_vocab), atol=1e-4)
        assert (scores >= greedy_scores - 1e-5).all()
        changed += sum(h != g for h, g in zip(hypotheses, greedy, strict=True))
    assert changed > 0  # the beam found other, more probable translations for some


def log_prob(model, src, hypotheses, vocab):
    """The model's log-probability of each hypothesis followed by <eos> (if it fits)."""
    T = 7
    rows = [h + [vocab[EOS]] for h in hypotheses]
    tgt_out = torch.tensor([(r + [vocab[PAD]] * T)[:T] for r in rows])
    tgt_in = torch.cat([torch.full((len(rows), 1), vocab[BOS]), tgt_out[:, :-1]], dim=1)
    return sequence_log_prob(model, src, tgt_in, tgt_out, tgt_out != vocab[PAD])


def test_same_seed_same_metrics_other_seed_differs(tmp_path):
    corpus = reverse_corpus(400)
    overrides = TINY + ["trainer.max_epochs=2", "model.num_layers=2", "model.dropout=0.2"]
    a = run(tmp_path, corpus, overrides, "a")[0]
    b = run(tmp_path, corpus, overrides, "b")[0]
    c = run(tmp_path, corpus, overrides + ["seed=1"], "c")[0]
    drop = lambda metrics: {k: v for k, v in metrics.items() if k not in TIMINGS}  # noqa: E731
    assert drop(a) == drop(b)
    saved = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert drop(saved) == drop(json.loads((tmp_path / "b" / "metrics.json").read_text()))
    assert a["train_loss"] != c["train_loss"]


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("eval.beam_size=0", "eval.beam_size=0"),
        ("data.test_fraction=0.95", "data.val_fraction + data.test_fraction"),
        ("data.num_examples=0", "data.num_examples=0"),
        ("model.embed_size=null", "model.embed_size=null"),
        ("task.label_smoothing=1.0", "task.label_smoothing=1.0"),
        ("data.held_out_examples=0", "data.held_out_examples=0"),
    ],
)
def test_bad_task_config_is_one_line_before_loading_data(override, fragment):
    with pytest.raises(RnnlabError) as error:
        typed_compose(["task=seq2seq", "data.root=/nonexistent", "data.download=false", override])
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_translate_command_line(trained):
    checkpoint = trained[1] / "best.pt"
    result = translate_cli(f"checkpoint={checkpoint}", "a b c", "H G F E", "beam_size=2")
    assert result.returncode == 0, result.stderr
    # cleaned as the data was, each beside its source
    assert result.stdout.splitlines() == ["c b a\ta b c", "e f g h\tH G F E"]
    assert "WARNING" not in result.stderr


def test_translate_reads_a_file_and_warns_when_it_cuts(trained, tmp_path):
    num_steps = load_checkpoint(trained[1] / "best.pt")["config"]["data"]["num_steps"]
    long = " ".join("abcdefgh"[i % 8] for i in range(num_steps + 2))
    (tmp_path / "in.txt").write_text(f"a b c\n\n{long}\n")
    result = translate_cli(f"checkpoint={trained[1] / 'best.pt'}", f"file={tmp_path / 'in.txt'}")
    assert result.returncode == 0, result.stderr
    assert [line.split("\t")[1] for line in result.stdout.splitlines()] == ["a b c", long]
    assert (
        f"{long!r} has {num_steps + 2} tokens: the model reads its first {num_steps}"
        in result.stderr
    )


def test_translate_refuses_weights_that_do_not_fit_the_saved_config(trained, tmp_path):
    saved = load_checkpoint(trained[1] / "best.pt")
    saved["config"]["model"]["num_hiddens"] += 1
    save_checkpoint(tmp_path / "changed.pt", saved)
    result = translate_cli(f"checkpoint={tmp_path / 'changed.pt'}", "a b c")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "does not fit the model built from the config" in result.stderr


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["checkpoint=x.pt"], "no sentence to translate"),
        (["checkpoint=x.pt", ""], "sentence 1 on the command line is empty ('')"),
        (["checkpoint=x.pt", "file=/nonexistent.txt"], "file='/nonexistent.txt' does not exist"),
        (["checkpoint=x.pt", "go .", "beam_size=0"], "beam_size=0 must be >= 1"),
        (["go ."], "Missing mandatory value: checkpoint"),
    ],
)
def test_translate_arguments(argv, fragment, capsys):
    with pytest.raises(SystemExit) as exit_info:
        translate_main(argv)
    assert exit_info.value.code == 2
    assert fragment in capsys.readouterr().err


def test_multirun_on_the_real_pairs(tmp_path):
    root = Path(os.environ.get("RNNLAB_DATA") or "/nonexistent").expanduser()
    if not (root / "fra-eng.zip").is_file():
        pytest.skip("RNNLAB_DATA does not point at a folder holding fra-eng.zip")
    sweep = tmp_path / "sweep"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnnlab.train",
            "-m",
            "task=seq2seq",
            "model=gru,lstm",
            "model.num_hiddens=8",
            "trainer.max_epochs=1",
            "data.num_examples=600",
            "trainer.progress_bar=false",
            f"hydra.sweep.dir={sweep}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    runs = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert ["model=gru" in runs[0].name, "model=lstm" in runs[1].name] == [True, True]
    for run_dir in runs:
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert metrics["status"] == "finished" and metrics["task"] == "seq2seq"
        for key in (
            "test_sacrebleu",
            "test_bleu_d2l",
            "test_loss",
            "tokens_per_sec",
            "val_sacrebleu",
        ):
            assert metrics[key] >= 0
        assert (run_dir / "best.pt").is_file()


def test_the_best_preset_is_the_reported_command():
    """conf/experiment/seq2seq_best.yaml must compose to the command line whose test
    sacreBLEU the README reports."""
    command = [
        "task=seq2seq",
        "model=gru",
        "model.num_hiddens=256",
        "model.embed_size=128",
        "model.num_layers=2",
        "model.dropout=0.2",
        "model.bidirectional=true",
        "optim.lr=0.003",
        "trainer.max_epochs=10",
    ]
    assert compose_config(["experiment=seq2seq_best"]) == compose_config(command)


def test_the_attention_preset_is_the_reported_command():
    """conf/experiment/seq2seq_attention.yaml must compose to the command line whose test
    sacreBLEU the README reports, scored on seq2seq_best's held-out pairs."""
    command = [
        "task=seq2seq",
        "model=gru",
        "scheduler=warmup_cosine",
        "model.num_hiddens=256",
        "model.embed_size=128",
        "model.num_layers=2",
        "model.dropout=0.2",
        "model.bidirectional=true",
        "model.attention=bahdanau",
        "optim.lr=0.003",
        "data.num_examples=80000",
        "data.held_out_examples=20000",
        "data.min_freq=3",
        "scheduler.warmup_steps=200",
        "scheduler.final_lr_fraction=0.05",
        "task.label_smoothing=0.1",
        "trainer.max_epochs=4",
        "trainer.early_stopping_patience=null",
        "trainer.max_train_seconds=1140",
    ]
    preset = compose_config(["experiment=seq2seq_attention"])
    assert preset == compose_config(command)
    best = compose_config(["experiment=seq2seq_best"])
    assert preset.data.held_out_examples == best.data.num_examples


def test_translation_uses_the_free_cores_by_default():
    """task=seq2seq leaves trainer.num_threads at null (torch's default less the busy
    cores): a second thread trains seq2seq_best 1.4-1.6x faster on the 2-core machine
    (issue #17), where the one-thread setting it replaced left a core idle."""
    for overrides in (
        ["task=seq2seq"],
        ["experiment=seq2seq_best"],
        ["experiment=seq2seq_attention"],
    ):
        assert compose_config(overrides).trainer.num_threads is None, overrides
