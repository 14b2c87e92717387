"""Options of the built-in segmenters."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class WholeImageOptions:
    trim: bool = field(
        default=True, metadata={"help": "crop blank margins around the ink before reading"}
    )
    margin: int = field(default=4, metadata={"help": "pixels kept around the ink", "min": 0})
