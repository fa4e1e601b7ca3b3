"""Continue a prefix with a trained language model (rnnlab-generate).

    python -m rnnlab.generate checkpoint=outputs/.../checkpoint.pt prefix="time traveller"
    python -m rnnlab.generate checkpoint=... num_preds=200 temperature=0.8 seed=1
    python -m rnnlab.generate checkpoint=... "the time" "a machine"   # one line per prefix
    python -m rnnlab.generate checkpoint=... file=prefixes.txt        # or - for stdin

Settings (`key=value`, as in training; no run directory is created):
  checkpoint   checkpoint.pt or best.pt of a task=lm run (required)
  prefix       the text to continue (default "time traveller"), unless prefixes are given
               as arguments, in file=PATH or on standard input (-), one per line
  num_preds    tokens to predict after each prefix (default 100)
  temperature  0: greedy (default); above 0: sample from softmax(logits / temperature)
  seed         for sampling (default 0), an integer in [0, 2**32) as in training
Prints each prefix followed by its continuation, one per line.
"""

from dataclasses import dataclass

from rnnlab.errors import RnnlabError
from rnnlab.inference.command_line import (
    parse_settings,
    read_inputs,
    run_command,
    split_arguments,
)
from rnnlab.inference.generation import check_generation
from rnnlab.inference.trained import TrainedModel
from rnnlab.tasks.lm import LanguageModelTask

USAGE = "e.g. checkpoint=PATH prefix='time traveller' num_preds=100; see --help"


@dataclass
class GenerateConfig:
    checkpoint: str = "???"
    prefix: str | None = "time traveller"
    num_preds: int = 100
    temperature: float = 0.0
    seed: int = 0
    file: str | None = None


def parse_args(argv: list[str]) -> tuple[GenerateConfig, list[str]]:
    """(settings, prefixes) from the command line."""
    settings, texts = split_arguments(argv, GenerateConfig)
    cfg = parse_settings(GenerateConfig, settings, USAGE)
    check_generation(cfg.num_preds, cfg.temperature, cfg.seed)
    prefixes = read_inputs(texts, cfg.file, "prefix")
    if not prefixes and (texts or cfg.file):  # asked for inputs there, and none came
        source = f"file={cfg.file!r}" if cfg.file else "standard input"
        raise RnnlabError(f"{source} holds no prefix; expected one text to continue per line")
    if not prefixes:
        if not (cfg.prefix or "").strip():
            raise RnnlabError(
                f"prefix={cfg.prefix!r} is empty; expected text to continue, "
                "e.g. prefix='time traveller'"
            )
        prefixes = [cfg.prefix]
    return cfg, prefixes


def generate(cfg: GenerateConfig, prefixes: list[str] | None = None) -> list[str]:
    """Each prefix with its continuation (`TrainedModel.generate`, as `rnnlab.load` gives)."""
    trained = TrainedModel(cfg.checkpoint, LanguageModelTask)
    return trained.generate(prefixes or [cfg.prefix], cfg.num_preds, cfg.temperature, cfg.seed)


def _generate(argv: list[str]) -> None:
    print("\n".join(generate(*parse_args(argv))))


def main(argv: list[str] | None = None) -> None:
    run_command(_generate, argv, __doc__)


if __name__ == "__main__":
    main()
