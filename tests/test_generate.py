"""Generation from a checkpoint: unusual prefixes are read as in training with a warning,
and a checkpoint that cannot serve is refused in one line."""

import io
import logging

import pytest
import torch
from helpers.config import compose_config
from omegaconf import OmegaConf

from rnnlab.data.timemachine import corpus_from_text
from rnnlab.errors import RnnlabError
from rnnlab.generate import GenerateConfig, generate, main
from rnnlab.inference.generation import generate_text
from rnnlab.models.lm import build_lm
from rnnlab.run.checkpoint import FORMAT, load_checkpoint, save_checkpoint


def lm_for(vocab):
    torch.manual_seed(0)
    return build_lm(len(vocab), compose_config(["model.num_hiddens=8"]).model)


def test_prefix_characters_outside_the_alphabet_read_as_spaces(tiny_corpus, caplog):
    model = lm_for(tiny_corpus.vocab)
    with caplog.at_level(logging.WARNING):
        text = generate_text(model, tiny_corpus.vocab, "char", "The 2 times!", 5)
    assert text.startswith("the times ")  # as preprocess cleaned the corpus
    assert "read as spaces as in training: ['!', '2']" in caplog.text


def test_prefix_tokens_outside_the_vocabulary_read_as_unk(caplog):
    corpus = corpus_from_text("the time machine is here " * 20, token="word")
    model = lm_for(corpus.vocab)
    with caplog.at_level(logging.WARNING):
        text = generate_text(model, corpus.vocab, "word", "the traveller is", 3)
    assert text.startswith("the traveller is ")  # the prefix as given, then the continuation
    assert "not in the vocabulary, read as <unk>: ['traveller']" in caplog.text


def test_known_prefix_warns_nothing(tiny_corpus, caplog):
    with caplog.at_level(logging.WARNING):
        generate_text(lm_for(tiny_corpus.vocab), tiny_corpus.vocab, "char", "time machine", 3)
    assert caplog.text == ""


@pytest.fixture
def checkpoint(tmp_path, tiny_corpus):
    """A language-model checkpoint as rnnlab.train writes it."""
    cfg = compose_config(["model.num_hiddens=8"])
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(
        path,
        {
            "model": lm_for(tiny_corpus.vocab).state_dict(),
            "epoch": 1,
            "config": OmegaConf.to_container(cfg, resolve=True),
            "vocab": tiny_corpus.vocab.to_list(),
            "token": "char",
        },
    )
    return path


def test_checkpoint_generates(checkpoint):
    [text] = generate(GenerateConfig(checkpoint=str(checkpoint), prefix="time", num_preds=4))
    assert text.startswith("time") and len(text) == 8


