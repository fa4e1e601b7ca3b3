"""data=labelled: a user's labelled texts (TSV, CSV, JSONL) for classification: any label
strings, one logit for two labels and a softmax for more, accuracy and macro-F1, the label
names in the checkpoint and in `predict`; each bad file is one line before any run
directory exists."""

import pytest
import torch
from helpers.config import compose_config
from helpers.own_data import LABELLED_SMALL, labelled_examples, refused_file, write_labelled

import rnnlab
from rnnlab.config.run_config import typed_config
from rnnlab.data.labelled import Labelled
from rnnlab.errors import RnnlabError
from rnnlab.evaluate import evaluate
from rnnlab.metrics import macro_f1
from rnnlab.predict import main as predict_main
from rnnlab.run.checkpoint import load_checkpoint
from rnnlab.train import train


def test_macro_f1_by_hand():
    # class 0: TP 3, 4 occur, 4 predicted: F1 6/8; class 1: TP 2, 4 occur, 3 predicted:
    # 4/7; class 2: TP 1, 2 occur, 3 predicted: 2/5
    confusion = [[3, 1, 0], [0, 2, 2], [1, 0, 1]]
    assert macro_f1(confusion) == pytest.approx((6 / 8 + 4 / 7 + 2 / 5) / 3)
    # always "0": accuracy 1/2, but F1 2/3 for class 0 and 0 for class 1
    assert macro_f1([[5, 0], [5, 0]]) == pytest.approx(1 / 3)
    # a class that neither occurs nor is predicted is left out
    assert macro_f1([[2, 0, 0], [0, 2, 0], [0, 0, 0]]) == 1.0


def labelled_config(path, *overrides):
    return typed_config(compose_config([*LABELLED_SMALL, f"data.path={path}", *overrides])).data


@pytest.mark.parametrize("fmt", ["tsv", "csv", "jsonl"])
def test_each_format_gives_the_same_examples(tmp_path, fmt):
    examples = labelled_examples(200)
    path = tmp_path / f"texts.{fmt}"
    write_labelled(path, examples, fmt)
    data = Labelled.load(labelled_config(path))
    assert data.label_names == ("food", "sport", "weather")
    assert len(data.train) + len(data.val) + len(data.test) == 200
    counts = torch.bincount(
        torch.cat([data.train.labels, data.val.labels, data.test.labels]).long()
    )
    expected = [sum(label == name for label, _ in examples) for name in data.label_names]
    assert counts.tolist() == expected


def test_named_fields_and_format_are_settings(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("".join(f'{{"y": "{y}", "body": "{x}"}}\n' for y, x in labelled_examples(100)))
    data = Labelled.load(
        labelled_config(path, "data.format=jsonl", "data.label_field=y", "data.text_field=body")
    )
    assert len(data.label_names) == 3


def test_two_labels_keep_one_logit_and_any_label_strings(tmp_path):
    examples = [("👍 yes" if "ball" in x else "no", x) for _, x in labelled_examples(200)]
    write_labelled(tmp_path / "two.tsv", examples, "tsv")
    data = Labelled.load(labelled_config(tmp_path / "two.tsv"))
    assert data.label_names == ("no", "👍 yes")


def test_three_labels_are_learned_above_chance(tmp_path, capsys):
    path = tmp_path / "topics.jsonl"
    write_labelled(path, labelled_examples(600), "jsonl")
    run_dir = tmp_path / "run"
    metrics = train(compose_config([*LABELLED_SMALL, f"data.path={path}"]), run_dir, "gru")
    assert metrics["test_accuracy"] > 0.8  # chance: about 1/3
    assert metrics["test_macro_f1"] > 0.8
    saved = load_checkpoint(run_dir / "best.pt")
    assert saved["label_names"] == ["food", "sport", "weather"]
    assert saved["model"]["head.weight"].shape[0] == 3

    predict_main([f"checkpoint={run_dir}", "w1 rain w2 cloud w3"])
    label, probability, text = capsys.readouterr().out.strip().split("\t")
    assert (label, text) == ("weather", "w1 rain w2 cloud w3")
    assert 1 / 3 < float(probability) <= 1

    label, probability = rnnlab.load(run_dir).predict("w1 rain w2 cloud w3")  # the API's
    assert label == "weather" and 1 / 3 < probability <= 1

    write_labelled(tmp_path / "more.jsonl", labelled_examples(60, seed=1), "jsonl")
    scores = evaluate(str(run_dir), "test", [], str(tmp_path / "more.jsonl"))
    assert scores["file/accuracy"] > 0.8 and "file/macro_f1" in scores
    write_labelled(tmp_path / "other.jsonl", [("music", "w1 w2")], "jsonl")
    with pytest.raises(RnnlabError, match=r"line 1 has the label 'music'.*food, sport, weather"):
        evaluate(str(run_dir), "test", [], str(tmp_path / "other.jsonl"))


BAD_FILES = [
    ("missing.tsv", None, "does not exist"),
    ("folder", "folder", "is a directory"),
    ("empty.tsv", "\n\n", "is empty"),
    ("latin1.tsv", "a\tok\nb\tcaf\u00e9\n".encode("latin-1"), "line 2 is not UTF-8"),
    ("notab.tsv", "a\tfirst text\nsecond text\n", "line 2 has no tab: 'second text'"),
    ("nolabel.csv", "id,text\n1,hello\n", "line 1 has no label column 'label'"),
    ("nolabel.jsonl", '{"label": "a", "text": "x"}\n{"text": "y"}\n', "line 2 has no label key"),
    ("broken.jsonl", '{"label": "a", "text": "x"}\n{"label": \n', "line 2 is not JSON"),
    ("emptylabel.tsv", "a\tx\n\ty\n", "line 2 has an empty label"),
    ("single.tsv", "same\tone text\n" * 100, "a single label ('same') in all 100 examples"),
    ("few.tsv", "a\tx\nb\ty\n" * 5, "fewer than one batch (data.batch_size=16)"),
]


@pytest.mark.parametrize("name, content, message", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_a_bad_labelled_file_is_one_line_and_leaves_no_run_directory(
    tmp_path, monkeypatch, capsys, name, content, message
):
    assert message in refused_file(monkeypatch, capsys, tmp_path / name, content, LABELLED_SMALL)
