"""Options of the built-in decoders (kept apart so that listing them needs no numpy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class GreedyOptions:
    """The greedy decoder takes no tuning."""


@dataclass(frozen=True)
class BeamOptions:
    beam_width: int = field(default=10, metadata={"help": "prefixes kept per frame", "min": 1})
    char_prune: float = field(
        default=1e-3,
        metadata={
            "help": "ignore characters below this probability in a frame",
            "min": 0.0,
            "max": 1.0,
        },
    )


@dataclass(frozen=True)
class SearchOptions:
    """The beam-search settings that every guided decoder shares."""

    beam_width: int = field(default=16, metadata={"help": "prefixes kept per frame", "min": 1})
    char_prune: float = field(
        default=1e-3,
        metadata={
            "help": "ignore characters below this probability in a frame",
            "min": 0.0,
            "max": 1.0,
        },
    )
    beam_prune: float = field(
        default=0.0,
        metadata={
            "help": "drop prefixes scoring this far (natural log) below the best; 0: keep "
            "beam_width",
            "min": 0.0,
        },
    )


@dataclass(frozen=True)
class WordBeamOptions(SearchOptions):
    lexicon: str = field(
        default="default",
        metadata={
            "help": "word list (a word per line, optionally with a count) or corpus; "
            "'default': the bundled one"
        },
    )
    mode: Literal["words", "ngrams", "ngrams+forecast"] = field(
        default="ngrams",
        metadata={"help": "words: constraint only; ngrams: bigram scores; +forecast: "
                  "score words being written by what they may become"},
    )  # fmt: skip
    lm_weight: float = field(
        default=1.0, metadata={"help": "weight of the bigram log probabilities", "min": 0.0}
    )
    ignore_case: bool = field(default=True, metadata={"help": "match words whatever their case"})
    fallback_below: float = field(
        default=1e-4,
        metadata={
            "help": "decode without the constraint (and flag the line) when the best "
            "allowed reading is less than this times as probable as the best path",
            "min": 0.0,
            "max": 1.0,
        },
    )


@dataclass(frozen=True)
class KenLMOptions(SearchOptions):
    lm: str = field(
        default="default",
        metadata={"help": "KenLM model (ARPA or binary); 'default': the bundled word model"},
    )
    alpha: float = field(default=0.5, metadata={"help": "language model weight", "min": 0.0})
    beta: float = field(
        default=1.0, metadata={"help": "bonus per word (per character for a character LM)"}
    )
    level: Literal["auto", "word", "char"] = field(
        default="auto",
        metadata={"help": "word or character tokens; auto: char when the LM knows '<sp>'"},
    )
    unk_offset: float = field(
        default=-20.0,
        metadata={"help": "score (times alpha) for a word being written that begins no "
                  "known word"},
    )  # fmt: skip
    hotwords: tuple[str, ...] = field(
        default=(), metadata={"help": "words to favour (comma-separated)"}
    )
    hotword_weight: float = field(
        default=10.0, metadata={"help": "bonus (natural log) for writing a hotword", "min": 0.0}
    )
    lowercase: bool = field(default=False, metadata={"help": "query the LM with lower-cased words"})
    engine: Literal["auto", "compiled", "python"] = field(
        default="auto",
        metadata={"help": "compiled: the numba search over an ARPA file's tables (same "
                  "readings, much faster); python: via the kenlm module (any KenLM file); "
                  "auto: compiled when the LM is an ARPA file"},
    )  # fmt: skip


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
    pattern: str = field(
        default="",
        metadata={"help": "regular expression the whole line must match, or @name of a "
                  "preset: " + ", ".join("@" + k for k in PRESETS)},
    )  # fmt: skip
    ignore_case: bool = field(default=False, metadata={"help": "match letters in any case"})
    fallback_below: float = field(
        default=1e-4,
        metadata={
            "help": "decode without the constraint (and flag the line) when the best "
            "allowed reading is less than this times as probable as the best path",
            "min": 0.0,
            "max": 1.0,
        },
    )

    def __post_init__(self) -> None:
        if not self.pattern:
            raise ValueError("option 'pattern' is required: a regular expression or @preset")
        if self.pattern.startswith("@") and self.pattern[1:] not in PRESETS:
            raise ValueError(
                f"unknown pattern preset {self.pattern!r}; presets: "
                + ", ".join("@" + k for k in PRESETS)
            )