def test_prefixes_from_arguments_a_file_and_stdin(checkpoint, tmp_path, capsys, monkeypatch):
    (tmp_path / "prefixes.txt").write_text("the time\n\nmachine\n")
    monkeypatch.setattr("sys.stdin", io.StringIO("here\n"))
    main(
        [f"checkpoint={checkpoint}", "num_preds=3", "is", "-", f"file={tmp_path / 'prefixes.txt'}"]
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line[:-3] for line in lines] == ["is", "here", "the time", "machine"]


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("prefix=", "prefix=None is empty; expected text to continue"),
        ("prefix=''", "prefix='' is empty; expected text to continue"),
        ("temperature=-1", "temperature=-1.0 must be >= 0 (0 is greedy)"),
        ("num_preds=-2", "num_preds=-2 must be >= 0"),
        ("num_preds=many", "bad arguments: Value 'many' of type 'str' could not be converted"),
        ("", "prefix 1 on the command line is empty ('')"),
    ],
)
def test_bad_arguments_are_one_line_naming_the_value(checkpoint, argument, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([f"checkpoint={checkpoint}", argument])
    assert exit_info.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {message}")
    if "temperature" in argument:
        assert "num_preds" not in line


def test_weights_that_do_not_match_the_saved_config_are_one_line(checkpoint):
    saved = load_checkpoint(checkpoint)
    saved["config"]["model"]["num_hiddens"] = 16
    save_checkpoint(checkpoint, saved)
    with pytest.raises(RnnlabError, match="does not fit the model built from the config") as error:
        generate(GenerateConfig(checkpoint=str(checkpoint)))
    assert "\n" not in str(error.value)


def test_checkpoint_of_another_task_is_refused(checkpoint):
    saved = load_checkpoint(checkpoint)
    saved["config"]["task"]["name"] = "seq2seq"
    save_checkpoint(checkpoint, saved)
    with pytest.raises(
        RnnlabError, match="is a task=seq2seq model; this command needs one trained with task=lm"
    ):
        generate(GenerateConfig(checkpoint=str(checkpoint)))


def test_checkpoint_without_vocabulary_is_refused(checkpoint):
    saved = load_checkpoint(checkpoint)
    del saved["vocab"]
    save_checkpoint(checkpoint, saved)
    with pytest.raises(RnnlabError, match="has no vocab"):
        generate(GenerateConfig(checkpoint=str(checkpoint)))


def refusal_by_each_tool(checkpoint, capsys) -> list[str]:
    """The stderr of generate and of evaluate (on a text file) run on `checkpoint`, each of
    which must exit with status 2."""
    from rnnlab.evaluate import main as evaluate_main

    text = checkpoint.parent / "text.txt"
    text.write_text("the time machine is here " * 10)
    lines = []
    for tool, argv in [(main, ["num_preds=3"]), (evaluate_main, [f"file={text}"])]:
        with pytest.raises(SystemExit) as exit_info:
            tool([f"checkpoint={checkpoint}", *argv])
        assert exit_info.value.code == 2, tool.__module__
        lines += capsys.readouterr().err.splitlines()
    return lines


def test_a_checkpoint_with_non_finite_weights_is_refused_by_the_tools(checkpoint, capsys):
    """Issue 31: NaN weights gave generate `<unk>`s and evaluate `nan`, both with exit 0."""
    saved = load_checkpoint(checkpoint)
    saved["model"]["head.bias"][0] = float("nan")
    saved["model"]["recurrent.weight_hh_l0"][1, 2] = float("inf")
    save_checkpoint(checkpoint, saved)
    line = (
        f"error: checkpoint {str(checkpoint)!r} has non-finite weights "
        "(model.recurrent.weight_hh_l0 and 1 more); it cannot be used"
    )
    assert refusal_by_each_tool(checkpoint, capsys) == [line, line]


@pytest.mark.parametrize(
    ("tampered", "problem"),
    [
        ({"config": "word"}, "has token='char' but data.token='word' in its config"),
        (
            {"config": "word", "token": "word"},
            "has data.token=word, but its vocabulary is of characters (' ' is one of its tokens)",
        ),
    ],
    ids=["config", "config-and-token"],
)
def test_a_token_setting_that_disagrees_with_the_vocabulary_is_refused(
    checkpoint, tampered, problem, capsys
):
    """Issue 31: `token: word` on a character model generated garbage silently."""
    saved = load_checkpoint(checkpoint)
    saved["config"]["data"]["token"] = tampered["config"]
    saved["token"] = tampered.get("token", saved["token"])
    save_checkpoint(checkpoint, saved)
    line = f"error: checkpoint {str(checkpoint)!r} {problem}; it cannot be used"
    assert refusal_by_each_tool(checkpoint, capsys) == [line, line]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda saved: saved.update(config=["not", "a", "config"]),
        lambda s: s["config"].update(task="lm"),
    ],
    ids=["config-a-list", "task-a-string"],
)
def test_a_config_of_the_wrong_shape_is_one_line_in_each_tool(checkpoint, tamper, capsys):
    """Issue 31, defect 11: evaluate raised AttributeError ('list' object has no attribute
    'get') on a checkpoint whose config is a list or whose task is a string."""
    saved = load_checkpoint(checkpoint)
    tamper(saved)
    save_checkpoint(checkpoint, saved)
    for line in refusal_by_each_tool(checkpoint, capsys):
        assert line.startswith(f"error: checkpoint {str(checkpoint)!r}")


