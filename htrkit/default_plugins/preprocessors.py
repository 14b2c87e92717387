"""Built-in preprocessors."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.preprocess.options import PadOptions, ResizeHeightOptions
from htrkit.specs import PreprocessorSpec


def _grayscale(options: object):
    from htrkit.preprocess.basic import grayscale

    return grayscale


def _resize_height(options: ResizeHeightOptions):
    from htrkit.preprocess.basic import ResizeHeight

    return ResizeHeight(options)


def _pad(options: PadOptions):
    from htrkit.preprocess.basic import Pad

    return Pad(options)


@hookimpl
def htrkit_register_preprocessors() -> list[PreprocessorSpec]:
    return [
        PreprocessorSpec("grayscale", _grayscale, "convert RGB to grey", aliases=("gray",)),
        PreprocessorSpec(
            "resize-height",
            _resize_height,
            "scale to a fixed height, keeping the aspect ratio",
            options=ResizeHeightOptions,
        ),
        PreprocessorSpec("pad", _pad, "add white margins left and right", options=PadOptions),
    ]
