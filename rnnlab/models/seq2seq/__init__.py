"""The RNN encoder-decoder (`task=seq2seq`), in the shape OpenNMT-py gives its models:
`encoder.py` (embedding → recurrent stack, and the bridge of its final state into the
decoder's layout), `decoders/` (the base every decoder extends and the registry that
`model.attention` names, one module per decoder), `attention.py` (the scores the
attention decoders use) and `model.py` (`EncoderDecoder`, and `build_seq2seq`, which
builds one from the `model` config group).

The names other code imports are re-exported here.
"""

from rnnlab.models.seq2seq.encoder import Seq2SeqEncoder, bridge
from rnnlab.models.seq2seq.model import EncoderDecoder, Seq2SeqModelConfig, build_seq2seq

__all__ = ["EncoderDecoder", "Seq2SeqEncoder", "Seq2SeqModelConfig", "bridge", "build_seq2seq"]
