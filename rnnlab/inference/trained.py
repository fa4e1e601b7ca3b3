"""A trained run's model, loaded once, with its task's uses as methods: what `rnnlab.load`
returns, and what `rnnlab-generate` and `rnnlab-translate` run through.

    model = rnnlab.load("outputs/2025-01-01/12-00-00")   # best.pt, else checkpoint.pt
    model.generate("time traveller", num_preds=50)        # task=lm
    model.translate(["i'm home ."], beam_size=4)           # task=seq2seq
    model.predict(["a waste of time"])                     # task=sentiment
    model.evaluate("test")                                 # every task; or a file's path

Each use calls the code its command calls (`rnnlab.inference.generation`,
`rnnlab.inference.decoding`, `rnnlab.predict`, `rnnlab.evaluate`), so the two give the same
results. A use that does not fit the run's task is a one-line `RnnlabError`.
"""

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from rnnlab.data.labelled import BINARY_LABELS
from rnnlab.data.pairs import tokenizer_of
from rnnlab.data.truecase import Truecaser
from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError
from rnnlab.evaluate import SPLITS, evaluate
from rnnlab.inference.decoding import translate
from rnnlab.inference.generation import check_generation, generate_text
from rnnlab.predict import positive_probability, probabilities
from rnnlab.run.checkpoint import checkpoint_in, load_checkpoint, load_for_inference
from rnnlab.tasks import TASKS
from rnnlab.tasks.base import Task

USES = {"lm": "generate", "seq2seq": "translate", "sentiment": "predict"}


