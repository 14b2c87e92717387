"""Options of the built-in decoders (kept apart so that listing them needs no numpy)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GreedyOptions:
    """The greedy decoder takes no tuning."""


@dataclass(frozen=True)
class BeamOptions:
    beam_width: int = field(default=10, metadata={"help": "prefixes kept per frame", "min": 1})
    char_prune: float = field(
        default=1e-3,
        metadata={
            "help": "ignore characters below this probability in a frame",
            "min": 0.0,
            "max": 1.0,
        },
    )
