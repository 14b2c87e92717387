"""CTC forced alignment: where in the frame sequence each character of a text was emitted."""

from __future__ import annotations

import numpy as np
from numba import njit

from htrkit.alphabet import BLANK
from htrkit.results import CharAlignment


def forced_alignment(
    log_probs: np.ndarray, labels: list[int]
) -> tuple[list[tuple[int, int]], float] | None:
    """The most probable CTC path that spells ``labels`` (Viterbi).

    :param log_probs: ``[frames, classes]`` natural-log probabilities, blank at index 0.
    :param labels: class indices of the text, without blanks.
    :return: per label its frames ``(start, end)``, and the path's log probability; ``None``
        when the text cannot be emitted in so few frames.
    """
    n = len(labels)
    if n == 0:
        return [], float(log_probs[:, BLANK].sum())
    lp = readable(log_probs)
    spans, score = _viterbi(lp, np.asarray(labels, dtype=np.int64))
    if not np.isfinite(score):
        return None
    return [(int(a), int(b)) for a, b in spans], float(score)


def readable(log_probs: np.ndarray) -> np.ndarray:
    """``log_probs`` as compiled code reads it: C-contiguous float32 (promoted value by
    value, as a conversion would) or float64."""
    lp = np.ascontiguousarray(log_probs)
    return lp if lp.dtype in (np.float32, np.float64) else lp.astype(np.float64)


@njit(cache=True, nogil=True)
def _viterbi(lp, labels):
    """Per label its frames ``[start, end)`` on the best path, and the path's log
    probability (-inf when none fits). States alternate blank and label (``2k + 1`` is
    label k); a state is entered from itself, the one before, or two before when that
    skips a blank between different labels. Of equal scores, staying wins, then a step."""
    T = lp.shape[0]
    n = labels.shape[0]
    S = 2 * n + 1
    ext = np.zeros(S, np.int64)
    skip = np.zeros(S, np.bool_)
    for k in range(n):
        ext[2 * k + 1] = labels[k]
        if k > 0 and labels[k] != labels[k - 1]:
            skip[2 * k + 1] = True
    dp = np.full(S, -np.inf)
    new = np.empty(S)
    back = np.zeros((T, S), np.int8)
    dp[0] = lp[0, ext[0]]
    if S > 1:
        dp[1] = lp[0, ext[1]]
    for t in range(1, T):
        for s in range(S):
            best = dp[s]
            choice = 0
            if s >= 1 and dp[s - 1] > best:
                best = dp[s - 1]
                choice = 1
            if skip[s] and dp[s - 2] > best:
                best = dp[s - 2]
                choice = 2
            new[s] = best + lp[t, ext[s]]
            back[t, s] = choice
        dp, new = new, dp
    end = S - 1 if dp[S - 1] >= dp[S - 2] else S - 2
    score = dp[end]
    spans = np.full((n, 2), -1, np.int64)
    if not np.isfinite(score):
        return spans, score
    s = end
    for t in range(T - 1, -1, -1):
        if s % 2 == 1:
            k = s // 2
            if spans[k, 1] < 0:
                spans[k, 1] = t + 1
            spans[k, 0] = t
        s -= back[t, s]
    return spans, score


def align_text(
    log_probs: np.ndarray, labels: list[int], chars: list[str]
) -> tuple[list[CharAlignment], float]:
    """Character alignments and a confidence for a decoded text.

    The confidence is the geometric mean of the best path's per-frame probability, so it
    does not shrink with line length. When no path fits, characters are spread evenly.
    """
    T = log_probs.shape[0]
    n = len(labels)
    if T and n:
        lp = readable(log_probs)
        spans, score = _viterbi(lp, np.asarray(labels, dtype=np.int64))
        if np.isfinite(score):
            peaks = np.exp(_peaks(lp, spans, np.asarray(labels, dtype=np.int64)))
            out = list(
                map(CharAlignment, chars, spans[:, 0].tolist(), spans[:, 1].tolist(),
                    peaks.tolist())
            )  # fmt: skip
            return out, float(np.exp(score / T))
    elif T:
        return [], float(np.exp(log_probs[:, BLANK].sum() / T))
    step = T / max(n, 1)
    starts = [int(i * step) for i in range(n)]
    spans_ = [(s, max(int((i + 1) * step), s + 1)) for i, s in enumerate(starts)]
    return [CharAlignment(c, s, e, 0.0) for c, (s, e) in zip(chars, spans_)], 0.0


@njit(cache=True, nogil=True)
def _peaks(lp, spans, labels):
    """Per label its highest log probability over its frames."""
    out = np.empty(labels.shape[0])
    for k in range(labels.shape[0]):
        best = -np.inf
        for t in range(spans[k, 0], spans[k, 1]):
            if lp[t, labels[k]] > best:
                best = lp[t, labels[k]]
        out[k] = best
    return out
