"""English→French translation with an RNN encoder-decoder, scored by BLEU on held-out pairs.

Training is teacher-forced: the decoder reads `<bos>` + the target and predicts the target
+ `<eos>`, with cross-entropy averaged over real tokens only (padding is ignored), and
tokens/sec counts those real target tokens. After each epoch the validation split is
translated greedily, in batches, for `val/bleu` (d2l's sentence BLEU, averaged) and
`val/sacrebleu` (corpus BLEU); the test split is touched once, at the end, with beam search.

The objective is `val/sacrebleu`, maximised: it is the number reported on the test split,
and it scores what a user gets (searched translations), which the teacher-forced loss
does not; as a corpus-level score over thousands of sentences it is also steadier than the
mean of per-sentence BLEUs.
"""

import logging

import torch
from omegaconf import OmegaConf
from torch.nn import functional as F

from rnnlab.data.fra_eng import (
    BOS,
    EOS,
    PAD,
    TranslationCorpus,
    TranslationSplit,
    detokenize,
    encode_sentences,
    load_fra_eng,
    preprocess,
    tokenize,
)
from rnnlab.engine import move_to
from rnnlab.inference.decoding import translate_ids
from rnnlab.metrics import bleu, corpus_bleu
from rnnlab.models.modes import evaluating
from rnnlab.models.seq2seq import EncoderDecoder, build_seq2seq
from rnnlab.tasks.base import Task

log = logging.getLogger(__name__)


