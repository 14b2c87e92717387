"""Options of the built-in decoders (kept apart so that listing them needs no numpy)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from htrkit.options import option


@dataclass(frozen=True)
class GreedyOptions:
    """The greedy decoder takes no tuning."""


def _fallback_below():  # one field, in each constrained decoder's options
    return option(
        1e-4,
        "decode without the constraint (and flag the line) when the best "
        "allowed reading is less than this times as probable as the best path",
        min=0.0,
        max=1.0,
    )


#: the widest beam: each frame's work and memory grow with it (100,000 took 17 s a line)
MAX_BEAM = 4096


@dataclass(frozen=True)
class BeamOptions:
    beam_width: int = option(10, "prefixes kept per frame", min=1, max=MAX_BEAM)
    char_prune: float = option(
        1e-3, "ignore characters below this probability in a frame", min=0.0, max=1.0
    )


@dataclass(frozen=True)
class SearchOptions:
    """The beam-search settings that every guided decoder shares."""

    beam_width: int = option(16, "prefixes kept per frame", min=1, max=MAX_BEAM)
    char_prune: float = option(
        1e-3, "ignore characters below this probability in a frame", min=0.0, max=1.0
    )
    beam_prune: float = option(
        0.0,
        "drop prefixes scoring this far (natural log) below the best; 0: keep beam_width",
        min=0.0,
    )


@dataclass(frozen=True)
class WordBeamOptions(SearchOptions):
    lexicon: str = option(
        "default",
        "word list (a word per line, optionally with a count) or corpus; "
        "'default': the bundled one",
    )
    mode: Literal["words", "ngrams", "ngrams+forecast"] = option(
        "ngrams",
        "words: constraint only; ngrams: bigram scores; +forecast: "
        "score words being written by what they may become",
    )
    lm_weight: float = option(1.0, "weight of the bigram log probabilities", min=0.0)
    ignore_case: bool = option(True, "match words whatever their case")
    fallback_below: float = _fallback_below()


@dataclass(frozen=True)
class KenLMOptions(SearchOptions):
    # 0.003, not 0.001: the same CER over 3,172 validation lines of the bundled models
    # (15.72 -> 15.73% at level=char, 20.33 -> 20.29% at level=word), a fifth less search
    char_prune: float = option(
        3e-3, "ignore characters below this probability in a frame", min=0.0, max=1.0
    )
    lm: str = option("default", "KenLM model (ARPA or binary); 'default': the bundled word model")
    alpha: float = option(0.5, "language model weight", min=0.0)
    beta: float = option(1.0, "bonus per word (per character for a character LM)")
    level: Literal["auto", "word", "char"] = option(
        "auto", "word or character tokens; auto: char when the LM knows '<sp>'"
    )
    unk_offset: float = option(
        -20.0, "score (times alpha) for a word being written that begins no known word"
    )
    hotwords: tuple[str, ...] = option((), "words to favour (comma-separated)")
    hotword_weight: float = option(10.0, "bonus (natural log) for writing a hotword", min=0.0)
    lowercase: bool = option(False, "query the LM with lower-cased words")
    engine: Literal["auto", "compiled", "python"] = option(
        "auto",
        "compiled: the numba search over an ARPA file's tables (same "
        "readings, much faster); python: via the kenlm module (any KenLM file); "
        "auto: compiled when the LM is an ARPA file",
    )


#: regular expressions for common fields, usable as ``pattern=@name``
PRESETS = {
    "digits": r"\d+",
    "integer": r"[+-]?\d+",
    "number": r"[+-]?\d+([.,]\d+)?",
    "amount": r"[€$£]? ?\d{1,3}([ .,']?\d{3})*([.,]\d{1,2})? ?[€$£]?",
    "date": r"\d{1,2}[./-]\d{1,2}[./-](\d{2}|\d{4})",
    "year": r"1\d{3}|20\d{2}",
    "time": r"([01]?\d|2[0-3])[:.h][0-5]\d",
    "phone": r"\+?(\d[ .-]?){6,14}\d|\(\d{2,4}\) ?(\d[ .-]?){4,10}\d",
    "postcode": r"\d{5}(-\d{4})?|\d{4}|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
    "capitals": r"[A-ZÀ-ÖØ-ÞŒ]+([ '.-]+[A-ZÀ-ÖØ-ÞŒ]+)*",
    "email": r"[\w.+-]+@[\w-]+(\.[\w-]+)+",
}


@dataclass(frozen=True)
class PatternOptions(SearchOptions):
    pattern: str = option(
        "",
        "regular expression the whole line must match, or @name of a "
        "preset: " + ", ".join("@" + k for k in PRESETS),
    )
    ignore_case: bool = option(False, "match letters in any case")
    fallback_below: float = _fallback_below()

    def __post_init__(self) -> None:
        if not self.pattern:
            raise ValueError("option 'pattern' is required: a regular expression or @preset")
        if self.pattern.startswith("@") and self.pattern[1:] not in PRESETS:
            raise ValueError(
                f"unknown pattern preset {self.pattern!r}; presets: "
                + ", ".join("@" + k for k in PRESETS)
            )
