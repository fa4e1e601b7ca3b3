"""Sentence pairs for translation (seq2seq), from any file of `source<TAB>target` lines
(`data=pairs data.path=FILE`); Tatoeba's English-French pairs (`data=fra_eng`) are one
instance, read from the d2l book's zip with the d2l tokenizer.

Sentences become tokens by `data.tokenizer` (rnnlab/data/sentences.py); the first
`num_examples` pairs of the file are used. Each sentence gets `<eos>` and is cut or
padded with `<pad>` to `num_steps` tokens; the decoder input is `<bos>` + the target
shifted right.

The held-out splits go by *source sentence*: every translation of one source sentence
lands in the same split, so no test sentence is ever trained on, even with another
translation. A pair's split depends only on its source sentence and `split_seed` (a hash),
not on `num_examples`: a sentence held out at 20,000 pairs is held out at 50,000 too.
`held_out_examples` keeps the validation and test pairs of the first N pairs only (the rest
of the held-out sentences are neither trained on nor scored): a model trained on 100,000
pairs is then chosen and scored on exactly the held-out pairs of a 20,000-pair run.
Vocabularies are built on the training split only.

The target sentences are also kept as they stand in the file: the references a standard
sacreBLEU is scored against (`rnnlab.tasks.seq2seq`), and the text a `Truecaser` learns
the capitals from (training split only).
"""

import hashlib
from dataclasses import dataclass, field

import torch

from rnnlab.config.schema import NATURAL, POSITIVE, in_range, one_of, setting
from rnnlab.data.sentences import D2L, TOKENIZERS, SentenceTokenizer
from rnnlab.data.truecase import Truecaser
from rnnlab.data.user_file import check_at_least_one_batch, read_user_file
from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
RESERVED_TOKENS = (PAD, BOS, EOS)  # after <unk>, which Vocab always puts at id 0
SPLITS = ("train", "val", "test")
FORMAT = "one pair per line: the source sentence, a tab, its translation"


