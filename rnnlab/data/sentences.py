"""How a sentence of a translation pair becomes tokens, and tokens text again.

Two tokenizers (`data.tokenizer`):
- "words" (`data=pairs`' default): assumes no language. Text is put in Unicode NFC and,
  with `lowercase`, lower-cased; tokens are the runs of characters between spaces, with
  every punctuation mark or symbol (Unicode category P* or S*) a token of its own:
  "Ça va, Zoë?" → ["ça", "va", ",", "zoë", "?"]. Scripts written without spaces stay
  whole sentences.
- "d2l" (`data=fra_eng`): the d2l book's cleaning of Tatoeba's English-French pairs:
  non-breaking spaces become spaces, text is lower-cased, a space goes before `, . ! ?`
  where missing, words split on spaces.

A model's tokens are written back as text for a reader and for sacreBLEU (`text`):
`<unk>` as `UNK_TEXT`, capitals restored by the training split's `Truecaser`, joined by
spaces without the space before closing punctuation (d2l: before `.` and `,` only;
French keeps one before `!` and `?`). sacreBLEU's own tokenizer splits the marks off again
when it scores.
"""

import re
import unicodedata
from dataclasses import dataclass

from rnnlab.data.truecase import Truecaser
from rnnlab.data.vocab import UNK

TOKENIZERS = ("words", "d2l")
# How an unknown word (<unk>) is written in text a user reads and sacreBLEU scores: one
# symbol that no reference contains and the 13a tokenizer keeps whole (it would split
# "<unk>" into "<", "unk", ">"); SentencePiece writes its unknown pieces the same way.
UNK_TEXT = "\u2047"  # ⁇


def preprocess(text: str, lower: bool = True) -> str:
    """d2l's cleaning: non-breaking spaces → spaces, lower case, a space before , . ! ?
    (`lower=False`: the same without lower case, token for token)."""
    text = text.replace("\u202f", " ").replace("\xa0", " ")
    text = text.lower() if lower else text
    return "".join(
        " " + char if i > 0 and char in ",.!?" and text[i - 1] != " " else char
        for i, char in enumerate(text)
    )


def tokenize(sentence: str) -> list[str]:
    """Words of a preprocessed sentence (empty tokens dropped)."""
    return sentence.split()


def detokenize(tokens: list[str], truecase: Truecaser | None = None) -> str:
    """d2l's tokens back into text (see the module docstring)."""
    tokens = [UNK_TEXT if token == UNK else token for token in tokens]
    if truecase is not None:
        tokens = truecase(tokens)
    return re.sub(r" ([.,])", r"\1", " ".join(tokens))


def is_mark(char: str) -> bool:
    """A punctuation mark or a symbol: a token of its own for the "words" tokenizer."""
    return unicodedata.category(char)[0] in "PS"


def split_words(sentence: str) -> list[str]:
    """Runs of characters between spaces, each mark (`is_mark`) a token of its own."""
    tokens, word = [], []
    for char in sentence:
        if char.isspace() or is_mark(char):
            if word:
                tokens.append("".join(word))
                word = []
            if not char.isspace():
                tokens.append(char)
        else:
            word.append(char)
    if word:
        tokens.append("".join(word))
    return tokens


INVERTED = "¿¡"  # Spanish marks: category Po, but they open a sentence


def join_words(tokens: list[str]) -> str:
    """Tokens joined by spaces, none before a closing mark (Unicode Pe, Pf, Po) nor after
    an opening one (Ps, Pi, and ¿ ¡)."""
    text = ""
    for token in tokens:
        closing = (
            len(token) == 1
            and token not in INVERTED
            and unicodedata.category(token) in ("Pe", "Pf", "Po")
        )
        opening = bool(text) and (
            text[-1] in INVERTED or unicodedata.category(text[-1]) in ("Ps", "Pi")
        )
        text += token if not text or closing or opening else " " + token
    return text


@dataclass(frozen=True)
class SentenceTokenizer:
    """`tokens(sentence)` for the model (lower case when `lowercase`), `cased_tokens`
    for the truecaser, `text(tokens, truecase)` for a reader and sacreBLEU."""

    kind: str = "words"
    lowercase: bool = True

    def tokens(self, sentence: str) -> list[str]:
        return self.cased_tokens(sentence.lower() if self.lowercase else sentence)

    def cased_tokens(self, sentence: str) -> list[str]:
        if self.kind == "d2l":
            return tokenize(preprocess(sentence, lower=False))
        return split_words(unicodedata.normalize("NFC", sentence))

    def text(self, tokens: list[str], truecase: Truecaser | None = None) -> str:
        if self.kind == "d2l":
            return detokenize(tokens, truecase)
        tokens = [UNK_TEXT if token == UNK else token for token in tokens]
        if truecase is not None and self.lowercase:
            tokens = truecase(tokens)
        return join_words(tokens)


D2L = SentenceTokenizer("d2l")
