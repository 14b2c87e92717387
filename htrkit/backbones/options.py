"""Options of the built-in backbones (kept apart so that listing them needs no torch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from htrkit.options import option

#: bounds on what a model file may ask to allocate: a 256 px high input, 4,096 units a
#: direction (the built-in models use 48 px and 128-256 units)
MAX_HEIGHT = 256
MAX_UNITS = 4096


@dataclass(frozen=True)
class CRNNSmallOptions:
    height: int = option(32, "input height (a multiple of 8)", min=8, max=MAX_HEIGHT)
    hidden: int = option(128, "LSTM units per direction", min=8, max=MAX_UNITS)
    dropout: float = option(0.2, "dropout before the LSTM", min=0.0, max=0.9)

    def __post_init__(self) -> None:
        if self.height % 8:
            raise ValueError(f"height must be a multiple of 8, got {self.height}")


@dataclass(frozen=True)
class CRNNVGGOptions:
    height: int = option(32, "input height (a multiple of 16, at least 32)", min=32, max=MAX_HEIGHT)
    hidden: int = option(256, "LSTM units per direction", min=8, max=MAX_UNITS)
    dropout: float = option(0.2, "dropout before and between the LSTMs", min=0.0, max=0.9)

    def __post_init__(self) -> None:
        # four pools halve the height 16x, then the unpadded 2x2 conv takes one row off:
        # 32 -> 1 row, 48 -> 2, 64 -> 3 (rows are folded into the LSTM features)
        if self.height % 16 or self.height < 32:
            raise ValueError(f"height must be a multiple of 16 and at least 32, got {self.height}")


@dataclass(frozen=True)
class ResNetBLSTMOptions:
    height: int = option(32, "input height (a multiple of 16)", min=16, max=MAX_HEIGHT)
    hidden: int = option(256, "units per direction of the first BiLSTM", min=8, max=MAX_UNITS)
    hidden2: int = option(64, "units per direction of the second BiLSTM", min=8, max=MAX_UNITS)
    dropout: float = option(
        0.2, "dropout after each residual block and each BiLSTM", min=0.0, max=0.9
    )

    def __post_init__(self) -> None:
        # four stride-2 blocks halve the height 16x: 32 -> 2 rows, 64 -> 4, 96 -> 6
        if self.height % 16:
            raise ValueError(f"height must be a multiple of 16, got {self.height}")


@dataclass(frozen=True)
class PPOCROptions:
    size: Literal["tiny", "small"] = option(
        "tiny", "PP-OCRv6 size: 'tiny' or 'small' (0.56 or 3.0 M parameters at 158 classes)"
    )
    height: int = option(
        48, "input height (a multiple of 16; the released weights use 48)", min=16, max=MAX_HEIGHT
    )
    dropout: float = option(
        0.1,
        "dropout in the SVTR neck's MLPs and attention output (small), before the CTC head (tiny)",
        min=0.0,
        max=0.9,
    )
    attention_dropout: float = option(
        0.1, "dropout on the attention weights (small only)", min=0.0, max=0.9
    )
    freeze_norm: bool = option(
        False,
        "batch norms keep their running statistics in training too (for "
        "fine-tuning with small batches)",
    )

    def __post_init__(self) -> None:
        if self.size not in ("tiny", "small"):
            raise ValueError(f"size must be 'tiny' or 'small', got {self.size!r}")
        # the stem and two blocks halve the height 16x; the last pool averages what is left
        if self.height % 16:
            raise ValueError(f"height must be a multiple of 16, got {self.height}")
