"""English→French sentence pairs (Tatoeba, the d2l book's `fra-eng.zip`) for seq2seq.

Prepared as in the d2l book (section 10.5): non-breaking spaces become spaces, text is
lower-cased, a space goes before `, . ! ?` where missing, words split on spaces; the first
`num_examples` pairs of the file are used (the file is sorted by English length, so a small
`num_examples` means short sentences). Each sentence gets `<eos>` and is cut or padded with
`<pad>` to `num_steps` tokens; the decoder input is `<bos>` + the target shifted right.

The held-out splits go by *source sentence*: every translation of one English sentence
lands in the same split, so no test sentence is ever trained on, even with another
translation. A pair's split depends only on its English sentence and `split_seed` (a hash),
not on `num_examples`: a sentence held out at 20,000 pairs is held out at 50,000 too.
`held_out_examples` keeps the validation and test pairs of the first N pairs only (the rest
of the held-out sentences are neither trained on nor scored): a model trained on 100,000
pairs is then chosen and scored on exactly the held-out pairs of a 20,000-pair run.
Vocabularies are built on the training split only.

The French sentences are also kept as they stand in the file: the references a standard
sacreBLEU is scored against (`rnnlab.tasks.seq2seq`), and the text a `Truecaser` learns
the capitals from (training split only).
"""

import hashlib
import re
from dataclasses import dataclass, field

import torch

from rnnlab.config.schema import NATURAL, POSITIVE, in_range, one_of, setting
from rnnlab.data.archive import open_archive
from rnnlab.data.download import fetch
from rnnlab.data.truecase import Truecaser
from rnnlab.data.vocab import UNK, Vocab
from rnnlab.errors import RnnlabError

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
RESERVED_TOKENS = (PAD, BOS, EOS)  # after <unk>, which Vocab always puts at id 0
SPLITS = ("train", "val", "test")
MEMBER = "fra-eng/fra.txt"
# How an unknown word (<unk>) is written in text a user reads and sacreBLEU scores: one
# symbol that no reference contains and the 13a tokenizer keeps whole (it would split
# "<unk>" into "<", "unk", ">"); SentencePiece writes its unknown pieces the same way.
UNK_TEXT = "\u2047"  # ⁇


@dataclass
class TranslationSplit:
    """One split as model-ready arrays, all (num_pairs, num_steps) int64 ids:
    `src` (English + <eos>, padded), `tgt_in` (<bos> + French, the decoder's input) and
    `tgt_out` (French + <eos>, the labels; <pad> marks what the loss ignores). The
    unpadded, untruncated token lists are kept as the references BLEU is scored against
    (words outside the vocabulary stay themselves rather than <unk>), and `tgt_text`, each
    French sentence as it stands in the file (cased, untouched): the references of the
    standard sacreBLEU."""

    src: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor
    src_tokens: list[list[str]]
    tgt_tokens: list[list[str]]
    tgt_text: list[str]

    def __len__(self) -> int:
        return len(self.src_tokens)

    def first(self, n: int) -> "TranslationSplit":
        """The split's first `n` pairs (trainer.fast_dev_run)."""
        return TranslationSplit(
            *(field[:n] for field in (self.src, self.tgt_in, self.tgt_out)),
            *(field[:n] for field in (self.src_tokens, self.tgt_tokens, self.tgt_text)),
        )

    def references_by_source(self) -> tuple[list[int], list[list[str]]]:
        """(the index of the first pair of each distinct English sentence, in order;
        every French translation of that sentence in this split, as in the file). The
        split keeps all translations of a sentence together, so these are all of them."""
        groups: dict[str, list[int]] = {}
        for index, sentence in enumerate(self.src_tokens):
            groups.setdefault(" ".join(sentence), []).append(index)
        return (
            [indices[0] for indices in groups.values()],
            [[self.tgt_text[i] for i in indices] for indices in groups.values()],
        )


