"""Text recognition metrics.

A metric reduces each (prediction, reference) pair to a ``(numerator, denominator)`` pair.
A sample's score is ``numerator / denominator`` and a corpus score is the sum of numerators
over the sum of denominators: CER over a corpus is total edits over total reference
characters, not a mean of per-line rates.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence


class Metric(ABC):
    """Base class for metrics; subclasses implement :meth:`statistics`."""

    #: whether a larger score is better (accuracy) or worse (error rate)
    higher_is_better: bool = False

    def __init__(self, options: object = None):
        self.options = options

    @abstractmethod
    def statistics(self, prediction: str, reference: str) -> tuple[float, float]:
        """The ``(numerator, denominator)`` contribution of one pair."""

    def sample(self, prediction: str, reference: str) -> float:
        """The score of one pair."""
        num, den = self.statistics(prediction, reference)
        return num / den if den else self._empty(self.same(prediction, reference))

    def corpus(self, predictions: Sequence[str], references: Sequence[str]) -> float:
        """The score of a corpus: summed numerators over summed denominators."""
        if len(predictions) != len(references):
            raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
        num = den = 0.0
        for p, r in zip(predictions, references):
            n, d = self.statistics(p, r)
            num += n
            den += d
        if den:
            return num / den
        return self._empty(all(self.same(p, r) for p, r in zip(predictions, references)))

    def same(self, prediction: str, reference: str) -> bool:
        """Whether a pair counts as read exactly (for empty references)."""
        return prediction == reference

    def _empty(self, exact: bool) -> float:
        """The score when there is nothing to count (empty references): the best score
        if everything was read exactly, else the worst."""
        return float(exact == self.higher_is_better)


def ratio(num: float, den: float) -> float:
    """``num / den``; with nothing to count, 0 when nothing is wrong, else 1."""
    if den:
        return num / den
    return 0.0 if num == 0 else 1.0
