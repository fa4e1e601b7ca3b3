"""Continue a text prefix with a trained language model (d2l's `predict_ch8`, plus sampling)."""

import logging
import math
import re

import torch

from rnnlab.config.schema import seed_of
from rnnlab.data.timemachine import detokenize, preprocess, tokenize
from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError
from rnnlab.models.lm import RNNLM
from rnnlab.models.modes import evaluating

log = logging.getLogger(__name__)


def check_generation(num_preds: int, temperature: float, seed: int = 0) -> None:
    """A one-line RnnlabError for settings generation cannot use; the seed's range is
    training's (`rnnlab.config.schema.seed_of`)."""
    if num_preds < 0:
        raise RnnlabError(f"num_preds={num_preds} must be >= 0")
    if math.isnan(temperature):
        raise RnnlabError("temperature=nan is not a number; expected one >= 0 (0 is greedy)")
    if temperature < 0:
        raise RnnlabError(f"temperature={temperature} must be >= 0 (0 is greedy)")
    seed_of(seed)


def continue_text(
    model: RNNLM,
    vocab: Vocab,
    prefix: list[str],
    num_preds: int,
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
) -> list[str]:
    """The `num_preds` tokens that follow `prefix`.

    The prefix is fed once to warm up the hidden state; then each prediction is fed back.
    `temperature=0` is greedy (argmax); above 0, tokens are sampled from softmax(logits / T).
    """
    device = next(model.parameters()).device
    ids = torch.tensor([vocab[prefix or [" "]]], device=device)  # (1, len(prefix))
    predicted = []
    with evaluating(model):
        logits, state = model(ids)
        for _ in range(num_preds):
            last = logits[0, -1]
            if temperature > 0:  # shifted to max 0 first: a tiny temperature gives -inf, not nan
                last = last.double().cpu()  # float32 would read a tiny temperature as 0
                probs = torch.softmax((last - last.max()) / temperature, dim=-1)
                token = int(torch.multinomial(probs, 1, generator=generator))
            else:
                token = int(last.argmax())
            predicted.append(token)
            logits, state = model(torch.tensor([[token]], device=device), state)
    return vocab.to_tokens(predicted)


def generate_text(
    model: RNNLM,
    vocab: Vocab,
    token: str,
    prefix: str,
    num_preds: int,
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
    preprocessing: str = "text",
) -> str:
    """`prefix` and its continuation as text; `token` ("char" or "word") says how to split
    the prefix and join the result.

    The prefix is cleaned as the corpus was (`preprocessing`, the run's data.preprocess:
    after "text" or "d2l" a character other than a letter reads as a space, which is what
    the model saw in its place during training; "raw" keeps it as it is); a token still
    not in the vocabulary reads as `<unk>`. Both are warned about, naming the characters
    or tokens, since the continuation then starts from a different text.
    """
    if preprocessing != "raw":
        cleaned = sorted(set(re.findall(r"[^A-Za-z\s]", prefix)))
        if cleaned:
            log.warning(
                "prefix characters outside the corpus alphabet, read as spaces as in training: %s",
                cleaned,
            )
        prefix = preprocess(prefix)  # one line: "d2l" cleans it as "text" does
    prefix_tokens = tokenize(prefix, token)
    unknown = sorted({t for t in prefix_tokens if vocab[t] == vocab.unk})
    if unknown:
        log.warning("prefix tokens not in the vocabulary, read as <unk>: %s", unknown)
    predicted = continue_text(model, vocab, prefix_tokens, num_preds, temperature, generator)
    return detokenize(prefix_tokens + predicted, token)
