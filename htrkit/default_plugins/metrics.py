"""Built-in metrics (rapidfuzz is imported when a metric is built)."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.specs import MetricSpec

_METRICS = {
    # name: (class in htrkit.metrics.text, description, aliases)
    "cer": ("CharacterErrorRate", "character error rate: edits / reference characters", ()),
    "cer-caseless": (
        "CaselessCharacterErrorRate",
        "CER ignoring case (both texts case-folded)",
        (),
    ),
    "cer-spaceless": (
        "SpacelessCharacterErrorRate",
        "CER ignoring spaces (removed from both texts)",
        ("cer-nospace",),
    ),
    "wer": ("WordErrorRate", "word error rate: word edits / reference words", ()),
    "levenshtein": ("EditDistance", "Levenshtein distance, mean per sample", ("edit-distance",)),
    "ned": (
        "NormalizedEditDistance",
        "edits / length of the longer string",
        ("normalized-edit-distance",),
    ),
    "jaro-winkler": ("JaroWinklerSimilarity", "Jaro-Winkler similarity, mean per sample", ("jw",)),
    "char-accuracy": ("CharacterAccuracy", "1 - CER, floored at 0 per sample", ()),
    "word-accuracy": ("WordAccuracy", "1 - WER, floored at 0 per sample", ()),
    "exact-match": ("ExactMatch", "share of samples read exactly right", ("sequence-accuracy",)),
}


def _factory(class_name: str):
    def build(options: object):
        from htrkit.metrics import text

        return getattr(text, class_name)()

    return build


@hookimpl
def htrkit_register_metrics() -> list[MetricSpec]:
    return [
        MetricSpec(name, _factory(cls), description, aliases=aliases)
        for name, (cls, description, aliases) in _METRICS.items()
    ]
