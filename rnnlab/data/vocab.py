"""A token <-> id mapping, d2l style: `<unk>` is id 0, reserved tokens (`<pad>`, `<bos>`,
...) come next, then the corpus tokens from most to least frequent.

The order is fully determined by the counts (ties broken by the token itself), so two runs
over the same corpus build the same ids, and a checkpoint can store the mapping as a plain
list of strings (`to_list`) that loads with `torch.load(weights_only=True)`.
"""

from collections import Counter
from collections.abc import Iterable, Sequence

import torch

from rnnlab.errors import RnnlabError

UNK = "<unk>"


class Vocab:
    """Vocabulary over `tokens` (a flat list, or a list of token lists such as sentences).

    Tokens seen fewer than `min_freq` times map to `<unk>`.
    """

    def __init__(
        self,
        tokens: Iterable = (),
        min_freq: int = 0,
        reserved_tokens: Sequence[str] = (),
    ):
        tokens = list(tokens)
        if tokens and isinstance(tokens[0], list | tuple):
            tokens = [token for line in tokens for token in line]
        counts = Counter(tokens)
        self.token_freqs: list[tuple[str, int]] = sorted(
            counts.items(), key=lambda item: (-item[1], item[0])
        )
        idx_to_token = [UNK] + [t for t in dict.fromkeys(reserved_tokens) if t != UNK]
        known = set(idx_to_token)
        idx_to_token += [t for t, n in self.token_freqs if n >= min_freq and t not in known]
        self._set_tokens(idx_to_token)

    def _set_tokens(self, idx_to_token: list[str]) -> None:
        self.idx_to_token: list[str] = idx_to_token
        self.token_to_idx: dict[str, int] = {t: i for i, t in enumerate(idx_to_token)}

    @property
    def unk(self) -> int:
        """Id of `<unk>`, which every unknown token maps to."""
        return 0

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        """Id of one token, or a list of ids for a list/tuple of tokens."""
        if isinstance(tokens, list | tuple):
            return [self.token_to_idx.get(token, self.unk) for token in tokens]
        return self.token_to_idx.get(tokens, self.unk)

    def to_tokens(self, ids):
        """Token of one id (int or 0-d tensor), or a list of tokens for a list / 1-D tensor."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        if isinstance(ids, list | tuple):
            return [self.idx_to_token[int(i)] for i in ids]
        return self.idx_to_token[int(ids)]

    def to_list(self) -> list[str]:
        """The mapping as plain data for a checkpoint: token i is entry i."""
        return list(self.idx_to_token)

    @classmethod
    def from_list(cls, idx_to_token: Sequence[str]) -> "Vocab":
        """Rebuild the vocabulary `to_list` saved (the same ids; `token_freqs` is empty
        because counts are not saved)."""
        idx_to_token = list(idx_to_token)
        if not idx_to_token or idx_to_token[0] != UNK:
            first = idx_to_token[0] if idx_to_token else None
            raise RnnlabError(f"saved vocabulary starts with {first!r}, expected {UNK!r}")
        if len(set(idx_to_token)) != len(idx_to_token):
            raise RnnlabError(
                f"saved vocabulary of {len(idx_to_token)} tokens has duplicates, expected "
                "each token once"
            )
        vocab = cls()
        vocab._set_tokens(idx_to_token)
        return vocab
