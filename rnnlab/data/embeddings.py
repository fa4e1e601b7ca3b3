"""Word vectors from a GloVe or word2vec text file into an embedding table.

Format, one word a line: `word v1 v2 ... vd` (GloVe); word2vec's text format adds a first
line `count d`, which is skipped. Only the words of the vocabulary are kept, so a large
file costs one pass and little memory.
"""

from pathlib import Path

import torch

from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError


def load_pretrained(path: str | Path, vocab: Vocab, weight: torch.Tensor) -> int:
    """Copy the vectors of the vocabulary's words found in `path` into `weight`
    (vocab_size, embed_size), in place; the missing words keep their initial values.
    Returns how many words were found. Raises RnnlabError if the file is missing, or a
    vector is not `embed_size` wide or (for a word of the vocabulary) not finite."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise RnnlabError(
            f"model.pretrained_embeddings={str(path)!r} is not a file "
            "(expected a GloVe/word2vec text file)"
        )
    embed_size = weight.shape[1]
    found = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line_number, line in enumerate(f, start=1):
            fields = line.rstrip().split(" ")
            if line_number == 1 and len(fields) == 2:  # word2vec header: count, dimension
                continue
            if len(fields) - 1 != embed_size:
                raise RnnlabError(
                    f"{path}:{line_number} has a {len(fields) - 1}-dimensional vector, but "
                    f"model.embed_size={embed_size}; set model.embed_size={len(fields) - 1}"
                )
            index = vocab.token_to_idx.get(fields[0])
            if index is None:
                continue
            try:
                numbers = [float(x) for x in fields[1:]]
            except ValueError:
                raise RnnlabError(
                    f"{path}:{line_number} holds a value that is not a "
                    "number (expected `word v1 ... vd`)"
                ) from None
            # nan, inf, or a number too large for the table's dtype (1e39 in float32):
            # trained in, it would make the first loss NaN and the run end `diverged`
            vector = torch.tensor(numbers, dtype=weight.dtype)
            finite = torch.isfinite(vector).tolist()
            bad = [x for x, ok in zip(fields[1:], finite, strict=True) if not ok]
            if bad:
                raise RnnlabError(
                    f"{path}:{line_number} gives {fields[0]!r} a non-finite value ({bad[0]}); "
                    "expected finite numbers"
                )
            with torch.no_grad():
                weight[index] = vector
            found += 1
    return found