@dataclass
class TranslationCorpus:
    src_vocab: Vocab
    tgt_vocab: Vocab
    train: TranslationSplit
    val: TranslationSplit
    test: TranslationSplit
    num_skipped: int = 0  # lines without a tab
    truecaser: Truecaser = field(default_factory=Truecaser)  # learned on train's French


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
    """Tokens back into text, the form a reader sees and sacreBLEU scores: `<unk>` written
    as `UNK_TEXT`, capitals restored by `truecase` (if given), joined by spaces, without
    the space that `preprocess` put before `.` and `,` (French keeps one before `!` and
    `?`). sacreBLEU's 13a tokenizer splits the punctuation off again when it scores."""
    tokens = [UNK_TEXT if token == UNK else token for token in tokens]
    if truecase is not None:
        tokens = truecase(tokens)
    return re.sub(r" ([.,])", r"\1", " ".join(tokens))


def parse_pairs(text: str, num_examples: int | None = None) -> tuple[list, list, list, int]:
    """(English token lists, French token lists, French sentences as in the file (stripped),
    number of lines skipped) from the first `num_examples` tab-separated pairs of `text`
    (None: all). Columns after the second are ignored; a line without a tab, or with an
    empty side, is skipped and counted."""
    src, tgt, french_text, skipped = [], [], [], 0
    for line in text.split("\n"):
        if num_examples is not None and len(src) == num_examples:
            break
        if not line.strip():
            continue
        parts = line.split("\t")
        english, french = (tokenize(preprocess(p)) for p in (parts + [""])[:2])
        if not english or not french:
            skipped += 1
            continue
        src.append(english)
        tgt.append(french)
        french_text.append(parts[1].strip())
    return src, tgt, french_text, skipped


