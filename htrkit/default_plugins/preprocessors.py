"""Built-in preprocessors."""

from __future__ import annotations

from htrkit.hookspecs import hookimpl
from htrkit.preprocess.options import (
    BinarizeOptions,
    DeslantOptions,
    NormalizeContrastOptions,
    PadOptions,
    ResizeFixedOptions,
    ResizeHeightOptions,
)
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


def _normalize_contrast(options: NormalizeContrastOptions):
    from htrkit.preprocess.enhance import NormalizeContrast

    return NormalizeContrast(options)


def _deslant(options: DeslantOptions):
    from htrkit.preprocess.enhance import Deslant

    return Deslant(options)


def _binarize(options: BinarizeOptions):
    from htrkit.preprocess.enhance import Binarize

    return Binarize(options)


def _resize_fixed(options: ResizeFixedOptions):
    from htrkit.preprocess.enhance import ResizeFixed

    return ResizeFixed(options)


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
        PreprocessorSpec(
            "normalize-contrast",
            _normalize_contrast,
            "stretch grey values so that paper is white and ink black (percentiles)",
            options=NormalizeContrastOptions,
            aliases=("normalise-contrast",),
        ),
        PreprocessorSpec(
            "deslant",
            _deslant,
            "estimate the slant of the writing and shear it upright",
            options=DeslantOptions,
        ),
        PreprocessorSpec(
            "binarize",
            _binarize,
            "black ink on white paper, by Otsu or Sauvola thresholding",
            options=BinarizeOptions,
            aliases=("binarise",),
        ),
        PreprocessorSpec(
            "resize-fixed",
            _resize_fixed,
            "scale to fit a fixed box (32x128 for word models) and pad with white",
            options=ResizeFixedOptions,
        ),
    ]
