"""Options of the built-in preprocessors (kept apart so that listing them needs no numpy)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from htrkit.options import option

#: the largest line a model may ask for: 256 px high (models use 32-64), 16,384 px wide
#: (a 4,096 px line at 4x), 1,024 px of padding a side
MAX_HEIGHT = 256
MAX_WIDTH = 16384
MAX_PAD = 1024


@dataclass(frozen=True)
class ResizeHeightOptions:
    # bounds on every size: a model file from a stranger sets these, and memory follows
    height: int = option(32, "output height in pixels", min=4, max=MAX_HEIGHT)
    min_width: int = option(16, "narrowest output", min=1, max=MAX_WIDTH)
    max_width: int = option(4096, "widest output; wider lines are squeezed", min=1, max=MAX_WIDTH)


@dataclass(frozen=True)
class PadOptions:
    left: int = option(8, "white pixels added on the left", min=0, max=MAX_PAD)
    right: int = option(8, "white pixels added on the right", min=0, max=MAX_PAD)


@dataclass(frozen=True)
class NormalizeContrastOptions:
    low: float = option(1.0, "percentile of grey values mapped to black (ink)", min=0, max=100)
    high: float = option(90.0, "percentile of grey values mapped to white (paper)", min=0, max=100)
    min_range: float = option(
        32.0,
        "smallest ink-to-paper spread that is stretched to 0..255, so that a "
        "blank page is not turned into amplified noise",
        min=1,
        max=255,
    )

    def __post_init__(self) -> None:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")


@dataclass(frozen=True)
class DeslantOptions:
    max_angle: float = option(45.0, "largest slant corrected, in degrees either way", min=0, max=70)
    step: float = option(1.0, "angle search step in degrees", min=0.1, max=10)


@dataclass(frozen=True)
class BinarizeOptions:
    method: Literal["otsu", "sauvola"] = option(
        "otsu", "otsu: one global threshold; sauvola: local, for uneven lighting"
    )
    window: int = option(25, "sauvola window size in pixels", min=3, max=1001)
    k: float = option(0.2, "sauvola sensitivity: higher keeps less ink", min=0, max=1)


@dataclass(frozen=True)
class ResizeFixedOptions:
    height: int = option(32, "output height in pixels", min=4, max=MAX_HEIGHT)
    width: int = option(128, "output width in pixels", min=4, max=MAX_WIDTH)
    align: Literal["left", "center"] = option("left", "where the scaled image sits horizontally")