def split_of(sentence: list[str], val_fraction: float, test_fraction: float, seed: int) -> str:
    """ "train", "val" or "test" for a source sentence, from a seeded hash of its words:
    deterministic, the same for every translation of it, and independent of the others."""
    digest = hashlib.sha1(f"{seed}\t{' '.join(sentence)}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64  # uniform in [0, 1)
    return "test" if u < test_fraction else "val" if u < test_fraction + val_fraction else "train"


def pad_or_truncate(ids: list[int], num_steps: int, pad: int) -> list[int]:
    return ids[:num_steps] + [pad] * (num_steps - len(ids))


def encode_sentences(
    sentences: list[list[str]], vocab: Vocab, num_steps: int, bos: bool = False
) -> torch.Tensor:
    """(len(sentences), num_steps) ids: each sentence + <eos> (after <bos> if `bos`, with
    its <eos> then usually cut), padded or cut to num_steps."""
    prefix = [BOS] if bos else []
    rows = [pad_or_truncate(vocab[prefix + s + [EOS]], num_steps, vocab[PAD]) for s in sentences]
    return torch.tensor(rows, dtype=torch.long).reshape(len(sentences), num_steps)


def build_split(
    src: list, tgt: list, tgt_text: list, src_vocab: Vocab, tgt_vocab: Vocab, num_steps: int
) -> TranslationSplit:
    return TranslationSplit(
        src=encode_sentences(src, src_vocab, num_steps),
        tgt_in=encode_sentences(tgt, tgt_vocab, num_steps, bos=True),
        tgt_out=encode_sentences(tgt, tgt_vocab, num_steps),
        src_tokens=src,
        tgt_tokens=tgt,
        tgt_text=tgt_text,
    )


def corpus_from_text(
    text: str,
    num_examples: int | None = 600,
    num_steps: int = 10,
    min_freq: int = 2,
    val_fraction: float = 0.05,
    test_fraction: float = 0.05,
    split_seed: int = 0,
    held_out_examples: int | None = None,
    *,
    source: str = "text",
) -> TranslationCorpus:
    """Tab-separated pairs → vocabularies (training split only) and the three splits, the
    held-out two from the first `held_out_examples` pairs only (None: from all).
    `source` names the text in error messages."""
    src, tgt, tgt_text, skipped = parse_pairs(text, num_examples)
    if not src:
        raise RnnlabError(
            f"{source} has no valid pairs ({skipped} lines skipped); expected "
            "lines of 'English<TAB>French'"
        )
    chosen = {name: ([], [], []) for name in SPLITS}
    for index, pair in enumerate(zip(src, tgt, tgt_text, strict=True)):
        split = split_of(pair[0], val_fraction, test_fraction, split_seed)
        if split != "train" and held_out_examples is not None and index >= held_out_examples:
            continue
        pair_lists = chosen[split]
        for items, item in zip(pair_lists, pair, strict=True):
            items.append(item)
    empty = [name for name in SPLITS if not chosen[name][0]]
    if empty:
        raise RnnlabError(
            f"{source}: {len(src)} pairs leave the {'/'.join(empty)} split empty with "
            f"val_fraction={val_fraction}, test_fraction={test_fraction}"
            + (f", held_out_examples={held_out_examples}" if held_out_examples else "")
            + "; use more pairs (data.num_examples, data.held_out_examples) or larger "
            "fractions"
        )
    train_src, train_tgt, train_text = chosen["train"]
    src_vocab = Vocab(train_src, min_freq=min_freq, reserved_tokens=RESERVED_TOKENS)
    tgt_vocab = Vocab(train_tgt, min_freq=min_freq, reserved_tokens=RESERVED_TOKENS)
    splits = {name: build_split(*chosen[name], src_vocab, tgt_vocab, num_steps) for name in SPLITS}
    truecaser = Truecaser.fit([tokenize(preprocess(t, lower=False)) for t in train_text])
    return TranslationCorpus(
        src_vocab, tgt_vocab, **splits, num_skipped=skipped, truecaser=truecaser
    )


def load_fra_eng(
    root: str | None = None,
    num_examples: int | None = 600,
    num_steps: int = 10,
    min_freq: int = 2,
    val_fraction: float = 0.05,
    test_fraction: float = 0.05,
    split_seed: int = 0,
    download: bool = True,
    held_out_examples: int | None = None,
) -> TranslationCorpus:
    """The d2l English-French pairs from the data directory (see `download.fetch`)."""
    path = fetch("fra-eng", root, download)
    with open_archive(path) as archive:
        if MEMBER not in archive.namelist():
            raise RnnlabError(f"{path} has no {MEMBER}; expected the d2l fra-eng.zip")
        data = archive.read(MEMBER)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RnnlabError(f"{path}:{MEMBER} is not UTF-8 (byte {error.start})") from None
    return corpus_from_text(
        text,
        num_examples,
        num_steps,
        min_freq,
        val_fraction,
        test_fraction,
        split_seed,
        held_out_examples,
        source=f"{path}:{MEMBER}",
    )


@dataclass
class FraEngConfig:
    """data=fra_eng: which pairs, how long a sentence may be, and the held-out splits."""

    name: str = setting("fra_eng", one_of(["fra_eng"]), on_resume="must_match")
    root: str | None = setting(
        None, on_resume="free"
    )  # data directory; null: $RNNLAB_DATA, else ~/.cache/rnnlab
    download: bool = setting(True, on_resume="free")  # false: never touch the network
    num_examples: int | None = setting(20000, POSITIVE)  # the first N pairs; null: all
    num_steps: int = setting(10, POSITIVE)  # every sentence (+ <eos>) cut or padded to this
    min_freq: int = setting(2, NATURAL, on_resume="must_match")  # rarer words become <unk>
    val_fraction: float = setting(0.05, in_range(0, 1, low_open=True))
    test_fraction: float = setting(0.05, in_range(0, 1, low_open=True))
    held_out_examples: int | None = setting(None, POSITIVE)  # held out of the first N only
    split_seed: int = setting(0)  # the split hashes (split_seed, English sentence)
    batch_size: int = setting(64, POSITIVE)

    def check(self) -> list[str]:
        if self.val_fraction + self.test_fraction >= 1:
            total = self.val_fraction + self.test_fraction
            return [
                f"val_fraction + data.test_fraction={total!r} is not less than 1 "
                "(training needs pairs)"
            ]
        return []


class FraEng:
    """The `data=fra_eng` source: Tatoeba's English-French pairs (d2l), for translation."""

    name, task, Config = "fra_eng", "seq2seq", FraEngConfig

    @staticmethod
    def load(data: FraEngConfig) -> TranslationCorpus:
        return load_fra_eng(
            data.root,
            data.num_examples,
            data.num_steps,
            data.min_freq,
            data.val_fraction,
            data.test_fraction,
            data.split_seed,
            data.download,
            data.held_out_examples,
        )
