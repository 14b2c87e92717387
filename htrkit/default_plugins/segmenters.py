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


def _whole(options: WholeImageOptions):
    from htrkit.segmenters.whole import WholeImageSegmenter

    return WholeImageSegmenter(options)


def _projection(options: ProjectionOptions):
    from htrkit.segmenters.projection import ProjectionSegmenter

    return ProjectionSegmenter(options)


def _astar(options: AStarOptions):
    from htrkit.segmenters.astar import AStarSegmenter

    return AStarSegmenter(options)


def _learned(options: LearnedOptions):
    from htrkit.segmenters.learned import LearnedSegmenter

    return LearnedSegmenter(options)


def _auto(options: AutoOptions):
    from htrkit.segmenters.auto import AutoSegmenter

    return AutoSegmenter(options)


@hookimpl
def htrkit_register_segmenters() -> list[SegmenterSpec]:
    return [
        SegmenterSpec(
            "auto",
            _auto,
            "a line or word image is read whole (trimmed); a page goes to 'learned'",
            options=AutoOptions,
        ),
        SegmenterSpec(
            "whole",
            _whole,
            "the whole image is one line (blank margins trimmed)",
            options=WholeImageOptions,
            aliases=("none",),
        ),
        SegmenterSpec(
            "projection",
            _projection,
            "lines of a clean single-column page from ink profiles, with deskewing",
            options=ProjectionOptions,
        ),
        SegmenterSpec(
            "astar",
            _astar,
            "lines found as 'projection' does, separated by A* paths around the ink "
            "(touching ascenders and descenders)",
            options=AStarOptions,
        ),
        SegmenterSpec(
            "learned",
            _learned,
            "a small trained pixel classifier finds line regions and baselines (real scans: "
            "stamps, marginalia, ruled paper)",
            options=LearnedOptions,
        ),
    ]
