"""Options of the built-in preprocessors (kept apart so that listing them needs no numpy)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
