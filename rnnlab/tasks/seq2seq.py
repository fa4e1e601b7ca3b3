"""Translation with an RNN encoder-decoder, scored by BLEU on held-out pairs: English→French
(`data=fra_eng`) or any sentence pairs (`data=pairs`).

Training is teacher-forced: the decoder reads `<bos>` + the target and predicts the target
+ `<eos>`, with cross-entropy averaged over real tokens only (padding is ignored), and
tokens/sec counts those real target tokens. After each epoch the validation split is
translated greedily, in batches, for `val/bleu` (d2l's sentence BLEU, averaged) and
`val/sacrebleu` (corpus BLEU); the test split is touched once, at the end, with beam search.

sacreBLEU is the standard one: the model's lower-case tokens are made text a reader would
see (`detokenize`: `<unk>` as ⁇, capitals restored by the corpus' truecaser) and scored
against the French references as they stand in fra.txt, cased (`sacrebleu`) and with
`lowercase=True` (`sacrebleu_lc`). On the test split the multi-reference score (every
translation of an English sentence in the file as its references, one hypothesis per
distinct sentence) is reported beside them as `sacrebleu_multiref`, with each score's
sacreBLEU signature (`test/..._signature`; in TensorBoard, with the scores other than
`test/loss` and `test/sacrebleu`, one text card: `test/scores`).
`sacrebleu_normalized_refs` is the figure reported before issue #17 (lower-case hypotheses
against references rebuilt from the normalised tokens), kept so earlier results can be
compared.

The objective is `val/sacrebleu`, maximised: it is the number reported on the test split,
and it scores what a user gets (searched translations), which the teacher-forced loss
does not; as a corpus-level score over thousands of sentences it is also steadier than the
mean of per-sentence BLEUs.
"""

import logging
from dataclasses import dataclass

import torch
from omegaconf import OmegaConf
from torch.nn import functional as F

from rnnlab.config.schema import NATURAL, Check, one_of, setting
from rnnlab.data import DATA_SOURCES
from rnnlab.data.bucketing import same_length_batch_count, same_length_batches, trim_padding
from rnnlab.data.pairs import (
    BOS,
    EOS,
    PAD,
    TranslationCorpus,
    TranslationSplit,
    encode_sentences,
)
from rnnlab.engine import move_to
from rnnlab.inference.attention_map import attention_map, has_attention, heatmap
from rnnlab.inference.decoding import DecodingConfig, translate_ids
from rnnlab.metrics import CorpusBleu, bleu, corpus_bleu
from rnnlab.models.modes import evaluating
from rnnlab.models.seq2seq import EncoderDecoder, Seq2SeqModelConfig, build_seq2seq
from rnnlab.tasks.base import Task, first_of_each_split

log = logging.getLogger(__name__)


def masked_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, pad: int, reduction: str = "mean"
) -> torch.Tensor:
    """logits (B, T, V), labels (B, T) → the cross-entropy of the labels that are not `pad`,
    averaged over them ("mean") or summed ("sum"): what the logits at padded positions
    say contributes nothing."""
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]),
        labels.reshape(-1),
        ignore_index=pad,
        reduction=reduction,
    )


def sacrebleu_scores(
    hypotheses: list[str], references: list[list[str]], suffix: str = ""
) -> list[tuple[str, CorpusBleu]]:
    """[("sacrebleu" + suffix, cased), ("sacrebleu" + suffix + "_lc", lowercase=True)]."""
    return [
        (f"sacrebleu{suffix}", corpus_bleu(hypotheses, references)),
        (f"sacrebleu{suffix}_lc", corpus_bleu(hypotheses, references, lowercase=True)),
    ]


@dataclass
class Seq2SeqTaskConfig:
    """task=seq2seq: what is shown after each epoch, and the training labels' smoothing."""

    name: str = setting("seq2seq", one_of(["seq2seq"]), on_resume="must_match")
    sample_sentences: list[str] = setting(
        ["go .", "i lost .", "he's calm .", "i'm home ."], on_resume="free"
    )
    num_test_samples: int = setting(
        4, NATURAL, on_resume="free"
    )  # test sentences shown with their references
    label_smoothing: float = setting(
        0.0, Check(lambda x: 0 <= x < 1, "a number in [0, 1) (0: hard labels)")
    )


