"""Translate sentences with a trained seq2seq model (rnnlab-translate).

    python -m rnnlab.translate checkpoint=outputs/.../best.pt "i'm home ."
    python -m rnnlab.translate checkpoint=... "go ." "i lost ." beam_size=1   # greedy
    python -m rnnlab.translate checkpoint=... file=sentences.txt              # or - for stdin

Settings (`key=value`, as in training):
  checkpoint   best.pt or checkpoint.pt of a task=seq2seq run (required)
  beam_size    1: greedy; default: the run's eval.beam_size
  file         a text file of sentences, one per line (- as an argument: standard input)
  attention_png  save the first sentence's attention heat map (greedy translation) as
               this PNG (models trained with model.attention=bahdanau or luong)
Every other argument is a sentence. Prints `translation<TAB>sentence`, one line each;
capitals are restored as in the training references, and a word the model does not know
is written ⁇.
Sentences are cleaned as the training pairs were; one longer than the run's
data.num_steps is cut, with a warning.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

from rnnlab.data.pairs import tokenizer_of
from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError
from rnnlab.inference.attention_map import has_attention, save_heatmap
from rnnlab.inference.command_line import (
    parse_settings,
    read_inputs,
    run_command,
    split_arguments,
)
from rnnlab.inference.trained import TrainedModel
from rnnlab.tasks.seq2seq import Seq2SeqTask

USAGE = 'e.g. checkpoint=PATH "i\'m home ." beam_size=4; see --help'


@dataclass
class TranslateConfig:
    checkpoint: str = "???"
    beam_size: int | None = None
    file: str | None = None
    attention_png: str | None = None


PICTURE_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg")


def check_picture_path(path: str) -> None:
    """A file a heat map can be written to: a known picture suffix, in a folder that exists,
    not a folder itself (matplotlib would write `<folder>.png`)."""
    target = Path(path)
    if target.is_dir():
        raise RnnlabError(f"attention_png={path!r} is a directory; expected a file path")
    if target.suffix.lstrip(".").lower() not in PICTURE_FORMATS:
        raise RnnlabError(
            f"attention_png={path!r} has no picture suffix; expected one of: "
            + ", ".join(f".{kind}" for kind in PICTURE_FORMATS)
        )
    if not target.parent.is_dir():
        raise RnnlabError(
            f"attention_png={path!r}: the folder {str(target.parent)!r} does not exist"
        )


def parse_args(argv: list[str]) -> tuple[TranslateConfig, list[str]]:
    """(settings, sentences) from the command line."""
    settings, texts = split_arguments(argv, TranslateConfig)
    cfg = parse_settings(TranslateConfig, settings, USAGE)
    if cfg.beam_size is not None and cfg.beam_size < 1:
        raise RnnlabError(f"beam_size={cfg.beam_size} must be >= 1 (1 is greedy search)")
    if cfg.attention_png:
        check_picture_path(cfg.attention_png)
    sentences = read_inputs(texts, cfg.file, "sentence")
    if not sentences:
        raise RnnlabError(f"no sentence to translate in {argv} ({USAGE})")
    return cfg, sentences


def translate_with_checkpoint(cfg: TranslateConfig, sentences: list[str]) -> list[str]:
    """Each sentence's translation (`TrainedModel.translate`, as `rnnlab.load` gives), after
    the first one's attention heat map when `attention_png` asks for it."""
    trained = TrainedModel(cfg.checkpoint, Seq2SeqTask)
    if cfg.attention_png:
        if not has_attention(trained.model):
            raise RnnlabError(
                f"attention_png={cfg.attention_png!r}: the checkpoint's model "
                "has no attention (model.attention=none)"
            )
        save_heatmap(
            cfg.attention_png,
            trained.model,
            Vocab.from_list(trained.checkpoint["src_vocab"]),
            Vocab.from_list(trained.checkpoint["tgt_vocab"]),
            sentences[0],
            trained.config["data"]["num_steps"],
            tokenizer_of(trained.config["data"]),
        )
        print(
            f"wrote the attention heat map of {sentences[0]!r} to {cfg.attention_png}",
            file=sys.stderr,
        )
    return trained.translate(sentences, cfg.beam_size)


def _translate(argv: list[str]) -> None:
    cfg, sentences = parse_args(argv)
    for translation, sentence in zip(
        translate_with_checkpoint(cfg, sentences), sentences, strict=True
    ):
        print(f"{translation}\t{sentence}")


def main(argv: list[str] | None = None) -> None:
    run_command(_translate, argv, __doc__)


if __name__ == "__main__":
    main()
