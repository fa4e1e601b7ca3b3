"""A user's own file as a task's held-out data, for `rnnlab.evaluate file=PATH`: read with
the checkpoint's vocabulary and the run's preprocessing, never a new vocabulary.

Formats (UTF-8 text; blank lines are skipped):
  lm         any text; scored as one stream, every token after the first predicted once
  sentiment  one review per line: a label (pos, neg, 1 or 0), a tab, the review; a
             data=labelled run: its own format and labels (rnnlab/data/label_files.py)
  seq2seq    one pair per line: source, a tab, target, read as the run read its pairs
"""

import torch

from rnnlab.data import labelled, pairs, timemachine
from rnnlab.data.label_files import format_of, read_examples
from rnnlab.data.truecase import Truecaser
from rnnlab.data.user_file import numbered_lines
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
    clean = timemachine.clean(text, cfg.data.preprocess)
    vocab = Vocab.from_list(saved["vocab"])
    ids = timemachine.token_ids(vocab, timemachine.tokenize(clean, cfg.data.token))
    # one stream (batch_size 1); the task's constructor checks that a window fits
    cfg.data.batch_size = 1
    if len(ids) < 2 * cfg.data.num_steps:
        raise RnnlabError(
            f"file={path!r} has {len(ids)} {cfg.data.token} tokens after "
            f"preprocessing; scoring needs at least {2 * cfg.data.num_steps} "
            f"(2 x data.num_steps)"
        )
    return timemachine.LMCorpus(vocab=vocab, train=ids, val=ids)


def _reviews(text: str, path: str, saved: dict, cfg) -> labelled.SentimentData:
    """The file's examples with the run's labels: a labelled run's file is read in its
    data format (rnnlab/data/label_files.py), an IMDB run's as `pos|neg|1|0<TAB>review`."""
    vocab = Vocab.from_list(saved["vocab"])
    if cfg.data.name == "labelled":
        data, source = cfg.data, f"file={path!r}"
        fmt = format_of(path, data.format)
        examples = read_examples(text, fmt, data.label_field, data.text_field, source)
        names = tuple(saved["label_names"])
        classes, _ = labelled.label_ids(examples, source, names)
        texts, labels = [body for _, _, body in examples], torch.tensor(classes)
    else:
        texts, labels = _imdb_reviews(text, path, cfg.data.punctuation)
    ids = []
    for review in texts:
        tokens = torch.tensor(vocab[labelled.tokenize(review, cfg.data.punctuation)] or [vocab.unk])
        ids.append(labelled.truncate(tokens, cfg.data.max_len, cfg.data.truncate))
    reviews = labelled.Reviews(ids=ids, labels=labels)
    return labelled.SentimentData(
        vocab=vocab,
        train=reviews,
        val=reviews,
        test=reviews,
        label_names=tuple(saved.get("label_names") or labelled.BINARY_LABELS),
    )


def _imdb_reviews(text: str, path: str, punctuation: bool) -> tuple[list[str], torch.Tensor]:
    texts, labels = [], []
    for number, line in numbered_lines(text):
        label, tab, review = line.partition("\t")
        if (
            not tab
            or label.strip().lower() not in LABELS
            or not labelled.tokenize(review, punctuation)
        ):
            raise RnnlabError(
                f"file={path!r} line {number} is not a labelled review: "
                f"{line[:40]!r}; expected {FORMATS['sentiment']}"
            )
        texts.append(review)
        labels.append(LABELS[label.strip().lower()])
    return texts, torch.tensor(labels)


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