def masked_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, pad: int,
                         reduction: str = "mean") -> torch.Tensor:
    """logits (B, T, V), labels (B, T) → the cross-entropy of the labels that are not `pad`,
    averaged over them ("mean") or summed ("sum"): what the logits at padded positions
    say contributes nothing."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                           ignore_index=pad, reduction=reduction)


class Seq2SeqTask(Task):
    """Translation of the d2l English-French pairs (or any `TranslationCorpus`)."""

    name = "seq2seq"
    objective = "val/sacrebleu"
    objective_direction = "maximize"
    checkpoint_keys = ("src_vocab", "tgt_vocab")

    def __init__(self, cfg, corpus: TranslationCorpus | None = None):
        """`corpus` replaces the file (tests use a synthetic one)."""
        super().__init__(cfg)
        data = cfg.data
        self.corpus = corpus or load_fra_eng(
            data.root, data.num_examples, data.num_steps, data.min_freq, data.val_fraction,
            data.test_fraction, data.split_seed, data.download)
        if self.corpus.num_skipped:
            log.warning("skipped %d lines without an English<TAB>French pair",
                        self.corpus.num_skipped)
        self.src_vocab, self.tgt_vocab = self.corpus.src_vocab, self.corpus.tgt_vocab
        log.info("pairs: %d train, %d val, %d test; vocabulary: %d English, %d French",
                 len(self.corpus.train), len(self.corpus.val), len(self.corpus.test),
                 len(self.src_vocab), len(self.tgt_vocab))

    def build_model(self) -> EncoderDecoder:
        return build_seq2seq(len(self.src_vocab), len(self.tgt_vocab), self.cfg.model)

    def train_batches(self, epoch: int):
        """Shuffled (src, tgt_in, tgt_out) batches, each (batch_size, num_steps); the order
        comes from (seed, epoch), so a resumed run sees the same batches."""
        train, size = self.corpus.train, self.cfg.data.batch_size
        order = torch.randperm(len(train), generator=self.epoch_generator(epoch))
        for start in range(0, len(order), size):
            rows = order[start : start + size]
            yield train.src[rows], train.tgt_in[rows], train.tgt_out[rows]

    def num_train_batches(self) -> int:
        return -(-len(self.corpus.train) // self.cfg.data.batch_size)

    def training_loss(self, model, batch, state):
        """Mean masked cross-entropy, the number of real target tokens, no state (each
        batch is whole sentences)."""
        src, tgt_in, tgt_out = batch
        pad = self.tgt_vocab[PAD]
        loss = masked_cross_entropy(model(src, tgt_in), tgt_out, pad)
        return loss, int((tgt_out != pad).sum()), None

    def evaluate(self, model) -> dict:
        """Validation loss and greedy-search BLEU."""
        scores = self.score(model, self.corpus.val, beam_size=1)
        return {f"val/{key}": value for key, value in scores.items()}

    def test(self, model) -> dict:
        """The test split, once, with `eval.beam_size` (and greedy search, for comparison)."""
        scores = self.score(model, self.corpus.test, self.cfg.eval.beam_size)
        greedy = self.score(model, self.corpus.test, beam_size=1, with_loss=False)
        return {"test/loss": scores["loss"], "test/bleu_d2l": scores["bleu"],
                "test/sacrebleu": scores["sacrebleu"],
                "test/sacrebleu_greedy": greedy["sacrebleu"]}

    def score(self, model, split: TranslationSplit, beam_size: int,
              with_loss: bool = True) -> dict:
        """{"loss": masked CE (teacher-forced), "bleu": mean d2l BLEU, "sacrebleu": corpus
        BLEU} of `split`, translated with `beam_size`."""
        ev = self.cfg.eval
        ids = translate_ids(model, split.src, self.tgt_vocab[BOS], self.tgt_vocab[EOS],
                            self.cfg.data.num_steps, beam_size, ev.batch_size)
        hypotheses = [self.tgt_vocab.to_tokens(row) for row in ids]
        scores = {
            "bleu": sum(bleu(h, r, ev.bleu_k) for h, r in zip(hypotheses, split.tgt_tokens,
                                                               strict=True)) / len(split),
            "sacrebleu": corpus_bleu([detokenize(h) for h in hypotheses],
                                     [detokenize(r) for r in split.tgt_tokens]),
        }
        if with_loss:
            scores = {"loss": self._loss(model, split), **scores}
        return scores

    def _loss(self, model, split: TranslationSplit) -> float:
        device = next(model.parameters()).device
        pad, size = self.tgt_vocab[PAD], self.cfg.eval.batch_size
        total, count = 0.0, 0
        with evaluating(model):
            for start in range(0, len(split), size):
                src, tgt_in, tgt_out = move_to(tuple(t[start : start + size] for t in (
                    split.src, split.tgt_in, split.tgt_out)), device)
                total += masked_cross_entropy(model(src, tgt_in), tgt_out, pad, "sum").item()
                count += int((tgt_out != pad).sum())
        return total / count

    def log_samples(self, model, logger, epoch: int) -> None:
        """A text panel: greedy translations of the book's four sentences and a few test
        sentences, with the test references."""
        task = self.cfg.task
        test = self.corpus.test
        n = min(task.num_test_samples, len(test))
        sources = [tokenize(preprocess(s)) for s in task.sample_sentences] + test.src_tokens[:n]
        references = [[]] * len(task.sample_sentences) + test.tgt_tokens[:n]
        src = encode_sentences(sources, self.src_vocab, self.cfg.data.num_steps)
        ids = translate_ids(model, src, self.tgt_vocab[BOS], self.tgt_vocab[EOS],
                            self.cfg.data.num_steps)
        rows = [f"| {' '.join(s)} | {detokenize(self.tgt_vocab.to_tokens(o))} | "
                f"{detokenize(r)} |" for s, o, r in zip(sources, ids, references, strict=True)]
        logger.text("translations", "\n".join(["| English | model | reference |",
                                               "| --- | --- | --- |", *rows]), epoch)

    def checkpoint_extras(self) -> dict:
        return {"src_vocab": self.src_vocab.to_list(), "tgt_vocab": self.tgt_vocab.to_list()}

    @staticmethod
    def model_from_checkpoint(saved: dict) -> EncoderDecoder:
        return build_seq2seq(len(saved["src_vocab"]), len(saved["tgt_vocab"]),
                             OmegaConf.create(saved["config"]["model"]))
