"""CTC beam search with a KenLM n-gram language model, word- or character-level.

Word level (the LM's tokens are white-space separated words, as ``htrkit lm build`` writes
them): a word scores ``alpha * ln P(word | history) + beta`` when a space or the line's end
finishes it. While a word is being written it scores ``alpha * unk_offset`` if it begins
no word of the LM's vocabulary (read from an ARPA file's unigrams), and hotwords it may
become raise it: such partial scores are replaced by the word's score when it is finished.

Character level (the LM's tokens are characters and ``<sp>``, as ``htrkit lm build --char``
writes them): every character scores ``alpha * ln P(char | history) + beta``.

Both end the line with ``alpha * ln P(</s> | history)``.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import math
import os
import sys
from bisect import bisect_left
from pathlib import Path
from typing import Any

import numpy as np

from htrkit.alphabet import Alphabet
from htrkit.decoders.options import KenLMOptions
from htrkit.decoders.search import decoding_of, prefix_search
from htrkit.errors import InputError
from htrkit.lm.kneser_ney import EOS, SPACE
from htrkit.results import Decoding

LN10 = math.log(10.0)
_LAST = "\U0010ffff"
_MODELS: dict[str, Any] = {}


def load_kenlm(path: str, what: str = "word LM") -> tuple[Any, Path]:
    """A ``kenlm.Model`` (loaded once per process) and its file."""
    import kenlm

    from htrkit.decoders.resources import resolve

    where = resolve(path, what)
    key = str(where.resolve())
    if key not in _MODELS:
        try:
            with _quiet_stderr():  # KenLM draws a progress bar while it reads a file
                _MODELS[key] = kenlm.Model(key)
        except (OSError, RuntimeError, ValueError) as exc:  # ValueError: kenlm's messages
            # can be bytes it cannot decode (UnicodeDecodeError)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"{path}: not a KenLM model (ARPA or binary): {first[:200]}") from None
    return _MODELS[key], where


@contextlib.contextmanager
def _quiet_stderr():
    """Send what C++ code writes to file descriptor 2 to /dev/null for a while."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


@functools.lru_cache(maxsize=8)
def arpa_unigrams(path: Path) -> list[str]:
    """The words of an ARPA file's ``\\1-grams:`` section, sorted (empty for a binary model);
    read once per file and process."""
    opener = gzip.open if path.suffix == ".gz" else open
    words: list[str] = []
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.strip():
                    if line.strip() != "\\data\\":
                        return []  # a KenLM binary
                    break
            inside = False
            for line in f:
                line = line.strip()
                if line == "\\1-grams:":
                    inside = True
                elif inside and line.startswith("\\"):
                    break
                elif inside and line:
                    parts = line.split("\t")
                    if len(parts) >= 2:
                        words.append(parts[1])
    except (OSError, EOFError):
        return []
    return sorted({w for w in words if w not in {"<s>", "</s>", "<unk>"}})


class WordLMScorer:
    """A word-level KenLM as a :class:`~htrkit.decoders.search.Scorer`.

    A state is ``(kenlm.State, word being written, its partial score)``.
    """

    def __init__(self, model: Any, options: KenLMOptions, vocabulary: list[str]):
        import kenlm

        self.kenlm = kenlm
        self.model = model
        self.o = options
        self.vocabulary = vocabulary
        self.hotwords = sorted({self._norm(w) for w in options.hotwords})

    def _norm(self, word: str) -> str:
        return word.lower() if self.o.lowercase else word

    def initial(self) -> Any:
        start = self.kenlm.State()
        self.model.BeginSentenceWrite(start)
        return (start, "", 0.0)

    def extend(self, state: Any, char: str) -> tuple[Any, float] | None:
        lm_state, word, partial = state
        if char == " ":
            if not word:
                return state, 0.0
            out, score = self._word(lm_state, word)
            return (out, "", 0.0), score - partial
        word += char
        now = self._partial(word)
        return (lm_state, word, now), now - partial

    def finish(self, state: Any) -> float | None:
        lm_state, word, partial = state
        gain = 0.0
        if word:
            lm_state, score = self._word(lm_state, word)
            gain = score - partial
        end = self.kenlm.State()
        return gain + self.o.alpha * LN10 * self.model.BaseScore(lm_state, EOS, end)

    def _word(self, lm_state: Any, word: str) -> tuple[Any, float]:
        key = self._norm(word)
        out = self.kenlm.State()
        score = self.o.alpha * LN10 * self.model.BaseScore(lm_state, key, out) + self.o.beta
        if _first_beginning(self.hotwords, key) == key:
            score += self.o.hotword_weight
        return out, score

    def _partial(self, word: str) -> float:
        key = self._norm(word)
        score = 0.0
        if self.vocabulary and _first_beginning(self.vocabulary, key) is None:
            score += self.o.alpha * self.o.unk_offset
        hot = _first_beginning(self.hotwords, key)
        if hot is not None:
            score += self.o.hotword_weight * len(key) / len(hot)
        return score


