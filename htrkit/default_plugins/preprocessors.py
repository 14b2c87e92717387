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

PREPROCESSORS = [
    PreprocessorSpec(
        "grayscale", "htrkit.preprocess.basic:Grayscale", "convert RGB to grey", aliases=("gray",)
    ),
    PreprocessorSpec(
        "resize-height",
        "htrkit.preprocess.basic:ResizeHeight",
        "scale to a fixed height, keeping the aspect ratio",
        options=ResizeHeightOptions,
    ),
    PreprocessorSpec(
        "pad", "htrkit.preprocess.basic:Pad", "add white margins left and right", options=PadOptions
    ),
    PreprocessorSpec(
        "normalize-contrast",
        "htrkit.preprocess.enhance:NormalizeContrast",
        "stretch grey values so that paper is white and ink black (percentiles)",
        options=NormalizeContrastOptions,
        aliases=("normalise-contrast",),
    ),
    PreprocessorSpec(
        "deslant",
        "htrkit.preprocess.enhance:Deslant",
        "estimate the slant of the writing and shear it upright",
        options=DeslantOptions,
    ),
    PreprocessorSpec(
        "binarize",
        "htrkit.preprocess.enhance:Binarize",
        "black ink on white paper, by Otsu or Sauvola thresholding",
        options=BinarizeOptions,
        aliases=("binarise",),
    ),
    PreprocessorSpec(
        "resize-fixed",
        "htrkit.preprocess.enhance:ResizeFixed",
        "scale to fit a fixed box (32x128 for word models) and pad with white",
        options=ResizeFixedOptions,
    ),
]


@hookimpl
def htrkit_register_preprocessors() -> list[PreprocessorSpec]:
    return PREPROCESSORS
