"""Word beam search (Scheidl, Fiel and Sablatnig 2018): CTC decoding constrained to the
words of a lexicon, with non-word characters (digits, punctuation, spaces) free between
words.

The lexicon keeps its words sorted, so the words that begin with a prefix are one
contiguous range ``[lo, hi)`` of them, found by bisection: that range plays the part of a
prefix tree's node. Counts read from a corpus give a bigram model; its probability mass
over a range (for the *forecast* mode) is a difference of cumulative sums.

Modes:

- ``words``: only the constraint; every lexicon word is as good as another;
- ``ngrams``: a finished word adds ``lm_weight * log P(word | previous word)``;
- ``ngrams+forecast``: a word being written already scores the probability of all the
  words it may still become, so that unlikely prefixes leave the beam early.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from htrkit.alphabet import Alphabet
from htrkit.decoders.options import WordBeamOptions
from htrkit.decoders.search import constrained
from htrkit.errors import InputError
from htrkit.results import Decoding

#: what counts as a word: a run of letters (digits, apostrophes and hyphens separate words)
WORD = re.compile(r"[^\W\d_]+")
_LAST = "\U0010ffff"  # sorts after every character: prefix + _LAST bounds a prefix's range
#: the share of a bigram estimate taken from the bigram counts (the rest is unigram)
BIGRAM_SHARE = 0.7


class Lexicon:
    """Sorted words with unigram and bigram counts.

    :param counts: occurrences per word, or just the words (each seen once).
    :param bigrams: occurrences per ``(previous, word)`` pair.
    """

    def __init__(
        self,
        counts: Mapping[str, int] | Iterable[str],
        bigrams: Mapping[tuple[str, str], int] | None = None,
        *,
        ignore_case: bool = True,
    ):
        fold = str.lower if ignore_case else str
        unigram: Counter[str] = Counter()
        pairs = counts.items() if isinstance(counts, Mapping) else ((w, 1) for w in counts)
        for word, n in pairs:
            unigram[fold(word)] += n
        self.words = sorted(w for w in unigram if w)
        if not self.words:
            raise InputError("the lexicon has no words")
        self.ignore_case = ignore_case
        self.index = {w: i for i, w in enumerate(self.words)}
        # add-one unigram probabilities, cumulated over the sorted words
        freq = np.array([unigram[w] + 1 for w in self.words], dtype=np.float64)
        self.cum_unigram = np.concatenate(([0.0], np.cumsum(freq / freq.sum()))).tolist()
        follow: dict[int, Counter[int]] = {}
        for (prev, word), n in (bigrams or {}).items():
            a, b = self.index.get(fold(prev)), self.index.get(fold(word))
            if a is not None and b is not None:
                follow.setdefault(a, Counter())[b] += n
        # per previous word: its followers' ids, sorted, and their cumulated counts
        self.followers: dict[int, tuple[list[int], list[float]]] = {}
        for a, seen in follow.items():
            ids = sorted(seen)
            cum = np.concatenate(([0.0], np.cumsum([seen[i] for i in ids]))).tolist()
            self.followers[a] = (ids, cum)
        self.chars = frozenset(c for w in self.words for c in w)

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def from_file(cls, path: str | Path, *, ignore_case: bool = True) -> Lexicon:
        """Read a word list (one word per line, optionally followed by a count, as in
        ``word 1234``) or a corpus of running text (anything else), whose word pairs give
        the bigram counts."""
        path = Path(path)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read the lexicon: {exc}") from None
        fields = [line.split() for line in lines if line.strip()]
        listed = fields and all(
            len(f) == 1 or (len(f) == 2 and f[1].isdigit()) for f in fields[:1000]
        )
        counts: Counter[str] = Counter()
        bigrams: Counter[tuple[str, str]] = Counter()
        if listed:
            for f in fields:
                for word in WORD.findall(f[0]):
                    counts[word] += int(f[1]) if len(f) == 2 else 1
        else:
            fold = str.lower if ignore_case else str
            for line in lines:
                words = [fold(w) for w in WORD.findall(line)]
                counts.update(words)
                bigrams.update(zip(words, words[1:]))
        if not counts:
            raise InputError(f"{path}: the lexicon has no words")
        return cls(counts, bigrams, ignore_case=ignore_case)

    def range_of(self, prefix: str, lo: int = 0, hi: int | None = None) -> tuple[int, int]:
        """The words that begin with ``prefix`` (within ``[lo, hi)``, those of a shorter
        prefix of it): ``words[start:end]``."""
        hi = len(self.words) if hi is None else hi
        start = bisect_left(self.words, prefix, lo, hi)
        return start, bisect_left(self.words, prefix + _LAST, start, hi)

    def mass(self, prev: int, lo: int, hi: int) -> float:
        """``sum P(w | prev)`` over the words ``lo <= w < hi`` (``prev`` -1: line start)."""
        unigram = self.cum_unigram[hi] - self.cum_unigram[lo]
        seen = self.followers.get(prev)
        if seen is None:
            return unigram
        ids, cum = seen
        bigram = cum[bisect_left(ids, hi)] - cum[bisect_left(ids, lo)]
        return BIGRAM_SHARE * bigram / cum[-1] + (1 - BIGRAM_SHARE) * unigram


class WordBeamScorer:
    """The word beam search constraint and scores, as a :class:`~htrkit.decoders.search.Scorer`.

    A state is ``(prefix, lo, hi, prev, forecast)``: the word being written (``""``
    between words) and its range of words, the last finished word's index (-1 at the line
    start) and the forecast already counted for the prefix.
    """

    def __init__(self, lexicon: Lexicon, mode: str = "ngrams", lm_weight: float = 1.0):
        self.lexicon = lexicon
        self.scored = mode != "words"
        self.forecast = mode == "ngrams+forecast"
        self.weight = lm_weight
        self.fold = str.lower if lexicon.ignore_case else (lambda c: c)

    def initial(self) -> Any:
        return ("", 0, len(self.lexicon), -1, 0.0)

    def usable(self, char: str) -> bool:
        c = self.fold(char)
        return not c.isalpha() or c in self.lexicon.chars

    def extend(self, state: Any, char: str) -> tuple[Any, float] | None:
        prefix, lo, hi, prev, counted = state
        c = self.fold(char)
        if c.isalpha():
            if c not in self.lexicon.chars:
                return None
            word = prefix + c
            lo, hi = self.lexicon.range_of(word, lo, hi)
            if lo == hi:
                return None
            gain = 0.0
            if self.forecast:
                forecast = self.weight * math.log(self.lexicon.mass(prev, lo, hi))
                gain, counted = forecast - counted, forecast
            return (word, lo, hi, prev, counted), gain
        if not prefix:
            return state, 0.0
        return self._finish_word(state)

    def finish(self, state: Any) -> float | None:
        if not state[0]:
            return 0.0
        done = self._finish_word(state)
        return None if done is None else done[1]

    def _finish_word(self, state: Any) -> tuple[Any, float] | None:
        prefix, lo, hi, prev, counted = state
        if self.lexicon.words[lo] != prefix:
            return None  # not a whole word
        gain = 0.0
        if self.scored:
            gain = self.weight * math.log(self.lexicon.mass(prev, lo, lo + 1)) - counted
        return ("", 0, len(self.lexicon), lo, 0.0), gain


_LEXICONS: dict[tuple[str, bool], Lexicon] = {}


def load_lexicon(path: str, ignore_case: bool) -> Lexicon:
    """A lexicon file, read once per process (decoders are created per pipeline)."""
    from htrkit.decoders.resources import resolve

    where = resolve(path, "lexicon")
    key = (str(where), ignore_case)
    if key not in _LEXICONS:
        _LEXICONS[key] = Lexicon.from_file(where, ignore_case=ignore_case)
    return _LEXICONS[key]


class WordBeamDecoder:
    """Word beam search over a lexicon; falls back to unconstrained prefix beam search
    (flag ``lexicon: "fallback"``) when no lexicon path survives to the line's end."""

    def __init__(self, options: WordBeamOptions | None = None):
        self.options = options or WordBeamOptions()
        o = self.options
        self.lexicon = load_lexicon(o.lexicon, o.ignore_case)
        self.scorer = WordBeamScorer(self.lexicon, o.mode, o.lm_weight)

    def decode(self, log_probs: np.ndarray, alphabet: Alphabet) -> Decoding:
        return constrained(log_probs, alphabet, self.scorer, self.options, "lexicon")
