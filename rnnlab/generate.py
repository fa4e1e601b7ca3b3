"""Continue a prefix with a trained language model.

    python -m rnnlab.generate checkpoint=outputs/.../checkpoint.pt prefix="time traveller"
    python -m rnnlab.generate checkpoint=... num_preds=200 temperature=0.8 seed=1

Arguments use the same `key=value` syntax as training (OmegaConf dotlist), without
creating a run directory.
"""

import sys
from dataclasses import dataclass

import torch
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError
from rnnlab.inference.generation import generate_text
from rnnlab.run.checkpoint import load_for_inference
from rnnlab.tasks.lm import LanguageModelTask


@dataclass
class GenerateConfig:
    checkpoint: str = "???"       # path of a checkpoint.pt written by rnnlab.train
    prefix: str = "time traveller"
    num_preds: int = 100          # tokens to predict after the prefix
    temperature: float = 0.0      # 0: greedy; above 0: sample from softmax(logits / T)
    seed: int = 0                 # for sampling


def parse_args(argv: list[str]) -> GenerateConfig:
    try:
        cfg = OmegaConf.merge(OmegaConf.structured(GenerateConfig), OmegaConf.from_dotlist(argv))
        OmegaConf.to_container(cfg, throw_on_missing=True)
    except OmegaConfBaseException as error:
        first_line = str(error).splitlines()[0]
        raise RnnlabError(f"bad arguments {argv}: {first_line} (expected e.g. "
                          "checkpoint=PATH prefix='time traveller' num_preds=100)") from None
    if cfg.num_preds < 0 or cfg.temperature < 0:
        raise RnnlabError(f"num_preds={cfg.num_preds} and temperature={cfg.temperature} "
                          "must be >= 0")
    return cfg


def generate(cfg: GenerateConfig) -> str:
    model, saved = load_for_inference(cfg.checkpoint, LanguageModelTask)
    vocab = Vocab.from_list(saved["vocab"])
    generator = torch.Generator().manual_seed(cfg.seed)
    return generate_text(model, vocab, saved["token"], cfg.prefix, cfg.num_preds,
                         cfg.temperature, generator)


def main(argv: list[str] | None = None) -> None:
    try:
        print(generate(parse_args(sys.argv[1:] if argv is None else argv)))
    except RnnlabError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
