"""Learning-rate schedules: linear warm-up, then cosine decay, plateau halving or constant.

The schedule is a pure function of the step (and, for plateau, of a small JSON state), so
resuming needs no pickled scheduler object.
"""

from __future__ import annotations

import math
from typing import Any


class LRSchedule:
    def __init__(self, base_lr: float, warmup: int, total: int, kind: str, min_ratio: float = 0.02):
        self.base_lr = base_lr
        self.warmup = warmup
        self.total = max(total, 1)
        self.kind = kind
        self.min_ratio = min_ratio
        self.plateau_scale = 1.0
        self.plateau_best = math.inf
        self.plateau_bad = 0

    def lr(self, step: int) -> float:
        if self.warmup and step < self.warmup:
            return self.base_lr * (step + 1) / self.warmup
        if self.kind == "cosine":
            progress = min((step - self.warmup) / max(self.total - self.warmup, 1), 1.0)
            scale = self.min_ratio + (1 - self.min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
            return self.base_lr * scale
        if self.kind == "plateau":
            return self.base_lr * self.plateau_scale
        return self.base_lr

    def observe(self, metric: float, patience: int = 2, factor: float = 0.5) -> None:
        """For ``plateau``: halve the rate after ``patience`` evaluations without progress."""
        if metric < self.plateau_best - 1e-6:
            self.plateau_best, self.plateau_bad = metric, 0
        else:
            self.plateau_bad += 1
            if self.plateau_bad >= patience:
                self.plateau_scale = max(self.plateau_scale * factor, self.min_ratio)
                self.plateau_bad = 0

    def state(self) -> dict[str, Any]:
        best = None if math.isinf(self.plateau_best) else self.plateau_best
        return {"scale": self.plateau_scale, "best": best, "bad": self.plateau_bad}

    def load(self, state: dict[str, Any]) -> None:
        self.plateau_scale = state["scale"]
        self.plateau_best = math.inf if state["best"] is None else state["best"]
        self.plateau_bad = state["bad"]
