"""English→French sentence pairs (Tatoeba, the d2l book's `fra-eng.zip`) for seq2seq: the
`data=pairs` source (rnnlab/data/pairs.py) with its file inside the zip, its lines
prepared as in the d2l book (section 10.5, the "d2l" tokenizer of
rnnlab/data/sentences.py), its first 20,000 pairs by default (the file is sorted by
English length, so a small `num_examples` means short sentences), and a line without a
tab skipped rather than refused.
"""

from dataclasses import dataclass

from rnnlab.config.schema import POSITIVE, one_of, setting
from rnnlab.data.archive import open_archive
from rnnlab.data.download import fetch
from rnnlab.data.pairs import PairSettings, TranslationCorpus, tokenizer_of
from rnnlab.data.pairs import corpus_from_text as pairs_corpus
from rnnlab.data.sentences import D2L, TOKENIZERS, SentenceTokenizer
from rnnlab.errors import RnnlabError

MEMBER = "fra-eng/fra.txt"


def corpus_from_text(text: str, *args, source: str = "text", **kwargs) -> TranslationCorpus:
    """`rnnlab.data.pairs.corpus_from_text` with d2l's tokenizer, lines without a tab
    skipped."""
    return pairs_corpus(text, *args, source=source, tokenizer=D2L, **kwargs)


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
    tokenizer: SentenceTokenizer = D2L,
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
    return pairs_corpus(
        text,
        num_examples,
        num_steps,
        min_freq,
        val_fraction,
        test_fraction,
        split_seed,
        held_out_examples,
        source=f"{path}:{MEMBER}",
        tokenizer=tokenizer,
    )


@dataclass
class FraEngConfig(PairSettings):
    """data=fra_eng: where the zip is (and the settings every pairs source has)."""

    name: str = setting("fra_eng", one_of(["fra_eng"]), on_resume="must_match")
    root: str | None = setting(
        None, on_resume="free"
    )  # data directory; null: $RNNLAB_DATA, else ~/.cache/rnnlab
    download: bool = setting(True, on_resume="free")  # false: never touch the network
    tokenizer: str = setting("d2l", one_of(TOKENIZERS), on_resume="must_match")
    num_examples: int | None = setting(20000, POSITIVE)  # the first N pairs; null: all


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
            tokenizer_of(data),
        )
