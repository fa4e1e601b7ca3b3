"""The registry of seq2seq decoders: `model.attention` → the decoder's class.

Each module in this folder beside `base.py` is one decoder: a `Decoder` subclass
(`base.py` holds the contract and the helpers all decoders share) whose `name` is its
`model.attention` value. A new decoder is its module and one entry below; validation
reads `ATTENTIONS`, `build_seq2seq` reads `decoder_class`.
"""

from rnnlab.errors import RnnlabError
from rnnlab.models.seq2seq.decoders.bahdanau import BahdanauDecoder
from rnnlab.models.seq2seq.decoders.base import AttentionDecoder, Decoder
from rnnlab.models.seq2seq.decoders.luong import LuongDecoder
from rnnlab.models.seq2seq.decoders.plain import PlainDecoder

DECODERS: dict[str, type[Decoder]] = {
    decoder.name: decoder for decoder in (PlainDecoder, BahdanauDecoder, LuongDecoder)
}
ATTENTIONS: tuple[str, ...] = tuple(DECODERS)  # model.attention's options, "none" first


def decoder_class(name: str) -> type[Decoder]:
    """The decoder `model.attention=name` selects; an unknown name is a one-line error."""
    if name not in DECODERS:
        raise RnnlabError(f"model.attention={name!r} is not one of: {', '.join(ATTENTIONS)}")
    return DECODERS[name]


__all__ = [
    "ATTENTIONS",
    "DECODERS",
    "AttentionDecoder",
    "BahdanauDecoder",
    "Decoder",
    "LuongDecoder",
    "PlainDecoder",
    "decoder_class",
]
