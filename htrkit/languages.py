"""Languages: the bundled per-language lexicons and language models, and the choice of a
page's language (``Pipeline(lang=...)``, ``htrkit run --lang``).

``en``, ``fr`` and ``de`` each have a character 5-gram, a word 3-gram and a lexicon in
``htrkit/models/lm/`` (``examples/recipes/build_language_lms.py``); ``mixed`` is the
``default`` ones, built from all of the training text together. ``auto`` reads a page
greedily, scores that reading with each language's character model, and decodes the page
with the decoder of the language that explains it best (:class:`LanguageChooser`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from htrkit.errors import ConfigError
from htrkit.models import FOLDER

#: the languages with models of their own, in the order ``auto`` breaks ties
LANGUAGES = ("fr", "en", "de")
#: what ``lang`` may be
CHOICES = ("auto", "mixed", "en", "fr", "de")
#: names, for PAGE's ``primaryLanguage`` (ISO 639 codes are ALTO's and hOCR's)
NAMES = {"en": "English", "fr": "French", "de": "German"}
#: the file name of each kind of resource in ``models/lm/``
_KINDS = {"lexicon": "lexicon.txt", "word LM": "words.arpa.gz", "character LM": "chars.arpa.gz"}
#: decoder options that name a bundled resource (a language model, a lexicon)
RESOURCE_OPTIONS = ("lm", "lexicon")
#: the lowest log10 probability one character of a reading may add to a language's score,
#: so that one character a language's text never had (a misread accent) does not decide
FLOOR = -4.0


def check(lang: str) -> str:
    if lang not in CHOICES:
        raise ConfigError(f"lang must be one of {', '.join(CHOICES)}, got {lang!r}")
    return lang


def bundled(lang: str, what: str) -> Path | None:
    """The bundled ``what`` (``"lexicon"``, ``"word LM"``, ``"character LM"``) of ``lang``."""
    name = _KINDS.get(what)
    return FOLDER / "lm" / f"{lang}-{name}" if name and lang in LANGUAGES else None


def for_language(options: object, lang: str) -> dict[str, str]:
    """The changes to a decoder's ``options`` that make it read ``lang``: every option
    that names the bundled (``default``) resource names ``lang``'s instead."""
    return {
        name: lang
        for name in RESOURCE_OPTIONS
        if getattr(options, name, None) in ("default", "mixed")
    }


class LanguageChooser:
    """Scores a page's greedy reading with each language's character model."""

    def __init__(self, languages: Sequence[str] = LANGUAGES):
        from htrkit.lm.kneser_ney import SPACE
        from htrkit.lm.tables import load_tables

        self.languages = tuple(languages)
        self.tables = [load_tables(bundled(lang, "character LM")) for lang in self.languages]
        self._space = SPACE
        #: per alphabet: which classes are letters, and each language's token of each class
        self._classes: dict[tuple[str, ...], tuple[Any, Any] | None] = {}
        # each language's model as the compiled scoring takes it: (order, <s>, </s>, arrays)
        self._lms = tuple((t.order, t.bos, t.eos, t.arrays()) for t in self.tables)

    def scores(self, texts: Sequence[str]) -> dict[str, float]:
        """log10 probability of ``texts`` (the lines of a page) under each language's
        character model, each character's at least :data:`FLOOR`."""
        import numpy as np

        return self._scores(
            [
                [
                    np.array([t.id(self._space if c == " " else c) for c in text], np.int32)
                    for text in texts
                ]  # fmt: skip
                for t in self.tables
            ]
        )

    def _scores(self, tokens: list[list[Any]]) -> dict[str, float]:
        """The scores of the lines' tokens (``tokens[language][line]``, ``<s>`` and
        ``</s>`` left out) under each language's model."""
        import numpy as np

        from htrkit.lm.tables import sequence_log10

        out = {}
        for lang, t, lines in zip(self.languages, self.tables, tokens):
            total = 0.0
            for toks in lines:
                ids = np.empty(len(toks) + 2, dtype=np.int32)
                ids[0] = t.bos
                ids[1:-1] = toks
                ids[-1] = t.eos
                total += sequence_log10(ids, t.order, FLOOR, *t.arrays())
            out[lang] = total
        return out

    def choose(self, texts: Sequence[str]) -> str | None:
        """The language that explains ``texts`` best, or ``None`` when they hold no letter."""
        if not any(c.isalpha() for text in texts for c in text):
            return None
        return self._best(self.scores(texts))

    def choose_greedy(self, log_probs: Sequence[Any], chars: Sequence[str]) -> str | None:
        """:meth:`choose` for the greedy readings of lines (``log_probs``: each line's
        network output, its classes ``chars`` after the blank): the same choice, made in
        compiled code from the lines' classes (no texts), which releases the GIL."""
        import numpy as np

        from htrkit.decoders.alignment import readable
        from htrkit.lm.tables import greedy_scores

        classes = self._class_tables(chars)
        if classes is None:  # a class of several characters: by the texts
            return self.choose([greedy_text(lp, chars) for lp in log_probs])
        letter, tokens = classes
        scores = np.zeros(len(self.languages))
        letters = False
        for lp in log_probs:
            lp = readable(lp)
            if lp.ndim == 2 and lp.shape[0]:
                letters |= greedy_scores(lp, letter, tokens, self._lms, FLOOR, scores)
            else:  # an empty line: <s> </s> in each language
                empty = np.zeros((0, len(chars) + 1), np.float32)
                letters |= greedy_scores(empty, letter, tokens, self._lms, FLOOR, scores)
        if not letters:
            return None
        return self._best(dict(zip(self.languages, scores.tolist())))

    def _class_tables(self, chars: Sequence[str]) -> tuple[Any, Any] | None:
        """Which classes are letters, and each language's token of each class (a row
        each), or ``None`` for an alphabet with a class of several characters."""
        import numpy as np

        key = tuple(chars)
        if key not in self._classes:
            if any(len(c) != 1 for c in chars):
                self._classes[key] = None
            else:
                letter = np.array([False, *(c.isalpha() for c in chars)])
                tokens = np.array(
                    [[0, *(t.id(self._space if c == " " else c) for c in chars)]
                     for t in self.tables],
                    dtype=np.int32,
                )  # fmt: skip
                self._classes[key] = (letter, tokens)
        return self._classes[key]

    def _best(self, scores: dict[str, float]) -> str:
        return max(self.languages, key=lambda lang: (scores[lang], -self.languages.index(lang)))


def greedy_labels(log_probs: Any) -> Any:
    """The classes of the best path, repeats collapsed and blanks (class 0) removed."""
    import numpy as np

    if log_probs.ndim != 2 or log_probs.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    best = np.asarray(log_probs).argmax(axis=1)
    keep = np.ones(best.shape[0], dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    best = best[keep]
    return best[best > 0]


def greedy_text(log_probs: Any, chars: Sequence[str]) -> str:
    """Best path, repeats collapsed and blanks (class 0) removed."""
    return "".join(chars[k - 1] for k in greedy_labels(log_probs))
