"""A user's own file as a task's held-out data, for `rnnlab.evaluate file=PATH`: read with
the checkpoint's vocabulary and the run's preprocessing, never a new vocabulary.

Formats (UTF-8 text; blank lines are skipped):
  lm         any text; scored as one stream, every token after the first predicted once
  sentiment  one review per line: a label (pos, neg, 1 or 0), a tab, the review
  seq2seq    one pair per line: source, a tab, target, read as the run read its pairs
"""

import torch

from rnnlab.data import imdb, pairs, timemachine
from rnnlab.data.truecase import Truecaser
from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError
from rnnlab.inference.command_line import read_text

FORMATS = {
    "lm": "any text",
    "sentiment": "one review per line: pos, neg, 1 or 0, a tab, the review",
    "seq2seq": pairs.FORMAT,
}
LABELS = {"pos": 1.0, "1": 1.0, "neg": 0.0, "0": 0.0}


def file_data(task_name: str, path: str, saved: dict, cfg):
    """What the task's constructor takes in place of its dataset (`corpus` or `data`), with
    the file as every split; `cfg` is the run's config (its data settings)."""
    text = read_text(path)
    if not text.strip():
        raise RnnlabError(f"file={path!r} is empty; expected {FORMATS[task_name]}")
    return {"lm": _lm_corpus, "sentiment": _reviews, "seq2seq": _pairs}[task_name](
        text, path, saved, cfg
    )


def _lm_corpus(text: str, path: str, saved: dict, cfg) -> timemachine.LMCorpus:
    clean = (
        timemachine.preprocess_d2l(text)
        if cfg.data.preprocess == "d2l"
        else timemachine.preprocess(text)
    )
    vocab = Vocab.from_list(saved["vocab"])
    ids = torch.tensor(vocab[timemachine.tokenize(clean, cfg.data.token)], dtype=torch.long)
    # one stream (batch_size 1); the task's constructor checks that a window fits
    cfg.data.batch_size = 1
    if len(ids) < 2 * cfg.data.num_steps:
        raise RnnlabError(
            f"file={path!r} has {len(ids)} {cfg.data.token} tokens after "
            f"preprocessing; scoring needs at least {2 * cfg.data.num_steps} "
            f"(2 x data.num_steps)"
        )
    return timemachine.LMCorpus(vocab=vocab, train=ids, val=ids)


def _reviews(text: str, path: str, saved: dict, cfg) -> imdb.SentimentData:
    vocab = Vocab.from_list(saved["vocab"])
    ids, labels = [], []
    for number, line in _lines(text):
        label, tab, review = line.partition("\t")
        words = imdb.tokenize(review, cfg.data.punctuation)
        if not tab or label.strip().lower() not in LABELS or not words:
            raise RnnlabError(
                f"file={path!r} line {number} is not a labelled review: "
                f"{line[:40]!r}; expected {FORMATS['sentiment']}"
            )
        tokens = torch.tensor(vocab[words], dtype=torch.long)
        ids.append(imdb.truncate(tokens, cfg.data.max_len, cfg.data.truncate))
        labels.append(LABELS[label.strip().lower()])
    reviews = imdb.Reviews(ids=ids, labels=torch.tensor(labels))
    return imdb.SentimentData(vocab=vocab, train=reviews, val=reviews, test=reviews)


def _pairs(text: str, path: str, saved: dict, cfg) -> pairs.TranslationCorpus:
    """The file read as the run read its pairs (its tokenizer), every line a pair."""
    tokenizer = pairs.tokenizer_of(cfg.data)
    src, tgt, tgt_text, _ = pairs.parse_pairs(  # tgt_text: the references as written
        text, None, tokenizer, strict_source=f"file={path!r}"
    )
    src_vocab, tgt_vocab = Vocab.from_list(saved["src_vocab"]), Vocab.from_list(saved["tgt_vocab"])
    split = pairs.build_split(src, tgt, tgt_text, src_vocab, tgt_vocab, cfg.data.num_steps)
    truecaser = Truecaser.from_dict(saved.get("truecaser"))  # older checkpoints: lower case
    return pairs.TranslationCorpus(
        src_vocab=src_vocab,
        tgt_vocab=tgt_vocab,
        train=split,
        val=split,
        test=split,
        truecaser=truecaser,
        tokenizer=tokenizer,
    )


def _lines(text: str):
    """(line number, line) of the lines that are not blank."""
    return [
        (number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()
    ]
