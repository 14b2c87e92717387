"""The preprocessing chain: steps applied in order, with x positions mapped back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from htrkit.errors import ConfigError, HtrkitError, ModelError

XMap = Callable[[np.ndarray], np.ndarray]


def standard_steps(kind: Any, height: int) -> list[dict[str, Any]]:
    """The chain for ``"line"`` (grey, fixed height, variable width, white margins) or
    ``"word"`` (grey, fixed ``height`` x ``4 * height`` box); a list of steps passes through."""
    if kind == "line":
        return [
            {"name": "grayscale", "options": {}},
            {"name": "resize-height", "options": {"height": height}},
            {"name": "pad", "options": {"left": 8, "right": 8}},
        ]
    if kind == "word":
        return [
            {"name": "grayscale", "options": {}},
            {"name": "resize-fixed", "options": {"height": height, "width": 4 * height}},
        ]
    if isinstance(kind, list):
        return [dict(step) for step in kind]
    raise ConfigError(f"preprocess must be 'line', 'word' or a list of steps, got {kind!r}")


class PreprocessChain:
    """Preprocessors applied in order, remembering how to map x positions back.

    A step is a callable ``(image) -> image``. Its x positions are mapped back by, in this
    order of preference: its ``apply(image) -> (image, xmap)``, which returns the image and
    the map for that image alone (a step that decides per image: turn this line, trim that
    one); its ``inverse_x(xs, in_shape, out_shape)``, a fixed rule; or, for neither, the
    ratio of the widths.
    """

    def __init__(self, steps: Sequence[Any], names: Sequence[str] = ()):
        self.steps = list(steps)
        self.names = list(names)

    @classmethod
    def from_config(cls, config: Sequence[dict[str, Any]], *, source: str) -> PreprocessChain:
        """Build the chain recorded in a model file: ``[{"name", "options"}, ...]``."""
        from htrkit.plugins import registry

        steps = []
        try:
            for step in config:
                steps.append(registry("preprocessor").create(step["name"], step.get("options")))
        except HtrkitError as exc:
            raise ModelError(f"{source}: preprocess: {exc}") from None
        return cls(steps, [s["name"] for s in config])

    def __add__(self, other: PreprocessChain) -> PreprocessChain:
        return PreprocessChain(self.steps + other.steps, self.names + other.names)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.run(image)[0]

    def run(self, image: np.ndarray) -> tuple[np.ndarray, XMap]:
        """The processed image and a function from its x positions to the input's."""
        maps = []
        for step in self.steps:
            apply = getattr(step, "apply", None)
            if apply is not None:
                image, inverse = apply(image)
                maps.append(inverse)
                continue
            before = image.shape
            image = step(image)
            maps.append(_inverse(step, before, image.shape))

        def to_input(xs: np.ndarray) -> np.ndarray:
            for inverse in reversed(maps):
                xs = inverse(xs)
            return xs

        return image, to_input


def _inverse(step: Any, before: tuple[int, ...], after: tuple[int, ...]) -> XMap:
    custom = getattr(step, "inverse_x", None)
    if custom is not None:
        return lambda xs: custom(xs, before, after)
    scale = before[1] / max(after[1], 1)
    return lambda xs: np.asarray(xs, dtype=np.float64) * scale
