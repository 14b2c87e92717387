"""The character set of a CTC model: class 0 is the blank, class ``i + 1`` is ``chars[i]``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from htrkit.errors import ModelError

BLANK = 0


class Alphabet:
    """An ordered set of output symbols (usually single characters) after the CTC blank."""

    def __init__(self, chars: Iterable[str]):
        self.chars: tuple[str, ...] = tuple(chars)
        if len(set(self.chars)) != len(self.chars):
            dup = next(c for c in self.chars if self.chars.count(c) > 1)
            raise ModelError(f"alphabet lists {dup!r} more than once")
        if any(not isinstance(c, str) or not c for c in self.chars):
            raise ModelError("alphabet symbols must be non-empty strings")
        self._index = {c: i + 1 for i, c in enumerate(self.chars)}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Alphabet:
        """The sorted set of characters occurring in ``texts``."""
        return cls(sorted({c for t in texts for c in t}))

    @property
    def num_classes(self) -> int:
        """Output classes of the network: the symbols plus the blank."""
        return len(self.chars) + 1

    @property
    def labels(self) -> list[str]:
        """One label per class, ``""`` for the blank (the layout pyctcdecode expects)."""
        return ["", *self.chars]

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char: object) -> bool:
        return char in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Alphabet) and other.chars == self.chars

    def __hash__(self) -> int:
        return hash(self.chars)

    def __repr__(self) -> str:
        return f"Alphabet({''.join(self.chars)!r})"

    def index(self, char: str) -> int:
        """The class index of ``char``."""
        return self._index[char]

    def encode(self, text: str) -> list[int]:
        """Class indices of ``text``; characters outside the alphabet raise ``KeyError``."""
        return [self._index[c] for c in text]

    def decode(self, indices: Sequence[int]) -> str:
        """Text for class indices (blanks are skipped; repeats are *not* collapsed)."""
        return "".join(self.chars[i - 1] for i in indices if i != BLANK)

    def missing(self, text: str) -> set[str]:
        """Characters of ``text`` that the alphabet cannot produce."""
        return {c for c in text if c not in self._index}
