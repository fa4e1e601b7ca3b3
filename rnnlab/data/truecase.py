"""Giving the model's lower-cased French its capitals back, learned from the training split.

The model reads and writes lower case (`rnnlab.data.sentences`), while the
references a standard BLEU is scored against, and what a reader expects, are cased
("Tom est ici." rather than "tom est ici."). A `Truecaser` remembers, from the training
references as they stand in the file, the usual form of every word seen away from the start
of a sentence ("Tom", "Paris", "je") and whether sentences start with a capital; applying
it is a lookup per token. Words it never saw, and `⁇` (an unknown word), stay as they are.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass
class Truecaser:
    """`forms`: lower-case token → the cased form it takes most often away from a
    sentence's start (only where that differs); `capitalize_first`: whether most training
    sentences begin with an upper-case letter."""

    forms: dict[str, str] = field(default_factory=dict)
    capitalize_first: bool = False

    @classmethod
    def fit(cls, cased_sentences: list[list[str]]) -> "Truecaser":
        """From tokenised sentences in their original case."""
        counts: dict[str, Counter] = defaultdict(Counter)
        capitals = 0
        for sentence in cased_sentences:
            capitals += bool(sentence) and sentence[0][:1].isupper()
            for token in sentence[1:]:
                counts[token.lower()][token] += 1
        forms = {}
        for lower, seen in counts.items():
            form = max(sorted(seen), key=seen.__getitem__)  # ties: the first in sort order
            if form != lower:
                forms[lower] = form
        return cls(forms, capitals * 2 > len(cased_sentences))

    def __call__(self, tokens: list[str]) -> list[str]:
        cased = [self.forms.get(token, token) for token in tokens]
        if self.capitalize_first and cased:
            cased[0] = cased[0][:1].upper() + cased[0][1:]
        return cased

    def to_dict(self) -> dict:
        """Plain values, for a checkpoint."""
        return {"forms": dict(self.forms), "capitalize_first": self.capitalize_first}

    @classmethod
    def from_dict(cls, saved: dict | None) -> "Truecaser":
        """The saved truecaser; None (a checkpoint from before truecasing): lower case."""
        return cls(**saved) if saved else cls()
