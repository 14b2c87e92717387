"""CTC prefix beam search (Graves 2012; Hannun et al. 2014), vectorised over beams and
characters with numpy."""

from __future__ import annotations

import numpy as np

from htrkit.alphabet import BLANK, Alphabet
from htrkit.decoders.alignment import align_text
from htrkit.decoders.options import BeamOptions
from htrkit.results import Decoding


class BeamDecoder:
    """Keeps the ``beam_width`` most probable prefixes, summing over all CTC paths that
    spell each prefix (blank-ending and non-blank-ending)."""

    def __init__(self, options: BeamOptions | None = None):
        self.options = options or BeamOptions()

    def decode(self, log_probs: np.ndarray, alphabet: Alphabet) -> Decoding:
        labels = self.search(np.asarray(log_probs, dtype=np.float64))
        chars = [alphabet.chars[i - 1] for i in labels]
        alignments, confidence = align_text(log_probs, list(labels), chars)
        return Decoding("".join(chars), confidence, alignments)

    def search(self, lp: np.ndarray) -> tuple[int, ...]:
        """The most probable label sequence under the beam approximation."""
        width = self.options.beam_width
        prune = np.log(self.options.char_prune) if self.options.char_prune > 0 else -np.inf
        prefixes: list[tuple[int, ...]] = [()]
        pb = np.zeros(1)  # log P(prefix, path ends in blank)
        pnb = np.full(1, -np.inf)  # log P(prefix, path ends in a character)
        for y in lp:
            cand = np.flatnonzero(y[1:] >= prune) + 1
            if cand.size == 0:
                cand = np.array([int(np.argmax(y[1:])) + 1])
            last = np.array([p[-1] if p else -1 for p in prefixes])
            total = np.logaddexp(pb, pnb)
            new_pb = total + y[BLANK]
            new_pnb = np.where(last >= 0, pnb + y[np.maximum(last, 0)], -np.inf)
            # Extending by the prefix's own last character needs a blank in between.
            same = cand[None, :] == last[:, None]
            ext = np.where(same, pb[:, None], total[:, None]) + y[cand][None, :]
            # An extension that spells a prefix already in the beam merges into it.
            index = {p: i for i, p in enumerate(prefixes)}
            pos = {int(c): j for j, c in enumerate(cand)}
            for i, p in enumerate(prefixes):
                if p:
                    parent, j = index.get(p[:-1]), pos.get(p[-1])
                    if parent is not None and j is not None:
                        new_pnb[i] = np.logaddexp(new_pnb[i], ext[parent, j])
                        ext[parent, j] = -np.inf
            scores = np.concatenate((np.logaddexp(new_pb, new_pnb), ext.ravel()))
            k = min(width, int(np.isfinite(scores).sum())) or 1
            top = np.argpartition(-scores, k - 1)[:k]
            B = len(prefixes)
            next_prefixes, next_pb, next_pnb = [], np.empty(k), np.empty(k)
            for n, idx in enumerate(top):
                if idx < B:
                    next_prefixes.append(prefixes[idx])
                    next_pb[n], next_pnb[n] = new_pb[idx], new_pnb[idx]
                else:
                    i, j = divmod(int(idx) - B, cand.size)
                    next_prefixes.append(prefixes[i] + (int(cand[j]),))
                    next_pb[n], next_pnb[n] = -np.inf, ext[i, j]
            prefixes, pb, pnb = next_prefixes, next_pb, next_pnb
        return prefixes[int(np.argmax(np.logaddexp(pb, pnb)))]
