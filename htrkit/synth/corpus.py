"""Text to render: random word spans from running text, or random words from a list."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from htrkit.errors import InputError


class TextSource:
    """Samples strings of ``min_words..max_words`` words with normalised whitespace.

    A file whose lines are nearly all single words is a word list: words are drawn
    independently. Any other file is running text (one article or paragraph per line): a
    line is chosen in proportion to its length, then a span of consecutive words in it.
    """

    def __init__(self, texts: Sequence[Sequence[str]] = (), words: Sequence[str] = ()):
        self.texts = [list(t) for t in texts if t]
        self.words = list(words)
        if not self.texts and not self.words:
            raise InputError("the corpus has no words")
        self._ends = np.cumsum([len(t) for t in self.texts]) if self.texts else None

    @classmethod
    def from_files(cls, paths: Sequence[str | Path]) -> TextSource:
        texts: list[list[str]] = []
        words: list[str] = []
        for path in map(Path, paths):
            try:
                lines = [ln.split() for ln in path.read_text(encoding="utf-8-sig").splitlines()]
            except FileNotFoundError:
                raise InputError(f"{path}: no such corpus file") from None
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
                ) from None
            lines = [ln for ln in lines if ln]
            if not lines:
                raise InputError(f"{path}: the corpus file is empty")
            single = sum(len(ln) == 1 for ln in lines)
            if single >= 0.9 * len(lines):
                words.extend(w for ln in lines for w in ln)
            else:
                texts.extend(lines)
        return cls(texts, words)

    def sample(self, rng: np.random.Generator, min_words: int = 1, max_words: int = 6) -> str:
        k = int(rng.integers(min_words, max_words + 1))
        use_words = bool(self.words) and (not self.texts or rng.random() < 0.5)
        if use_words:
            return " ".join(self.words[i] for i in rng.integers(0, len(self.words), k))
        assert self._ends is not None
        i = int(np.searchsorted(self._ends, rng.integers(0, self._ends[-1]), side="right"))
        text = self.texts[i]
        start = int(rng.integers(0, max(len(text) - k, 0) + 1))
        return " ".join(text[start : start + k])
