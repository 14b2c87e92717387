"""Built-in line segmenters."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.segmenters.options import WholeImageOptions
from htrkit.specs import SegmenterSpec


def _whole(options: WholeImageOptions):
    from htrkit.segmenters.whole import WholeImageSegmenter

    return WholeImageSegmenter(options)


@hookimpl
def htrkit_register_segmenters() -> list[SegmenterSpec]:
    return [
        SegmenterSpec(
            "whole",
            _whole,
            "the whole image is one line (blank margins trimmed)",
            options=WholeImageOptions,
            aliases=("none",),
        ),
    ]
