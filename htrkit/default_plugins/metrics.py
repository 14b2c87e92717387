"""Built-in metrics (rapidfuzz is imported when a metric is built)."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.specs import MetricSpec

_TEXT = "htrkit.metrics.text"

METRICS = [
    MetricSpec(
        "cer", f"{_TEXT}:CharacterErrorRate", "character error rate: edits / reference characters"
    ),
    MetricSpec(
        "cer-caseless",
        f"{_TEXT}:CaselessCharacterErrorRate",
        "CER ignoring case (both texts case-folded)",
    ),
    MetricSpec(
        "cer-spaceless",
        f"{_TEXT}:SpacelessCharacterErrorRate",
        "CER ignoring spaces (removed from both texts)",
        aliases=("cer-nospace",),
    ),
    MetricSpec("wer", f"{_TEXT}:WordErrorRate", "word error rate: word edits / reference words"),
    MetricSpec(
        "levenshtein",
        f"{_TEXT}:EditDistance",
        "Levenshtein distance, mean per sample",
        aliases=("edit-distance",),
    ),
    MetricSpec(
        "ned",
        f"{_TEXT}:NormalizedEditDistance",
        "edits / length of the longer string",
        aliases=("normalized-edit-distance",),
    ),
    MetricSpec(
        "jaro-winkler",
        f"{_TEXT}:JaroWinklerSimilarity",
        "Jaro-Winkler similarity, mean per sample",
        aliases=("jw",),
    ),
    MetricSpec("char-accuracy", f"{_TEXT}:CharacterAccuracy", "1 - CER, floored at 0 per sample"),
    MetricSpec("word-accuracy", f"{_TEXT}:WordAccuracy", "1 - WER, floored at 0 per sample"),
    MetricSpec(
        "exact-match",
        f"{_TEXT}:ExactMatch",
        "share of samples read exactly right",
        aliases=("sequence-accuracy",),
    ),
]


@hookimpl
def htrkit_register_metrics() -> list[MetricSpec]:
    return METRICS
