"""Language modelling on a text corpus: next-token cross-entropy, reported as perplexity.

Training perplexity is what the published tables show; validation perplexity, on the
held-out end of the book (or of the user's text), is the honest number. A text with a test
part of its own (`data=text data.test_path=...`) is scored there once, on the best
weights.
"""

import dataclasses
import logging
import math
from dataclasses import dataclass

import torch
from omegaconf import OmegaConf
from torch.nn import functional as F

from rnnlab.config.schema import NON_NEGATIVE, POSITIVE, one_of, setting
from rnnlab.data import DATA_SOURCES
from rnnlab.data.sampling import batches, check_fits, evaluation_batches, num_batches
from rnnlab.data.timemachine import LMCorpus, foreign_token
from rnnlab.engine import move_to
from rnnlab.inference.adaptive import AdaptiveEvalConfig, adaptive_nll
from rnnlab.inference.generation import generate_text
from rnnlab.metrics import perplexity
from rnnlab.models.lm import RNNLM, LMModelConfig, build_lm
from rnnlab.models.modes import evaluating
from rnnlab.models.state import detach_state
from rnnlab.tasks.base import Task

log = logging.getLogger(__name__)


def activation_penalty(raw, dropped, ar_alpha: float, tar_beta: float):
    """AWD's activation regularisation of the last layer's outputs (num_steps, batch,
    width): AR, ar_alpha × mean(dropped²), keeps the outputs (after the output dropout)
    small; TAR, tar_beta × mean((raw_t - raw_{t-1})²), keeps the undropped outputs slow.
    None when both are off."""
    if not ar_alpha and not tar_beta:
        return None
    penalty = ar_alpha * dropped.pow(2).mean() if ar_alpha else 0.0
    if tar_beta:
        penalty = penalty + tar_beta * (raw[1:] - raw[:-1]).pow(2).mean()
    return penalty


@dataclass
class LMTaskConfig:
    """task=lm: the sample logged after each epoch, and AWD's activation regularisation of
    the last layer's outputs (added to the gradient; 0 turns each off)."""

    name: str = setting("lm", one_of(["lm"]), on_resume="must_match")
    sample_prefix: str = setting(
        "time traveller", on_resume="free"
    )  # text sample logged after every epoch
    sample_length: int = setting(50, POSITIVE, on_resume="free")
    ar_alpha: float = setting(0.0, NON_NEGATIVE)  # AR: alpha x mean squared dropped output
    tar_beta: float = setting(0.0, NON_NEGATIVE)  # TAR: beta x mean squared change


