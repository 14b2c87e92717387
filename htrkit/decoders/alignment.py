"""CTC forced alignment: where in the frame sequence each character of a text was emitted."""

from __future__ import annotations

import numpy as np

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
    T = log_probs.shape[0]
    n = len(labels)
    if n == 0:
        return [], float(log_probs[:, BLANK].sum())
    ext = np.full(2 * n + 1, BLANK, dtype=np.int64)
    ext[1::2] = labels
    S = ext.size
    # a transition s-2 -> s is allowed into a label that differs from the one two back
    skip = np.zeros(S, dtype=bool)
    skip[3::2] = ext[3::2] != ext[1:-2:2]
    emit = log_probs[:, ext]  # [T, S]
    dp = np.full(S, -np.inf)
    dp[0] = emit[0, 0]
    dp[1] = emit[0, 1]
    back = np.zeros((T, S), dtype=np.int8)
    for t in range(1, T):
        stay = dp
        step = np.concatenate(([-np.inf], dp[:-1]))
        jump = np.where(skip, np.concatenate(([-np.inf, -np.inf], dp[:-2])), -np.inf)
        best = np.stack((stay, step, jump))
        choice = best.argmax(0)
        dp = best[choice, np.arange(S)] + emit[t]
        back[t] = choice
    end = S - 1 if dp[S - 1] >= dp[S - 2] else S - 2
    score = float(dp[end])
    if not np.isfinite(score):
        return None
    states = np.empty(T, dtype=np.int64)
    s = end
    for t in range(T - 1, -1, -1):
        states[t] = s
        s -= int(back[t, s])
    spans = []
    for k in range(n):
        frames = np.flatnonzero(states == 2 * k + 1)
        spans.append((int(frames[0]), int(frames[-1]) + 1))
    return spans, score


def align_text(
    log_probs: np.ndarray, labels: list[int], chars: list[str]
) -> tuple[list[CharAlignment], float]:
    """Character alignments and a confidence for a decoded text.

    The confidence is the geometric mean of the best path's per-frame probability, so it
    does not shrink with line length. When no path fits, characters are spread evenly.
    """
    T = log_probs.shape[0]
    found = forced_alignment(log_probs, labels) if T else None
    if found is None:
        step = T / max(len(labels), 1)
        starts = [int(i * step) for i in range(len(labels))]
        spans = [(s, max(int((i + 1) * step), s + 1)) for i, s in enumerate(starts)]
        return [CharAlignment(c, s, e, 0.0) for c, (s, e) in zip(chars, spans)], 0.0
    spans, score = found
    out = []
    for c, label, (s, e) in zip(chars, labels, spans):
        out.append(CharAlignment(c, s, e, float(np.exp(log_probs[s:e, label].max()))))
    return out, float(np.exp(score / max(T, 1)))