def test_foreign_file_at_the_command_line_is_one_line(tmp_path, capsys):
    torch.save({"format": FORMAT + "-other", "weights": torch.ones(1)}, tmp_path / "x.pt")
    with pytest.raises(SystemExit) as exit_info:
        main([f"checkpoint={tmp_path / 'x.pt'}"])
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"error: {str(tmp_path / 'x.pt')!r} is not an rnnlab checkpoint (expected format {FORMAT})"
    ]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("num_hiddens", "abc", "model.num_hiddens='abc' is not an integer"),
        ("num_hiddens", -4, "model.num_hiddens=-4 is not an integer >= 1"),
        ("num_layers", 0, "model.num_layers=0 is not an integer >= 1"),
        ("dropout", 5, "model.dropout=5.0 is not a number in [0, 1)"),
    ],
)
def test_a_tampered_checkpoint_config_is_one_line(checkpoint, key, value, message, capsys):
    saved = load_checkpoint(checkpoint)
    saved["config"]["model"][key] = value
    save_checkpoint(checkpoint, saved)
    with pytest.raises(SystemExit):
        main([f"checkpoint={checkpoint}"])
    assert capsys.readouterr().err.splitlines() == [
        f"error: checkpoint {str(checkpoint)!r} holds a config this rnnlab refuses: {message}"
    ]


# The inference tools take only what they understand (issue 31, item 2).


@pytest.mark.parametrize(
    ("argument", "nearest"),
    [("num_pred=5", "did you mean num_preds?"), ("--num_preds=5", "did you mean num_preds?")],
)
def test_a_misspelt_setting_is_refused_naming_the_nearest_key(
    checkpoint, argument, nearest, capsys
):
    with pytest.raises(SystemExit) as exit_info:
        main([f"checkpoint={checkpoint}", argument])
    assert exit_info.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {argument!r} is not a setting") and nearest in line


def test_an_input_that_looks_like_a_setting_goes_after_a_double_dash(checkpoint, capsys):
    main([f"checkpoint={checkpoint}", "num_preds=3", "--", "time=machine"])
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("time machine")  # the prefix, cleaned as the corpus was


def test_a_run_directory_stands_for_its_best_checkpoint(checkpoint, capsys):
    main([f"checkpoint={checkpoint.parent}", "num_preds=3", "the"])
    best_of_dir = capsys.readouterr().out
    main([f"checkpoint={checkpoint}", "num_preds=3", "the"])
    assert best_of_dir == capsys.readouterr().out and best_of_dir.startswith("the")


def test_a_closed_pipe_ends_a_tool_quietly(capsys):
    from rnnlab.inference.command_line import run_command

    def body(argv):
        raise BrokenPipeError  # what print raises once `| head` has gone

    with pytest.raises(SystemExit) as exit_info:
        run_command(body, [], "doc")
    assert exit_info.value.code == 0 and "Traceback" not in capsys.readouterr().err


def test_a_tool_runs_on_the_free_cores_as_training_does(monkeypatch):
    """Issue 31, defect 4: the tools took torch's default threads on a busy machine."""
    import torch

    from rnnlab.inference.command_line import run_command
    from rnnlab.run import threads

    before = torch.get_num_threads()
    seen = []
    monkeypatch.setattr(threads, "default_threads", lambda default: 1)
    try:
        run_command(lambda argv: seen.append(torch.get_num_threads()), [], "doc")
    finally:
        torch.set_num_threads(before)
    assert seen == [1]


# Generation's edge cases (issue 31, defect 10).


def test_a_tiny_temperature_samples_the_greedy_token(checkpoint):
    greedy = generate(GenerateConfig(checkpoint=str(checkpoint), prefix="time", num_preds=6))
    tiny = generate(
        GenerateConfig(checkpoint=str(checkpoint), prefix="time", num_preds=6, temperature=1e-300)
    )
    assert tiny == greedy


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("temperature=nan", "temperature=nan is not a number; expected one >= 0 (0 is greedy)"),
        ("seed=18446744073709551616", "seed=18446744073709551616 is not an integer in [0, 2**32)"),
        ("seed=-1", "seed=-1 is not an integer in [0, 2**32)"),
    ],
)
def test_a_nan_temperature_or_a_seed_out_of_range_is_one_line(
    checkpoint, argument, message, capsys
):
    with pytest.raises(SystemExit) as exit_info:
        main([f"checkpoint={checkpoint}", "temperature=0.5", argument])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [f"error: {message}"]


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_an_empty_file_or_stdin_is_refused_not_replaced_by_the_default_prefix(
    checkpoint, tmp_path, source, capsys, monkeypatch
):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    argument = f"file={empty}" if source == "file" else "-"
    with pytest.raises(SystemExit) as exit_info:
        main([f"checkpoint={checkpoint}", argument])
    assert exit_info.value.code == 2
    where = f"file={str(empty)!r}" if source == "file" else "standard input"
    assert capsys.readouterr().err.splitlines() == [
        f"error: {where} holds no prefix; expected one text to continue per line"
    ]
