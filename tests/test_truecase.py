"""The truecaser: capitals learned from the training references, restored by lookup."""

from rnnlab.data.sentences import UNK_TEXT, detokenize
from rnnlab.data.truecase import Truecaser
from rnnlab.data.vocab import UNK


def test_usual_forms_and_the_first_capital_are_learned():
    truecaser = Truecaser.fit(
        [
            ["Tom", "est", "ici", "."],
            ["Je", "vois", "Tom", "."],
            ["Où", "est", "Paris", "?"],
            ["tom", "est", "là", "."],
        ]
    )
    assert truecaser.forms == {"tom": "Tom", "paris": "Paris"}  # away from the start only
    assert truecaser.capitalize_first  # 3 of 4 sentences start with a capital
    assert truecaser("je vois tom et paris .".split()) == "Je vois Tom et Paris .".split()
    assert truecaser([]) == []


def test_lower_case_training_text_changes_nothing():
    truecaser = Truecaser.fit([["c", "b", "a"], ["a", "b"]])
    assert truecaser == Truecaser() and truecaser(["c", "b", "a"]) == ["c", "b", "a"]
    assert Truecaser.from_dict(truecaser.to_dict()) == truecaser
    assert Truecaser.from_dict(None) == Truecaser()  # a checkpoint from before truecasing


def test_unknown_words_are_one_symbol_that_sacrebleu_keeps_whole():
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    text = detokenize(["je", "suis", UNK, "."], Truecaser({}, capitalize_first=True))
    assert text == f"Je suis {UNK_TEXT}."
    assert Tokenizer13a()(text).split() == ["Je", "suis", UNK_TEXT, "."]
    assert Tokenizer13a()("je suis <unk>.").split() == ["je", "suis", "<", "unk", ">", "."]
