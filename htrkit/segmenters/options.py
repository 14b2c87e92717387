"""Options of the built-in segmenters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from htrkit.options import option


@dataclass(frozen=True)
class WholeImageOptions:
    trim: bool = option(True, "crop blank margins around the ink before reading")
    margin: int = option(4, "pixels kept around the ink", min=0)
    margin_share: float = option(
        0.0,
        "more margin, as a share of the ink's height (a drawing scaled "
        "like the training lines: MNIST keeps 0.2 around its digits)",
        min=0.0,
    )


@dataclass(frozen=True)
class ProjectionOptions:
    max_skew: float = option(
        5.0, "largest page rotation searched, degrees either way", min=0, max=20
    )
    skew_step: float = option(0.25, "angle step of the skew search, degrees", min=0.05)
    min_ink: float = option(
        0.15,
        "a band with less ink than this share of the median line's is merged "
        "into its neighbour (dots, accents, stray descenders)",
        min=0,
        max=1,
    )
    margin: float = option(
        0.15, "space added above and below each line (share of line spacing)", min=0
    )
    work_width: int = option(1600, "pages wider than this are analysed at this width", min=200)


@dataclass(frozen=True)
class AutoOptions:
    line_aspect: float = option(
        2.0, "an image at least this many times wider than high is one line", min=0
    )
    line_height: int = option(160, "an image at most this high (pixels) is one line", min=0)
    trim: bool = option(True, "a line image: crop blank margins around the ink")
    margin: int = option(4, "a line image: pixels kept around the ink", min=0)


@dataclass(frozen=True)
class AStarOptions(ProjectionOptions):
    near_ink: float = option(
        4.0, "extra cost of a path step next to ink (fading over a fifth of a line height)", min=0
    )
    on_ink: float = option(50.0, "extra cost of a path step on ink", min=0)


@dataclass(frozen=True)
class LearnedOptions:
    model: str = option("default", "segmenter model file; 'default': the bundled one")
    threshold: float = option(
        0.5, "probability above which a pixel is a line's or a baseline's", min=0.0, max=1.0
    )
    min_length: float = option(
        0.06, "shortest baseline kept, as a share of the page width", min=0.0
    )
    join_gap: float = option(
        3.0, "widest gap, in line spacings, across which pieces of one baseline are joined", min=0.0
    )
    remove_rules: bool = option(
        True, "paint out ruled lines (thin straight runs) before the network reads the page"
    )
    gutter: float = option(
        1.0,
        "a gap wider than this many line spacings is joined across only "
        "where the line region runs on (not across a column gutter)",
        min=0.0,
    )
    backend: Literal["auto", "torch", "onnx"] = option(
        "auto",
        "what runs the network: torch, onnx (onnxruntime, the .onnx export beside the model) "
        "or auto (onnx when both are there)",
    )