class TrainedModel:
    """The model of a checkpoint (best.pt or checkpoint.pt, or a run directory: its best.pt,
    else its checkpoint.pt), on the CPU and in eval mode.

    `task` is the Task class a command needs (its refusal names the command's task); left
    out, the checkpoint's own task is used. Attributes: `path` (the checkpoint file),
    `task` (its task's name), `model` (the `nn.Module`), `checkpoint` (the saved payload:
    config, vocabularies, metrics)."""

    def __init__(self, checkpoint: str | Path, task: type[Task] | None = None):
        self.path = checkpoint_in(checkpoint)
        if task is None:
            name = task_name(self.path)
            if name not in TASKS:
                raise RnnlabError(
                    f"checkpoint {self.path!r} names task {name!r}; expected one of "
                    f"{', '.join(TASKS)}"
                )
            task = TASKS[name]
        self.task: str = task.name
        model, saved = load_for_inference(self.path, task)
        self.model: nn.Module = model
        self.checkpoint: dict = saved

    def __repr__(self) -> str:
        return f"TrainedModel({self.path!r}, task={self.task!r})"

    @property
    def config(self) -> dict:
        """The run's resolved config, as the checkpoint saved it."""
        return self.checkpoint["config"]

    def generate(
        self,
        prefix: str | Sequence[str] = "time traveller",
        num_preds: int = 100,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> str | list[str]:
        """Each prefix followed by its `num_preds` predicted tokens (task=lm): greedy at
        temperature 0, else sampled from softmax(logits / temperature), with one generator
        seeded by `seed` for all the prefixes. A string gives a string, a list a list."""
        self._needs("lm", "generate")
        check_generation(num_preds, temperature, seed)
        prefixes = _texts(prefix, "prefix", "text to continue, e.g. 'time traveller'")
        vocab = Vocab.from_list(self.checkpoint["vocab"])
        generator = torch.Generator().manual_seed(seed)
        token = self.checkpoint["token"]
        preprocessing = self.checkpoint["config"]["data"]["preprocess"]  # as the run's text
        texts = [
            generate_text(
                self.model, vocab, token, text, num_preds, temperature, generator, preprocessing
            )
            for text in prefixes
        ]
        return texts[0] if isinstance(prefix, str) else texts

    def translate(
        self, sentences: str | Sequence[str], beam_size: int | None = None
    ) -> str | list[str]:
        """The translation of each sentence (task=seq2seq), by beam search of `beam_size`
        (1: greedy; None: the run's eval.beam_size), capitals restored as in the training
        references. A string gives a string, a list a list."""
        self._needs("seq2seq", "translate")
        if beam_size is not None and beam_size < 1:
            raise RnnlabError(f"beam_size={beam_size} must be >= 1 (1 is greedy search)")
        texts = _texts(sentences, "sentence", "a sentence to translate")
        saved, config = self.checkpoint, self.config
        translations = translate(
            self.model,
            Vocab.from_list(saved["src_vocab"]),
            Vocab.from_list(saved["tgt_vocab"]),
            texts,
            config["data"]["num_steps"],
            beam_size or config["eval"]["beam_size"],
            Truecaser.from_dict(saved.get("truecaser")),
            config["eval"]["length_penalty"],
            tokenizer_of(config["data"]),
        )
        return translations[0] if isinstance(sentences, str) else translations

    def predict(self, texts: str | Sequence[str]) -> float | tuple | list:
        """Each text's prediction (task=sentiment), tokenised and cut as in training: for
        an IMDB model P(positive), for a data=labelled model (its most probable label,
        P(label)). A string gives one prediction, a list a list."""
        self._needs("sentiment", "predict")
        reviews = _texts(texts, "text", "a text to classify")
        vocab = Vocab.from_list(self.checkpoint["vocab"])
        data = self.config["data"]
        if data["name"] == "imdb":
            found = [positive_probability(self.model, vocab, data, text) for text in reviews]
        else:
            names = tuple(self.checkpoint.get("label_names") or BINARY_LABELS)
            found = []
            for text in reviews:
                p = probabilities(self.model, vocab, data, text)
                best = max(range(len(p)), key=p.__getitem__)
                found.append((names[best], p[best]))
        return found[0] if isinstance(texts, str) else found

    def evaluate(self, file_or_split: str | Path = "test", overrides: Sequence[str] = ()) -> dict:
        """{metric: value} on the task's "test" or "val" split (rebuilt from the saved
        config), or on a UTF-8 file in the task's format (see `rnnlab.inference.files`;
        tags file/...). `overrides`: `key=value` for the run's config, e.g.
        ["data.root=/data", "eval.beam_size=1"], as `rnnlab-evaluate` takes them."""
        if isinstance(overrides, str):
            raise RnnlabError(f"overrides={overrides!r} is one string; expected a list of them")
        if str(file_or_split) in SPLITS and not isinstance(file_or_split, Path):
            return evaluate(self.path, str(file_or_split), list(overrides))
        if not Path(file_or_split).exists():
            raise RnnlabError(
                f"{str(file_or_split)!r} is neither a split ({', '.join(SPLITS)}) nor a file"
            )
        return evaluate(self.path, "test", list(overrides), file=str(file_or_split))

    def _needs(self, task: str, use: str) -> None:
        if self.task != task:
            other = USES.get(self.task)
            hint = f"; its uses: {other} and evaluate" if other else ""
            raise RnnlabError(
                f"{use} needs a task={task} model; {self.path!r} is a task={self.task} model{hint}"
            )


def task_name(path: str) -> str | None:
    """The task the checkpoint at `path` was trained for (its config's task.name)."""
    config = load_checkpoint(path).get("config")
    task = config.get("task") if isinstance(config, dict) else None
    return task.get("name") if isinstance(task, dict) else None


def _texts(texts: str | Sequence[str], what: str, expected: str) -> list[str]:
    """A string or a sequence of strings as a list; an empty text is refused."""
    items = [texts] if isinstance(texts, str) else list(texts)
    if not items:
        raise RnnlabError(f"no {what} given; expected {expected}")
    for position, text in enumerate(items, start=1):
        if not isinstance(text, str) or not text.strip():
            raise RnnlabError(f"{what} {position} is {text!r}; expected {expected}")
    return items