class LanguageModelTask(Task):
    """Next-token prediction on The Time Machine or any text, character or word level."""

    name = "lm"
    Config, ModelConfig, EvalConfig = LMTaskConfig, LMModelConfig, AdaptiveEvalConfig
    objective = "val/perplexity"
    checkpoint_keys = ("vocab", "token")
    has_test_split = False  # the held-out end of the book is the validation split

    def __init__(self, cfg, corpus: LMCorpus | None = None):
        """`corpus` replaces the data source's (tests, `evaluate file=`)."""
        super().__init__(cfg)
        data = cfg.data
        self.corpus = corpus or DATA_SOURCES[data.name].load(data)
        self.vocab = self.corpus.vocab
        self.has_test_split = self.corpus.test is not None  # data.test_path
        check_fits(len(self.corpus.train), data.batch_size, data.num_steps)  # before any work

    def build_model(self) -> RNNLM:
        if self.cfg.model.bidirectional:
            log.warning(
                "model.bidirectional=true: a bidirectional language model sees the "
                "tokens it predicts, so its perplexities and samples are not meaningful"
            )
        return build_lm(len(self.vocab), self.cfg.model)

    def to(self, device: torch.device) -> "LanguageModelTask":
        """The token ids on `device` (a few MB at most): batches are then cut there, with
        no host-to-device copy per step."""
        test = self.corpus.test
        self.corpus = dataclasses.replace(
            self.corpus,
            train=self.corpus.train.to(device),
            val=self.corpus.val.to(device),
            test=None if test is None else test.to(device),
        )
        return self

    def keep_first_batches(self, num_batches: int) -> None:
        data = self.cfg.data
        tokens = num_batches * data.batch_size * data.num_steps + 1
        corpus = self.corpus  # a text's own test split (data.test_path) is cut too
        self.corpus = dataclasses.replace(
            corpus,
            train=corpus.train[:tokens],
            val=corpus.val[:tokens],
            test=None if corpus.test is None else corpus.test[:tokens],
        )

    def train_batches(self, epoch: int):
        data = self.cfg.data
        return batches(
            self.corpus.train,
            data.batch_size,
            data.num_steps,
            data.sampling,
            self.epoch_generator(epoch),
        )

    def num_train_batches(self) -> int:
        data = self.cfg.data
        return num_batches(len(self.corpus.train), data.batch_size, data.num_steps, data.sampling)

    def training_loss(self, model, batch, state):
        """batch: X, Y of shape (batch, num_steps). Sequential batches continue each other, so
        the state carries over (detached: gradients stop at the batch boundary); random
        batches are unrelated, so each starts from zeros. With `task.ar_alpha` or
        `task.tar_beta`, AWD's activation regularisation joins the gradient (see
        `activation_penalty`); the loss's value, and so train/perplexity, stays the
        cross-entropy."""
        X, Y = batch
        state = detach_state(state) if self.cfg.data.sampling == "sequential" else None
        logits, state, (raw, dropped) = model.forward_with_activations(X, state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1))
        penalty = activation_penalty(raw, dropped, self.cfg.task.ar_alpha, self.cfg.task.tar_beta)
        if penalty is not None:
            # x - x.detach() is 0 in value and x in gradient: the penalty is trained on
            # but not reported as part of the language model's loss (as AWD reports it).
            loss = loss + (penalty - penalty.detach())
        return loss, Y.numel(), state

    def train_metrics(self, mean_loss: float) -> dict:
        return {"train/perplexity": perplexity(mean_loss)}

    def evaluate(self, model) -> dict:
        return self.scores(model, self.corpus.val, "val")

    def scores(self, model, tokens: torch.Tensor, split: str) -> dict:
        """`{split}/loss` and `{split}/perplexity` of `tokens` read as `batch_size`
        continuous streams, the hidden state carried."""
        device = next(model.parameters()).device
        total, count, state = torch.zeros((), device=device), 0, None
        with evaluating(model):
            for X, Y in evaluation_batches(
                tokens, self.cfg.data.batch_size, self.cfg.data.num_steps
            ):
                X, Y = move_to((X, Y), device)
                logits, state = model(X, state)
                total += F.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), Y.reshape(-1), reduction="sum"
                )
                count += Y.numel()
        mean_loss = total.item() / count
        return {f"{split}/loss": mean_loss, f"{split}/perplexity": perplexity(mean_loss)}

    def test(self, model) -> dict:
        """On the best weights: the test text's `test/loss` and `test/perplexity`, where
        the data has one (`data.test_path`); and the held-out text (the validation split)
        once more, read as dynamic evaluation and/or the neural cache read it
        (`eval.dynamic_lr`, `eval.cache_size`; rnnlab/inference/adaptive.py):
        `val/stream_perplexity` (the same weights reading it as one stream, the figure the
        adaptive one compares with) and `val/adaptive_perplexity`, when either is on."""
        tested = {} if self.corpus.test is None else self.scores(model, self.corpus.test, "test")
        return tested | self.adaptive_scores(model)

    def adaptive_scores(self, model) -> dict:
        settings = self.cfg.eval
        dynamic_lr, cache_size = settings.dynamic_lr, settings.cache_size
        if not dynamic_lr and not cache_size:
            return {}
        tokens, num_steps = self.corpus.val, self.cfg.data.num_steps
        static = adaptive_nll(model, tokens, num_steps)
        adaptive = adaptive_nll(
            model,
            tokens,
            num_steps,
            dynamic_lr=dynamic_lr,
            grad_clip=self.cfg.trainer.grad_clip,
            cache_size=cache_size,
            cache_theta=settings.cache_theta,
            cache_lambda=settings.cache_lambda,
        )
        scores = {
            "val/stream_perplexity": perplexity(static),
            "val/adaptive_perplexity": perplexity(adaptive),
        }
        if not math.isfinite(scores["val/adaptive_perplexity"]):
            # training is not at fault, so the run stays finished, but never silently
            on = {"eval.dynamic_lr": dynamic_lr, "eval.cache_size": cache_size}
            log.warning(
                "the adaptive perplexity is %s: reading the held-out text adaptively diverged "
                "with %s%s",
                scores["val/adaptive_perplexity"],
                ", ".join(f"{key}={value:g}" for key, value in on.items() if value),
                "; try a smaller eval.dynamic_lr" if dynamic_lr else "",
            )
        return scores

    def log_samples(self, model, logger, epoch: int) -> None:
        task = self.cfg.task
        data = self.cfg.data
        text = generate_text(
            model,
            self.vocab,
            data.token,
            task.sample_prefix,
            task.sample_length,
            preprocessing=data.preprocess,
        )
        logger.text("sample", text, epoch)

    def checkpoint_extras(self) -> dict:
        return {"vocab": self.vocab.to_list(), "token": self.cfg.data.token}

    @staticmethod
    def checkpoint_problem(saved: dict) -> str | None:
        """The token setting, the checkpoint's own and its config's, must be the one its
        vocabulary was made with: data.token=word over a character vocabulary would read
        every text as <unk>."""
        token = saved["config"]["data"]["token"]  # char or word: the schema checked it
        if saved["token"] != token:
            return f"has token={saved['token']!r} but data.token={token!r} in its config"
        foreign = foreign_token(saved["vocab"], token)
        if foreign is not None:
            kind = "words" if token == "char" else "characters"
            return (
                f"has data.token={token}, but its vocabulary is of {kind} "
                f"({foreign!r} is one of its tokens)"
            )
        return None

    @staticmethod
    def model_from_checkpoint(saved: dict) -> RNNLM:
        return build_lm(len(saved["vocab"]), OmegaConf.create(saved["config"]["model"]))
