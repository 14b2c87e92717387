"""Pattern-constrained decoding: the most probable text that matches a regular expression.

The expression is compiled to a deterministic finite automaton (with ``interegular``, which
reads Python's regular expression syntax); the beam search only extends a prefix by a
character that keeps the automaton on a path to an accepting state, and only prefixes in
an accepting state may end the line. So ``\\d{2}/\\d{2}/\\d{4}`` reads a date's ``O`` as
``0`` and ``@capitals`` reads a name's ``0`` as ``O``. When no prefix matching the pattern
survives, the line is decoded without it and flagged ``{"pattern": "fallback"}``.

Compiling is bounded: a short expression can have an automaton of exponential size
(``(a|b)*a(a|b){14}`` has 2^15 states, and interegular takes minutes over it), so the
automaton may have at most ``MAX_STATES`` states per construction step and the whole
compilation ``MAX_SECONDS``; past either it is a one-line error that says so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from htrkit.alphabet import Alphabet
from htrkit.decoders.options import PRESETS, PatternOptions
from htrkit.decoders.search import constrained
from htrkit.errors import OptionsError
from htrkit.results import Decoding

#: the most states one step of the automaton's construction may create
MAX_STATES = 5000
#: the most seconds the whole construction may take
MAX_SECONDS = 2.0

_COMPILING = threading.Lock()  # the bound is set on interegular's module while it compiles


class PatternTooComplex(OptionsError):
    """A pattern whose automaton is too large or too slow to build."""


def compile_pattern(pattern: str, max_states: int = MAX_STATES, max_seconds: float = MAX_SECONDS):
    """interegular's automaton for ``pattern``, built within the bounds."""
    import interegular
    from interegular import fsm as fsm_module

    deadline = time.monotonic() + max_seconds

    def bounded_crawl(alphabet: Any, initial: Any, final: Callable, follow: Callable) -> Any:
        # breadth-first over the states reachable from ``initial``, numbered as found
        states, index, finals, moves = [initial], {_key(initial): 0}, set(), {}
        for i, state in enumerate(iter_growing(states)):
            if final(state):
                finals.add(i)
            moves[i] = {}
            for transition in alphabet.by_transition:
                try:
                    nxt = follow(state, transition)
                except fsm_module.OblivionError:
                    continue
                key = _key(nxt)
                j = index.get(key)
                if j is None:
                    if len(states) >= max_states:
                        raise PatternTooComplex(
                            f"pattern {_shown(pattern)} is too complex: its automaton has over "
                            f"{max_states:,} states; simplify it (fewer nested repeats)"
                        )
                    j = index[key] = len(states)
                    states.append(nxt)
                moves[i][transition] = j
            if time.monotonic() > deadline:
                raise PatternTooComplex(
                    f"pattern {_shown(pattern)} is too complex: its automaton took over "
                    f"{max_seconds:g} s to build; simplify it"
                )
        return fsm_module.FSM(
            alphabet=alphabet, states=range(len(states)), initial=0, finals=finals, map=moves,
            __no_validation__=True,
        )  # fmt: skip

    with _COMPILING:
        original = fsm_module.crawl
        fsm_module.crawl = bounded_crawl
        try:
            return interegular.parse_pattern(pattern).to_fsm()
        finally:
            fsm_module.crawl = original


def _key(state: Any) -> Any:
    """A hashable stand-in for an interegular construction state (sets, tuples of them),
    equal when the states are equal."""
    if isinstance(state, (set, frozenset)):
        return frozenset(_key(s) for s in state)
    if isinstance(state, (list, tuple)):
        return tuple(_key(s) for s in state)
    if isinstance(state, dict):
        return frozenset((k, _key(v)) for k, v in state.items())
    return state


def iter_growing(items: list) -> Any:
    """The items of a list that grows while it is read."""
    i = 0
    while i < len(items):
        yield items[i]
        i += 1


def _shown(pattern: str, most: int = 80) -> str:
    """The pattern as an error shows it: quoted, and cut with its length if long."""
    if len(pattern) <= most:
        return repr(pattern)
    return f"{pattern[:most]!r}... ({len(pattern):,} characters)"


class PatternScorer:
    """A regular expression as a :class:`~htrkit.decoders.search.Scorer` (no scores, only
    the constraint). States are the automaton's."""

    def __init__(self, pattern: str, ignore_case: bool = False):
        from interegular.fsm import anything_else

        shown = _shown(pattern)
        try:
            fsm = compile_pattern(pattern)
        except PatternTooComplex:
            raise
        except Exception as exc:  # the parser raises several kinds, some without a message
            import re

            try:  # Python's own parser says where and what, when it refuses it too
                re.compile(pattern)
                reason = str(exc).strip() or type(exc).__name__
            except re.error as py:
                reason = f"{py.msg} at position {py.pos}" if py.pos is not None else py.msg
            raise OptionsError(
                f"pattern {shown} is not a usable regular expression: {reason[:200]}"
            ) from None
        self.fsm = fsm
        self.other = fsm.alphabet[anything_else] if anything_else in fsm.alphabet else None
        self.ignore_case = ignore_case
        self.live = _live_states(fsm)
        if fsm.initial not in self.live:
            raise OptionsError(f"pattern {shown} matches no text")

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
