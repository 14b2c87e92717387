"""Options of the built-in backbones (kept apart so that listing them needs no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CRNNSmallOptions:
    height: int = field(default=32, metadata={"help": "input height (a multiple of 8)", "min": 8})
    hidden: int = field(default=128, metadata={"help": "LSTM units per direction", "min": 8})
    dropout: float = field(
        default=0.2, metadata={"help": "dropout before the LSTM", "min": 0.0, "max": 0.9}
    )

    def __post_init__(self) -> None:
        if self.height % 8:
            raise ValueError(f"height must be a multiple of 8, got {self.height}")
