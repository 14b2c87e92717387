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

import functools
import math
from operator import itemgetter
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
    floor = _unusable_floor(scorer, tuple(chars))
    if not np.isfinite(floor).any():
        return []
    # a beam: [log P(paths ending in a blank), log P(... in its last character), scorer
    # state, scorer total]; prefixes are tuples of class indices
    beams: dict[tuple[int, ...], list] = {(): [0.0, NEG, scorer.initial(), 0.0]}
    extensions: dict[tuple[int, ...], tuple[Any, float] | None] = {}
    extend = scorer.extend
    for row in lp:
        y = row.tolist()
        masked = row[1:] + floor
        cand = (np.flatnonzero(masked >= threshold) + 1).tolist()
        if not cand:
            cand = [int(np.argmax(masked)) + 1]
        blank = y[BLANK]
        step: dict[tuple[int, ...], list] = {}
        for labels, (pb, pnb, state, score) in beams.items():
            whole = logaddexp(pb, pnb)
            last = labels[-1] if labels else -1
            # the prefix stays: a blank, or its last character repeated
            stay_nb = pnb + y[last] if last > 0 else NEG
            kept = step.get(labels)
            if kept is None:
                step[labels] = [whole + blank, stay_nb, state, score]
            else:
                kept[0] = logaddexp(kept[0], whole + blank)
                kept[1] = logaddexp(kept[1], stay_nb)
            for c in cand:
                # a repeated character needs a blank between its two emissions
                p = (pb if c == last else whole) + y[c]
                if p == NEG:
                    continue
                key = labels + (c,)
                grown = step.get(key)
                if grown is not None:
                    grown[1] = logaddexp(grown[1], p)
                    continue
                ext = extensions.get(key, False)
                if ext is False:
                    ext = extensions[key] = extend(state, chars[c - 1])
                if ext is not None:
                    step[key] = [NEG, p, ext[0], score + ext[1]]
        beams = _prune(step, beam_width, beam_prune)
    ended = []
    for labels, (pb, pnb, state, score) in beams.items():
        end = scorer.finish(state)
        if end is not None:
            optical = logaddexp(pb, pnb)
            ended.append((labels, optical + score + end, optical))
    ended.sort(key=lambda item: -item[1])
    return ended


@functools.lru_cache(maxsize=32)
def _unusable_floor(scorer: Scorer, chars: tuple[str, ...]) -> np.ndarray:
    """Per character, 0 where the scorer may accept it and -inf where it never does (all
    0 when the scorer does not say); once per scorer and alphabet."""
    usable = getattr(scorer, "usable", None)
    if usable is None:
        return np.zeros(len(chars))
    return np.array([0.0 if usable(c) else NEG for c in chars])


def _prune(step: dict[tuple[int, ...], list], width: int, beam_prune: float) -> dict:
    if len(step) <= width and beam_prune <= 0:
        return step
    # stable: of equal scores, the prefix made first stays
    ranked = sorted(
        ((logaddexp(b[0], b[1]) + b[3], labels) for labels, b in step.items()),
        key=itemgetter(0),
        reverse=True,
    )[:width]
    if beam_prune > 0:
        floor = ranked[0][0] - beam_prune
        ranked = [r for r in ranked if r[0] >= floor]
    return {labels: step[labels] for _, labels in ranked}


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
