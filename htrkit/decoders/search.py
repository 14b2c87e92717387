"""CTC prefix beam search guided by a scorer: the engine of the lexicon, language-model and
pattern decoders.

A :class:`Scorer` says which characters may extend a prefix and what that extension adds
to the prefix's score (a language model's log probability, a word-insertion bonus). The
engine keeps, per prefix, the log probability of the CTC paths that spell it, ending in a
blank or in a character (Graves 2012; Hannun et al. 2014), and ranks prefixes by that plus
the scorer's total. Identical prefixes have identical scorer states, so paths that spell
the same prefix merge.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

from htrkit.alphabet import BLANK, Alphabet
from htrkit.decoders.alignment import align_text
from htrkit.results import Decoding

NEG = float("-inf")


class Scorer(Protocol):
    """What guides :func:`prefix_search`. States are opaque to the engine."""

    def initial(self) -> Any:
        """The state of the empty prefix."""

    def extend(self, state: Any, char: str) -> tuple[Any, float] | None:
        """The state after appending ``char`` and the log score that adds, or ``None``
        when ``char`` may not follow."""

    def finish(self, state: Any) -> float | None:
        """The log score added when the line ends in ``state``, or ``None`` when it may not
        end there."""

    # Optional: ``usable(char) -> bool``, False for characters no state ever accepts
    # (the engine then never tries them).


def logaddexp(a: float, b: float) -> float:
    if a == NEG:
        return b
    if b == NEG:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


class _Beam:
    __slots__ = ("pb", "pnb", "state", "score")

    def __init__(self, pb: float, pnb: float, state: Any, score: float):
        self.pb = pb  # log P(paths spelling the prefix that end in a blank)
        self.pnb = pnb  # ... that end in its last character
        self.state = state
        self.score = score  # the scorer's total for the prefix

    def total(self) -> float:
        return logaddexp(self.pb, self.pnb) + self.score


def prefix_search(
    log_probs: np.ndarray,
    alphabet: Alphabet,
    scorer: Scorer,
    *,
    beam_width: int = 16,
    char_prune: float = 1e-3,
    beam_prune: float = 0.0,
) -> list[tuple[tuple[int, ...], float, float]]:
    """Beam search over ``log_probs`` (``[frames, classes]``, natural log, blank 0).

    :param char_prune: characters below this probability in a frame are not tried (the
        frame's best character always is).
    :param beam_prune: when > 0, prefixes scoring more than this (natural log) below the
        best are dropped even when the beam has room.
    :return: the surviving prefixes that may end, best first, each as
        ``(labels, total score, optical log probability)``; empty when none may end.
    """
    lp = np.asarray(log_probs, dtype=np.float64)
    chars = alphabet.chars
    threshold = math.log(char_prune) if char_prune > 0 else NEG
    # characters the scorer may ever accept (all when it does not say)
    usable = getattr(scorer, "usable", None)
    mask = np.array([usable(c) for c in chars], dtype=bool) if usable else np.ones(len(chars), bool)
    if not mask.any():
        return []
    floor = np.where(mask, 0.0, NEG)
    beams: dict[tuple[int, ...], _Beam] = {(): _Beam(0.0, NEG, scorer.initial(), 0.0)}
    extensions: dict[tuple[int, ...], tuple[Any, float] | None] = {}
    for row in lp:
        y = row.tolist()
        masked = row[1:] + floor
        cand = (np.flatnonzero(masked >= threshold) + 1).tolist()
        if not cand:
            cand = [int(np.argmax(masked)) + 1]
        blank = y[BLANK]
        step: dict[tuple[int, ...], _Beam] = {}
        for labels, beam in beams.items():
            whole = logaddexp(beam.pb, beam.pnb)
            last = labels[-1] if labels else -1
            # the prefix stays: a blank, or its last character repeated
            stay_nb = beam.pnb + y[last] if last > 0 else NEG
            kept = step.get(labels)
            if kept is None:
                step[labels] = _Beam(whole + blank, stay_nb, beam.state, beam.score)
            else:
                kept.pb = logaddexp(kept.pb, whole + blank)
                kept.pnb = logaddexp(kept.pnb, stay_nb)
            for c in cand:
                # a repeated character needs a blank between its two emissions
                p = (beam.pb if c == last else whole) + y[c]
                if p == NEG:
                    continue
                key = labels + (c,)
                grown = step.get(key)
                if grown is not None:
                    grown.pnb = logaddexp(grown.pnb, p)
                    continue
                ext = extensions.get(key, False)
                if ext is False:
                    ext = scorer.extend(beam.state, chars[c - 1])
                    extensions[key] = ext
                if ext is None:
                    continue
                step[key] = _Beam(NEG, p, ext[0], beam.score + ext[1])
        beams = _prune(step, beam_width, beam_prune)
    ended = []
    for labels, beam in beams.items():
        end = scorer.finish(beam.state)
        if end is not None:
            optical = logaddexp(beam.pb, beam.pnb)
            ended.append((labels, optical + beam.score + end, optical))
    ended.sort(key=lambda item: -item[1])
    return ended


def _prune(
    step: dict[tuple[int, ...], _Beam], width: int, beam_prune: float
) -> dict[tuple[int, ...], _Beam]:
    scored = sorted(step.items(), key=lambda kv: -kv[1].total())[:width]
    if beam_prune > 0 and scored:
        floor = scored[0][1].total() - beam_prune
        scored = [kv for kv in scored if kv[1].total() >= floor]
    return dict(scored)


def decoding_of(
    log_probs: np.ndarray,
    alphabet: Alphabet,
    labels: tuple[int, ...],
    flags: dict[str, Any] | None = None,
) -> Decoding:
    """A :class:`Decoding` for a found labelling, with aligned characters."""
    chars = [alphabet.chars[i - 1] for i in labels]
    alignments, confidence = align_text(np.asarray(log_probs), list(labels), chars)
    return Decoding("".join(chars), confidence, alignments, dict(flags or {}))


def constrained(
    log_probs: np.ndarray,
    alphabet: Alphabet,
    scorer: Scorer,
    options: Any,
    flag: str,
    *,
    char_prune: float | None = None,
) -> Decoding:
    """The best reading that ``scorer`` allows; when there is none, or it is less than
    ``options.fallback_below`` times as probable as the best unconstrained path, the
    unconstrained beam search's reading, flagged ``{flag: "fallback"}``."""
    lp = np.asarray(log_probs, dtype=np.float64)
    found = prefix_search(
        lp,
        alphabet,
        scorer,
        beam_width=options.beam_width,
        char_prune=options.char_prune if char_prune is None else char_prune,
        beam_prune=options.beam_prune,
    )
    best_path = float(lp.max(axis=1).sum()) if lp.shape[0] else 0.0
    floor = math.log(options.fallback_below) if options.fallback_below > 0 else NEG
    if found and found[0][2] >= best_path + floor:
        return decoding_of(lp, alphabet, found[0][0])
    from htrkit.decoders.beam import BeamDecoder
    from htrkit.decoders.options import BeamOptions

    free = BeamDecoder(BeamOptions(beam_width=options.beam_width, char_prune=options.char_prune))
    return decoding_of(lp, alphabet, free.search(lp), {flag: "fallback"})
