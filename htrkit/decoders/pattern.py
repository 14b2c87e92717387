"""Pattern-constrained decoding: the most probable text that matches a regular expression.

The expression is compiled to a deterministic finite automaton (with ``interegular``, which
reads Python's regular expression syntax); the beam search only extends a prefix by a
character that keeps the automaton on a path to an accepting state, and only prefixes in
an accepting state may end the line. So ``\\d{2}/\\d{2}/\\d{4}`` reads a date's ``O`` as
``0`` and ``@capitals`` reads a name's ``0`` as ``O``. When no prefix matching the pattern
survives, the line is decoded without it and flagged ``{"pattern": "fallback"}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from htrkit.alphabet import Alphabet
from htrkit.decoders.options import PRESETS, PatternOptions
from htrkit.decoders.search import constrained
from htrkit.errors import OptionsError
from htrkit.results import Decoding


class PatternScorer:
    """A regular expression as a :class:`~htrkit.decoders.search.Scorer` (no scores, only
    the constraint). States are the automaton's."""

    def __init__(self, pattern: str, ignore_case: bool = False):
        import interegular
        from interegular.fsm import anything_else

        try:
            fsm = interegular.parse_pattern(pattern).to_fsm()
        except Exception as exc:  # noqa: BLE001 - the parser raises several kinds
            raise OptionsError(
                f"pattern {pattern!r} is not a usable regular expression: {exc}"
            ) from None
        self.fsm = fsm
        self.other = fsm.alphabet[anything_else] if anything_else in fsm.alphabet else None
        self.ignore_case = ignore_case
        self.live = _live_states(fsm)
        if fsm.initial not in self.live:
            raise OptionsError(f"pattern {pattern!r} matches no text")

    def initial(self) -> Any:
        return self.fsm.initial

    def usable(self, char: str) -> bool:
        return any(self.extend(state, char) is not None for state in self.live)

    def extend(self, state: Any, char: str) -> tuple[Any, float] | None:
        variants = {char, char.lower(), char.upper()} if self.ignore_case else (char,)
        for c in variants:
            symbol = self.fsm.alphabet[c] if c in self.fsm.alphabet else self.other
            nxt = self.fsm.map.get(state, {}).get(symbol)
            if nxt is not None and nxt in self.live:
                return nxt, 0.0
        return None

    def finish(self, state: Any) -> float | None:
        return 0.0 if state in self.fsm.finals else None


def _live_states(fsm: Any) -> set[Any]:
    """States from which an accepting state can be reached."""
    back: dict[Any, set[Any]] = {}
    for state, moves in fsm.map.items():
        for nxt in moves.values():
            back.setdefault(nxt, set()).add(state)
    live, todo = set(fsm.finals), list(fsm.finals)
    while todo:
        for prev in back.get(todo.pop(), ()):
            if prev not in live:
                live.add(prev)
                todo.append(prev)
    return live


def expand(pattern: str) -> str:
    """A preset's expression for ``@name``; any other pattern as it is."""
    return PRESETS[pattern[1:]] if pattern.startswith("@") else pattern


class PatternDecoder:
    def __init__(self, options: PatternOptions):
        self.options = options
        self.scorer = PatternScorer(expand(options.pattern), options.ignore_case)

    def decode(self, log_probs: np.ndarray, alphabet: Alphabet) -> Decoding:
        # the character the pattern needs may be an unlikely one
        prune = min(self.options.char_prune, 1e-6)
        return constrained(
            log_probs, alphabet, self.scorer, self.options, "pattern", char_prune=prune
        )