class Seq2SeqTask(Task):
    """Translation of a source of pairs (`data=fra_eng`, `data=pairs`, or any
    `TranslationCorpus`)."""

    name = "seq2seq"
    Config, ModelConfig, EvalConfig = Seq2SeqTaskConfig, Seq2SeqModelConfig, DecodingConfig
    objective = "val/sacrebleu"
    objective_direction = "maximize"
    checkpoint_keys = ("src_vocab", "tgt_vocab")
    test_charts = ("test/loss", "test/sacrebleu")  # the other BLEUs: the `test/scores` card

    def __init__(self, cfg, corpus: TranslationCorpus | None = None):
        """`corpus` replaces the file (tests use a synthetic one)."""
        super().__init__(cfg)
        self.corpus = corpus or DATA_SOURCES[cfg.data.name].load(cfg.data)
        if self.corpus.num_skipped:
            log.warning(
                "skipped %d lines without a source<TAB>target pair", self.corpus.num_skipped
            )
        self.src_vocab, self.tgt_vocab = self.corpus.src_vocab, self.corpus.tgt_vocab
        self.label_smoothing = cfg.task.label_smoothing
        log.info(
            "pairs: %d train, %d val, %d test; vocabulary: %d source, %d target",
            len(self.corpus.train),
            len(self.corpus.val),
            len(self.corpus.test),
            len(self.src_vocab),
            len(self.tgt_vocab),
        )

    def build_model(self) -> EncoderDecoder:
        return build_seq2seq(
            len(self.src_vocab), len(self.tgt_vocab), self.cfg.model, self.src_vocab[PAD]
        )

    def keep_first_batches(self, num_batches: int) -> None:
        self.corpus = first_of_each_split(self.corpus, num_batches * self.cfg.data.batch_size)

    def train_batches(self, epoch: int):
        """Shuffled (src, tgt_in, tgt_out) batches of at most data.batch_size pairs: every
        source of a batch has the same length and targets similar ones, each cut after its
        longest (`batches`); the order comes from (seed, epoch), so a resumed run sees the
        same batches."""
        return self.batches(
            self.corpus.train, self.cfg.data.batch_size, self.epoch_generator(epoch)
        )

    def num_train_batches(self) -> int:
        train = self.corpus.train
        return same_length_batch_count(
            (train.src != self.src_vocab[PAD]).sum(1), self.cfg.data.batch_size
        )

    def batch_rows(
        self, split: TranslationSplit, size: int, generator: torch.Generator | None
    ) -> list[torch.Tensor]:
        """The row indices of each batch (see `same_length_batches`)."""
        return same_length_batches(
            (split.src != self.src_vocab[PAD]).sum(1),
            (split.tgt_out != self.tgt_vocab[PAD]).sum(1),
            size,
            generator,
        )

    def batches(self, split: TranslationSplit, size: int, generator: torch.Generator | None = None):
        """(src, tgt_in, tgt_out) batches without padding in the source and with as little
        as the targets allow: the work a step does is the sentences' own (shuffled with a
        `generator`, in length order without one)."""
        for rows in self.batch_rows(split, size, generator):
            tgt_out = trim_padding(split.tgt_out[rows], self.tgt_vocab[PAD])
            yield (
                trim_padding(split.src[rows], self.src_vocab[PAD]),
                split.tgt_in[rows, : tgt_out.shape[1]],
                tgt_out,
            )

    def training_loss(self, model, batch, state):
        """Mean cross-entropy over the real target tokens (the logits of padded positions
        are never computed), against labels smoothed by `task.label_smoothing`; their
        number; no state (each batch is whole sentences)."""
        src, tgt_in, tgt_out = batch
        real = tgt_out != self.tgt_vocab[PAD]
        loss = F.cross_entropy(
            model(src, tgt_in, select=real), tgt_out[real], label_smoothing=self.label_smoothing
        )
        return loss, int(real.sum()), None

    def evaluate(self, model) -> dict:
        """Validation loss and greedy-search BLEU."""
        scores = self.score(model, self.corpus.val, beam_size=1)
        return {f"val/{key}": value for key, value in scores.items()}

    def test(self, model) -> dict:
        """The test split, once, with `eval.beam_size` (and greedy search, for comparison):
        scores, and each sacreBLEU score's signature (`..._signature`, text)."""
        test = self.corpus.test
        hypotheses = self.translate(model, test, self.cfg.eval.beam_size)
        greedy = self.translate(model, test, beam_size=1)
        text = self.corpus.tokenizer.text
        texts = [text(h, self.corpus.truecaser) for h in hypotheses]
        first, references = test.references_by_source()
        scores = {"loss": self._loss(model, test), "bleu_d2l": self.d2l_bleu(test, hypotheses)}
        for name, bleu_score in [
            *sacrebleu_scores(texts, [[r] for r in test.tgt_text]),
            *sacrebleu_scores([texts[i] for i in first], references, "_multiref"),
            (
                "sacrebleu_greedy",
                corpus_bleu(
                    [text(h, self.corpus.truecaser) for h in greedy],
                    [[r] for r in test.tgt_text],
                ),
            ),
            (
                "sacrebleu_normalized_refs",
                corpus_bleu(
                    [text(h) for h in hypotheses],
                    [[text(r)] for r in test.tgt_tokens],
                    lowercase=True,
                ),
            ),
        ]:
            scores[name] = bleu_score.score
            scores[f"{name}_signature"] = bleu_score.signature
        return {f"test/{key}": value for key, value in scores.items()}

    def score(self, model, split: TranslationSplit, beam_size: int) -> dict:
        """{"loss": masked CE (teacher-forced), "bleu": mean d2l BLEU, "sacrebleu",
        "sacrebleu_lc": corpus BLEU, cased and not} of `split`, translated with
        `beam_size`."""
        hypotheses = self.translate(model, split, beam_size)
        texts = [self.corpus.tokenizer.text(h, self.corpus.truecaser) for h in hypotheses]
        references = [[r] for r in split.tgt_text]
        return {
            "loss": self._loss(model, split),
            "bleu": self.d2l_bleu(split, hypotheses),
            **{name: b.score for name, b in sacrebleu_scores(texts, references)},
        }

    def translate(self, model, split: TranslationSplit, beam_size: int) -> list[list[str]]:
        """The split's sources searched with `beam_size`: one token list per pair."""
        ids = translate_ids(
            model,
            split.src,
            self.tgt_vocab[BOS],
            self.tgt_vocab[EOS],
            self.cfg.data.num_steps,
            beam_size,
            self.cfg.eval.batch_size,
            self.src_vocab[PAD],
            self.cfg.eval.length_penalty,
        )
        return [self.tgt_vocab.to_tokens(row) for row in ids]

    def d2l_bleu(self, split: TranslationSplit, hypotheses: list[list[str]]) -> float:
        """The book's sentence BLEU against the normalised reference tokens, averaged."""
        k = self.cfg.eval.bleu_k
        return sum(bleu(h, r, k) for h, r in zip(hypotheses, split.tgt_tokens, strict=True)) / len(
            split
        )

    def _loss(self, model, split: TranslationSplit) -> float:
        device = next(model.parameters()).device
        pad = self.tgt_vocab[PAD]
        total, count = 0.0, 0
        with evaluating(model), torch.no_grad():
            for batch in self.batches(split, self.cfg.eval.batch_size):
                src, tgt_in, tgt_out = move_to(batch, device)
                total += masked_cross_entropy(model(src, tgt_in), tgt_out, pad, "sum").item()
                count += int((tgt_out != pad).sum())
        return total / count

    def log_samples(self, model, logger, epoch: int) -> None:
        """A text panel: greedy translations of the book's four sentences and a few test
        sentences, with the test references."""
        task = self.cfg.task
        test = self.corpus.test
        n = min(task.num_test_samples, len(test))
        tokenizer = self.corpus.tokenizer
        sources = [tokenizer.tokens(s) for s in task.sample_sentences] + test.src_tokens[:n]
        references = [""] * len(task.sample_sentences) + test.tgt_text[:n]
        truecase = self.corpus.truecaser
        src = encode_sentences(sources, self.src_vocab, self.cfg.data.num_steps)
        ids = translate_ids(
            model,
            src,
            self.tgt_vocab[BOS],
            self.tgt_vocab[EOS],
            self.cfg.data.num_steps,
            src_pad=self.src_vocab[PAD],
        )
        rows = [
            f"| {' '.join(s)} | {tokenizer.text(self.tgt_vocab.to_tokens(o), truecase)} | {r} |"
            for s, o, r in zip(sources, ids, references, strict=True)
        ]
        logger.text(  # "sample/": TensorBoard sorts it before "status" and "test/"
            "sample/translations",
            "\n".join(["| source | model | reference |", "| --- | --- | --- |", *rows]),
            epoch,
        )
        if has_attention(model):  # where the model looks, one heat map per book sentence
            for index, sentence in enumerate(task.sample_sentences):
                logger.figure(
                    f"attention/{index}",
                    heatmap(
                        *attention_map(
                            model,
                            self.src_vocab,
                            self.tgt_vocab,
                            sentence,
                            self.cfg.data.num_steps,
                            tokenizer,
                        )
                    ),
                    epoch,
                )

    def checkpoint_extras(self) -> dict:
        """The vocabularies and the truecaser (absent from checkpoints older than it)."""
        return {
            "src_vocab": self.src_vocab.to_list(),
            "tgt_vocab": self.tgt_vocab.to_list(),
            "truecaser": self.corpus.truecaser.to_dict(),
        }

    @staticmethod
    def model_from_checkpoint(saved: dict) -> EncoderDecoder:
        return build_seq2seq(
            len(saved["src_vocab"]),
            len(saved["tgt_vocab"]),
            OmegaConf.create(saved["config"]["model"]),
            saved["src_vocab"].index(PAD),
        )
