"""An example htrkit plugin: a decoder and a metric, registered through htrkit's hooks."""

from __future__ import annotations

from dataclasses import dataclass

import htrkit
from htrkit.options import option
from htrkit.specs import DecoderSpec, MetricSpec


@dataclass(frozen=True)
class ConfidentGreedyOptions:
    min_prob: float = option(
        0.5, "characters below this probability are replaced", min=0.0, max=1.0
    )
    placeholder: str = option("?", "what replaces them")


class ConfidentGreedyDecoder:
    """Best-path decoding; unsure characters become a placeholder."""

    def __init__(self, options: ConfidentGreedyOptions):
        self.options = options

    def decode(self, log_probs, alphabet):
        import numpy as np

        best = log_probs.argmax(axis=1)
        frame_prob = np.exp(log_probs.max(axis=1))
        chars = []  # one CharAlignment per emitted character
        previous = 0  # class 0 is the CTC blank
        for t, cls in enumerate(best):
            p = float(frame_prob[t])
            if cls != 0 and cls == previous:  # the same character goes on
                c = chars[-1]
                chars[-1] = htrkit.CharAlignment(c.char, c.start, t + 1, max(c.prob, p))
            elif cls != 0:
                chars.append(htrkit.CharAlignment(alphabet.chars[cls - 1], t, t + 1, p))
            previous = cls
        placeholder, min_prob = self.options.placeholder, self.options.min_prob
        shown = [
            c if c.prob >= min_prob else htrkit.CharAlignment(placeholder, c.start, c.end, c.prob)
            for c in chars
        ]
        confidence = float(np.exp(log_probs.max(axis=1).mean())) if len(best) else 0.0
        return htrkit.Decoding("".join(c.char for c in shown), confidence, shown)


class CaseInsensitiveCER:
    """Character error rate after lower-casing both strings."""

    higher_is_better = False

    def statistics(self, prediction: str, reference: str) -> tuple[float, float]:
        from rapidfuzz.distance import Levenshtein

        return Levenshtein.distance(prediction.lower(), reference.lower()), len(reference)

    def sample(self, prediction: str, reference: str) -> float:
        edits, length = self.statistics(prediction, reference)
        return edits / length if length else float(edits > 0)

    def corpus(self, predictions, references) -> float:
        stats = [self.statistics(p, r) for p, r in zip(predictions, references)]
        length = sum(n for _, n in stats)
        edits = sum(e for e, _ in stats)
        return edits / length if length else float(edits > 0)


@htrkit.hookimpl
def htrkit_register_decoders():
    return [
        DecoderSpec(
            name="confident-greedy",
            factory=ConfidentGreedyDecoder,
            description="best path, unsure characters replaced by a placeholder",
            options=ConfidentGreedyOptions,
        )
    ]


@htrkit.hookimpl
def htrkit_register_metrics():
    return [
        MetricSpec(
            name="cer-nocase",
            factory=lambda options: CaseInsensitiveCER(),
            description="character error rate ignoring case",
        )
    ]
