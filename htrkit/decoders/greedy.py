"""Best-path (greedy) CTC decoding: the most probable class per frame, repeats collapsed,
blanks removed."""

from __future__ import annotations

import numpy as np

from htrkit.alphabet import BLANK, Alphabet
from htrkit.decoders.options import GreedyOptions
from htrkit.results import CharAlignment, Decoding


class GreedyDecoder:
    """Best-path decoding, vectorised with numpy."""

    def __init__(self, options: GreedyOptions | None = None):
        self.options = options or GreedyOptions()

    def decode(self, log_probs: np.ndarray, alphabet: Alphabet) -> Decoding:
        T = log_probs.shape[0]
        if T == 0:
            return Decoding("", 0.0, [])
        best = log_probs.argmax(axis=1)
        best_lp = log_probs[np.arange(T), best]
        run_start = np.flatnonzero(np.concatenate(([True], best[1:] != best[:-1])))
        run_end = np.append(run_start[1:], T)
        peak = np.maximum.reduceat(best_lp, run_start)
        keep = best[run_start] != BLANK
        symbols = alphabet.chars
        chars = list(
            map(
                CharAlignment,
                [symbols[c - 1] for c in best[run_start][keep].tolist()],
                run_start[keep].tolist(),
                run_end[keep].tolist(),
                np.exp(peak[keep]).tolist(),
            )
        )
        text = "".join([c.char for c in chars])
        return Decoding(text, float(np.exp(best_lp.mean())), chars)
