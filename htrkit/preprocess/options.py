"""Options of the built-in preprocessors (kept apart so that listing them needs no numpy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class ResizeHeightOptions:
    height: int = field(default=32, metadata={"help": "output height in pixels", "min": 4})
    min_width: int = field(default=16, metadata={"help": "narrowest output", "min": 1})
    max_width: int = field(
        default=4096, metadata={"help": "widest output; wider lines are squeezed", "min": 1}
    )


@dataclass(frozen=True)
class PadOptions:
    left: int = field(default=8, metadata={"help": "white pixels added on the left", "min": 0})
    right: int = field(default=8, metadata={"help": "white pixels added on the right", "min": 0})


@dataclass(frozen=True)
class NormalizeContrastOptions:
    low: float = field(
        default=1.0,
        metadata={"help": "percentile of grey values mapped to black (ink)", "min": 0, "max": 100},
    )
    high: float = field(
        default=90.0,
        metadata={
            "help": "percentile of grey values mapped to white (paper)",
            "min": 0,
            "max": 100,
        },
    )
    min_range: float = field(
        default=32.0,
        metadata={
            "help": "smallest ink-to-paper spread that is stretched to 0..255, so that a "
            "blank page is not turned into amplified noise",
            "min": 1,
            "max": 255,
        },
    )

    def __post_init__(self) -> None:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")


@dataclass(frozen=True)
class DeslantOptions:
    max_angle: float = field(
        default=45.0,
        metadata={"help": "largest slant corrected, in degrees either way", "min": 0, "max": 70},
    )
    step: float = field(
        default=1.0, metadata={"help": "angle search step in degrees", "min": 0.1, "max": 10}
    )


@dataclass(frozen=True)
class BinarizeOptions:
    method: Literal["otsu", "sauvola"] = field(
        default="otsu",
        metadata={"help": "otsu: one global threshold; sauvola: local, for uneven lighting"},
    )
    window: int = field(
        default=25, metadata={"help": "sauvola window size in pixels", "min": 3, "max": 1001}
    )
    k: float = field(
        default=0.2,
        metadata={"help": "sauvola sensitivity: higher keeps less ink", "min": 0, "max": 1},
    )


@dataclass(frozen=True)
class ResizeFixedOptions:
    height: int = field(default=32, metadata={"help": "output height in pixels", "min": 4})
    width: int = field(default=128, metadata={"help": "output width in pixels", "min": 4})
    align: Literal["left", "center"] = field(
        default="left", metadata={"help": "where the scaled image sits horizontally"}
    )
