"""Built-in line segmenters."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.segmenters.options import (
    AStarOptions,
    AutoOptions,
    LearnedOptions,
    ProjectionOptions,
    WholeImageOptions,
)
from htrkit.specs import SegmenterSpec

SEGMENTERS = [
    SegmenterSpec(
        "auto",
        "htrkit.segmenters.auto:AutoSegmenter",
        "a line or word image is read whole (trimmed); a page goes to 'learned'",
        options=AutoOptions,
    ),
    SegmenterSpec(
        "whole",
        "htrkit.segmenters.whole:WholeImageSegmenter",
        "the whole image is one line (blank margins trimmed)",
        options=WholeImageOptions,
        aliases=("none",),
    ),
    SegmenterSpec(
        "projection",
        "htrkit.segmenters.projection:ProjectionSegmenter",
        "lines of a clean single-column page from ink profiles, with deskewing",
        options=ProjectionOptions,
    ),
    SegmenterSpec(
        "astar",
        "htrkit.segmenters.astar:AStarSegmenter",
        "lines found as 'projection' does, separated by A* paths around the ink "
        "(touching ascenders and descenders)",
        options=AStarOptions,
    ),
    SegmenterSpec(
        "learned",
        "htrkit.segmenters.learned:LearnedSegmenter",
        "a small trained pixel classifier finds line regions and baselines (real scans: "
        "stamps, marginalia, ruled paper)",
        options=LearnedOptions,
    ),
]


@hookimpl
def htrkit_register_segmenters() -> list[SegmenterSpec]:
    return SEGMENTERS
