"""The built-in metrics, on rapidfuzz's edit distances."""

from __future__ import annotations

from rapidfuzz.distance import JaroWinkler, Levenshtein

from htrkit.metrics import Metric


def words(text: str) -> list[str]:
    return text.split()


class CharacterErrorRate(Metric):
    """Character edits (insertions, deletions, substitutions) per reference character."""

    def statistics(self, prediction: str, reference: str) -> tuple[float, float]:
        return Levenshtein.distance(prediction, reference), len(reference)


class CaselessCharacterErrorRate(Metric):
    """CER with both texts case-folded: what is left once capitals and small letters are
    not told apart (``ß`` folds to ``ss``, as Unicode case folding does)."""

    def statistics(self, prediction: str, reference: str) -> tuple[float, float]:
        ref = reference.casefold()
        return Levenshtein.distance(prediction.casefold(), ref), len(ref)

    def same(self, prediction: str, reference: str) -> bool:
        return prediction.casefold() == reference.casefold()


class SpacelessCharacterErrorRate(Metric):
    """CER with every white-space character removed from both texts: what is left once
    word splits and joins are not counted (per reference character other than spaces)."""

    def statistics(self, prediction: str, reference: str) -> tuple[float, float]:
        ref = "".join(reference.split())
        return Levenshtein.distance("".join(prediction.split()), ref), len(ref)

    def same(self, prediction: str, reference: str) -> bool:
        return "".join(prediction.split()) == "".join(reference.split())


class WordErrorRate(Metric):
    """Word edits per reference word (words split on whitespace)."""

    def statistics(self, prediction: str, reference: str) -> tuple[float, float]:
        ref = words(reference)
        return Levenshtein.distance(words(prediction), ref), len(ref)


class EditDistance(Metric):
    """Levenshtein distance in characters; over a corpus, the mean per sample."""

    def statistics(self, prediction: str, reference: str) -> tuple[float, float]:
        return Levenshtein.distance(prediction, reference), 1


class NormalizedEditDistance(Metric):
    """Edits divided by the longer of the two strings, so always in [0, 1]."""

    def statistics(self, prediction: str, reference: str) -> tuple[float, float]:
        return Levenshtein.distance(prediction, reference), max(len(prediction), len(reference))


class JaroWinklerSimilarity(Metric):
    """Jaro-Winkler similarity (prefix weight 0.1); over a corpus, the mean per sample."""

    higher_is_better = True

    def statistics(self, prediction: str, reference: str) -> tuple[float, float]:
        return JaroWinkler.similarity(prediction, reference), 1


class CharacterAccuracy(Metric):
    """Reference characters minus edits (floored at 0 per sample), per reference character."""

    higher_is_better = True

    def statistics(self, prediction: str, reference: str) -> tuple[float, float]:
        edits = Levenshtein.distance(prediction, reference)
        return max(len(reference) - edits, 0), len(reference)


class WordAccuracy(Metric):
    """Reference words minus word edits (floored at 0 per sample), per reference word."""

    higher_is_better = True

    def statistics(self, prediction: str, reference: str) -> tuple[float, float]:
        ref = words(reference)
        return max(len(ref) - Levenshtein.distance(words(prediction), ref), 0), len(ref)


class ExactMatch(Metric):
    """The share of samples whose prediction equals the reference exactly."""

    higher_is_better = True

    def statistics(self, prediction: str, reference: str) -> tuple[float, float]:
        return float(prediction == reference), 1