class CharLMScorer:
    """A character-level KenLM as a scorer; states are ``kenlm.State``."""

    def __init__(self, model: Any, options: KenLMOptions):
        import kenlm

        self.kenlm = kenlm
        self.model = model
        self.o = options

    def initial(self) -> Any:
        start = self.kenlm.State()
        self.model.BeginSentenceWrite(start)
        return start

    def extend(self, state: Any, char: str) -> tuple[Any, float] | None:
        token = SPACE if char == " " else (char.lower() if self.o.lowercase else char)
        out = self.kenlm.State()
        return out, self.o.alpha * LN10 * self.model.BaseScore(state, token, out) + self.o.beta

    def finish(self, state: Any) -> float | None:
        return self.o.alpha * LN10 * self.model.BaseScore(state, EOS, self.kenlm.State())


def _first_beginning(words: list[str], prefix: str) -> str | None:
    """The first of the sorted ``words`` that begins with ``prefix`` (the shortest such)."""
    i = bisect_left(words, prefix)
    return words[i] if i < len(words) and words[i].startswith(prefix) else None


class KenLMDecoder:
    """Prefix beam search with a KenLM n-gram model (``alpha``, ``beta``, hotwords)."""

    def __init__(self, options: KenLMOptions | None = None):
        from htrkit.decoders.resources import resolve
        from htrkit.lm.tables import is_arpa, load_tables

        self.options = o = options or KenLMOptions()
        self._what = "character LM" if o.level == "char" else "word LM"
        where = resolve(o.lm, self._what)
        self._tables = None
        if o.engine != "python":
            if is_arpa(where):
                self._tables = load_tables(where)
            elif o.engine == "compiled":
                raise InputError(
                    f"{o.lm}: engine=compiled reads ARPA files; this is a KenLM binary "
                    "(use engine=python, or the ARPA file it was built from)"
                )
        if self._tables is not None:
            # the compiled search needs no kenlm.Model: it is loaded only if the Python
            # search is needed after all (see _engine)
            knows_space = SPACE in self._tables.ids
            vocabulary = sorted(set(self._tables.ids) - {"<s>", "</s>", "<unk>"})
            self._model = None
        else:
            self._model, _ = load_kenlm(o.lm, self._what)
            knows_space = SPACE in self._model
            vocabulary = arpa_unigrams(where)
        self.level = o.level if o.level != "auto" else ("char" if knows_space else "word")
        self._vocabulary = [] if self.level == "char" else vocabulary
        self._scorer: Any = None
        self._compiled: dict[tuple[str, ...], Any] = {}

    @property
    def scorer(self) -> Any:
        """The Python search's scorer (the KenLM model is loaded on first use)."""
        if self._scorer is None:
            if self._model is None:
                self._model, _ = load_kenlm(self.options.lm, self._what)
            if self.level == "char":
                self._scorer = CharLMScorer(self._model, self.options)
            else:
                self._scorer = WordLMScorer(self._model, self.options, self._vocabulary)
        return self._scorer

    def _engine(self, alphabet: Alphabet) -> Any:
        """The compiled search for ``alphabet``, or ``None`` to use the Python one."""
        from htrkit.decoders.compiled import CompiledKenLM

        if self._tables is None or not CompiledKenLM.supports(self.options, self.level, alphabet):
            return None
        key = tuple(alphabet.chars)
        engine = self._compiled.get(key)
        if engine is None:
            engine = self._compiled[key] = CompiledKenLM(
                self._tables, self.options, self.level, alphabet, self._vocabulary
            )
        return engine

    def concurrent(self, alphabet: Alphabet) -> bool:
        """Whether lines of ``alphabet`` may be decoded on several threads at once: yes with
        the compiled search (it releases the GIL, and each line's arrays are its own), not
        with the Python one (its scorer's caches are shared)."""
        return self._engine(alphabet) is not None

    def decode(self, log_probs: np.ndarray, alphabet: Alphabet) -> Decoding:
        o = self.options
        engine = self._engine(alphabet)
        if engine is not None:
            labels = engine.search(log_probs)
            return decoding_of(log_probs, alphabet, labels or ())
        found = prefix_search(
            log_probs,
            alphabet,
            self.scorer,
            beam_width=o.beam_width,
            char_prune=o.char_prune,
            beam_prune=o.beam_prune,
        )
        return decoding_of(log_probs, alphabet, found[0][0] if found else ())
