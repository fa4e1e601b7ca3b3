"""Using a trained model: text generation from a language model (generation.py), greedy
and beam search for the encoder-decoder (decoding.py). The command-line tools
(`rnnlab.generate`, `rnnlab.translate`, `rnnlab.predict`) load a checkpoint and call these."""