@dataclass
class TranslationSplit:
    """One split as model-ready arrays, all (num_pairs, num_steps) int64 ids:
    `src` (source + <eos>, padded), `tgt_in` (<bos> + target, the decoder's input) and
    `tgt_out` (target + <eos>, the labels; <pad> marks what the loss ignores). The
    unpadded, untruncated token lists are kept as the references BLEU is scored against
    (words outside the vocabulary stay themselves rather than <unk>), and `tgt_text`, each
    target sentence as it stands in the file (cased, untouched): the references of the
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
        """(the index of the first pair of each distinct source sentence, in order;
        every translation of that sentence in this split, as in the file). The split
        keeps all translations of a sentence together, so these are all of them."""
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
    num_skipped: int = 0  # lines without a tab (data=fra_eng skips them)
    truecaser: Truecaser = field(default_factory=Truecaser)  # learned on train's targets
    tokenizer: SentenceTokenizer = D2L


def parse_pairs(
    text: str,
    num_examples: int | None = None,
    tokenizer: SentenceTokenizer = D2L,
    *,
    strict_source: str | None = None,
) -> tuple[list, list, list, int]:
    """(source token lists, target token lists, target sentences as in the file (stripped),
    number of lines skipped) from the first `num_examples` tab-separated pairs of `text`
    (None: all). Columns after the second are ignored. A line without a tab, or with an
    empty side, is skipped and counted, or, with `strict_source` (the file's name), a
    one-line error naming the line."""
    src, tgt, target_text, skipped = [], [], [], 0
    for number, line in enumerate(text.split("\n"), start=1):
        if num_examples is not None and len(src) == num_examples:
            break
        if not line.strip():
            continue
        parts = line.split("\t")
        source, target = (tokenizer.tokens(p) for p in (parts + [""])[:2])
        if not source or not target:
            if strict_source is not None:
                problem = "has no tab" if len(parts) < 2 else "has an empty side"
                raise RnnlabError(
                    f"{strict_source} line {number} {problem}: {line[:40]!r}; expected {FORMAT}"
                )
            skipped += 1
            continue
        src.append(source)
        tgt.append(target)
        target_text.append(parts[1].strip())
    return src, tgt, target_text, skipped


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


@dataclass
class PairSettings:
    """What every source of pairs shares: how sentences become tokens, which pairs, how
    long a sentence may be, the held-out splits and the batches."""

    tokenizer: str = setting("words", one_of(TOKENIZERS), on_resume="must_match")
    lowercase: bool = setting(True, on_resume="must_match")  # capitals restored when shown
    num_examples: int | None = setting(None, POSITIVE)  # the first N pairs; null: all
    num_steps: int = setting(10, POSITIVE)  # every sentence (+ <eos>) cut or padded to this
    min_freq: int = setting(2, NATURAL, on_resume="must_match")  # rarer words become <unk>
    val_fraction: float = setting(0.05, in_range(0, 1, low_open=True))
    test_fraction: float = setting(0.05, in_range(0, 1, low_open=True))
    held_out_examples: int | None = setting(None, POSITIVE)  # held out of the first N only
    split_seed: int = setting(0)  # the split hashes (split_seed, source sentence)
    batch_size: int = setting(64, POSITIVE)

    def check(self) -> list[str]:
        if self.val_fraction + self.test_fraction >= 1:
            total = self.val_fraction + self.test_fraction
            return [
                f"val_fraction + data.test_fraction={total!r} is not less than 1 "
                "(training needs pairs)"
            ]
        return []


@dataclass
class PairsConfig(PairSettings):
    """data=pairs: a file of sentence pairs (and the settings every pairs source has)."""

    name: str = setting("pairs", one_of(["pairs"]), on_resume="must_match")
    path: str | None = setting(None)  # source<TAB>target per line, UTF-8


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
    tokenizer: SentenceTokenizer = D2L,
    strict: bool = False,
) -> TranslationCorpus:
    """Tab-separated pairs → vocabularies (training split only) and the three splits, the
    held-out two from the first `held_out_examples` pairs only (None: from all).
    `source` names the text in error messages; `strict`: a bad line is an error (see
    `parse_pairs`)."""
    src, tgt, tgt_text, skipped = parse_pairs(
        text, num_examples, tokenizer, strict_source=source if strict else None
    )
    if not src:
        raise RnnlabError(
            f"{source} has no valid pairs ({skipped} lines skipped); expected {FORMAT}"
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
    truecaser = Truecaser.fit([tokenizer.cased_tokens(t) for t in train_text])
    return TranslationCorpus(
        src_vocab,
        tgt_vocab,
        **splits,
        num_skipped=skipped,
        truecaser=truecaser,
        tokenizer=tokenizer,
    )


def tokenizer_of(data) -> SentenceTokenizer:
    """The tokenizer a pairs source's settings name (`data`: a config or a checkpoint's
    saved `data` section)."""
    return SentenceTokenizer(data["tokenizer"], data["lowercase"])


class Pairs:
    """The `data=pairs` source: a user's file of sentence pairs, for translation."""

    name, task, Config = "pairs", "seq2seq", PairsConfig

    @staticmethod
    def load(data: PairsConfig) -> TranslationCorpus:
        corpus = corpus_from_text(
            read_user_file(data.path, expected=FORMAT),
            data.num_examples,
            data.num_steps,
            data.min_freq,
            data.val_fraction,
            data.test_fraction,
            data.split_seed,
            data.held_out_examples,
            source=f"data.path={data.path!r}",
            tokenizer=tokenizer_of(data),
            strict=True,
        )
        check_at_least_one_batch(len(corpus.train), data.batch_size, data.path, "training pairs")
        return corpus

    check = load  # what `rnnlab.data.check_data` runs before the run directory is made
