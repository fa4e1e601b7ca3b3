"""Translate English sentences with a trained seq2seq model.

    python -m rnnlab.translate checkpoint=outputs/.../best.pt "i'm home ."
    python -m rnnlab.translate checkpoint=... "go ." "i lost ." beam_size=1   # greedy

Arguments of the form `key=value` for a key below are settings (OmegaConf dotlist, as in
training); every other argument is a sentence to translate, one translation per line.
"""

import sys
from dataclasses import dataclass, fields

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError
from rnnlab.inference.decoding import translate
from rnnlab.run.checkpoint import load_for_inference
from rnnlab.tasks.seq2seq import Seq2SeqTask

USAGE = "expected e.g. checkpoint=PATH \"i'm home .\" beam_size=4"


@dataclass
class TranslateConfig:
    checkpoint: str = "???"        # best.pt or checkpoint.pt of a task=seq2seq run
    beam_size: int | None = None   # 1: greedy; null: the run's eval.beam_size


def parse_args(argv: list[str]) -> tuple[TranslateConfig, list[str]]:
    """(settings, sentences) from the command line."""
    keys = {f.name for f in fields(TranslateConfig)}
    settings = [a for a in argv if a.partition("=")[0] in keys and "=" in a]
    sentences = [a for a in argv if a not in settings]
    try:
        cfg = OmegaConf.merge(OmegaConf.structured(TranslateConfig),
                              OmegaConf.from_dotlist(settings))
        OmegaConf.to_container(cfg, throw_on_missing=True)
    except OmegaConfBaseException as error:
        raise RnnlabError(f"bad arguments {argv}: {str(error).splitlines()[0]} "
                          f"({USAGE})") from None
    if not sentences:
        raise RnnlabError(f"no sentence to translate in {argv} ({USAGE})")
    if cfg.beam_size is not None and cfg.beam_size < 1:
        raise RnnlabError(f"beam_size={cfg.beam_size} must be >= 1 (1 is greedy search)")
    return cfg, sentences


def translate_with_checkpoint(cfg: TranslateConfig, sentences: list[str]) -> list[str]:
    model, saved = load_for_inference(cfg.checkpoint, Seq2SeqTask)
    config = saved["config"]
    src_vocab, tgt_vocab = Vocab.from_list(saved["src_vocab"]), Vocab.from_list(saved["tgt_vocab"])
    beam_size = cfg.beam_size or config["eval"]["beam_size"]
    return translate(model, src_vocab, tgt_vocab, sentences, config["data"]["num_steps"],
                     beam_size)


def main(argv: list[str] | None = None) -> None:
    try:
        cfg, sentences = parse_args(sys.argv[1:] if argv is None else argv)
        print("\n".join(translate_with_checkpoint(cfg, sentences)))
    except RnnlabError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
