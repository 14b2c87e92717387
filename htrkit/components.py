"""What each kind of component looks like: the objects that factories return.

These are :class:`typing.Protocol` classes, so a plugin needs no base class: any object with
the right methods works.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from htrkit.alphabet import Alphabet
    from htrkit.results import Decoding, LineRegion, LineResult, Page, Result


@runtime_checkable
class Decoder(Protocol):
    """Turns one line's CTC output into text."""

    def decode(self, log_probs: np.ndarray, alphabet: Alphabet) -> Decoding:
        """Decode ``log_probs``, a float ``[frames, classes]`` array of natural-log
        probabilities whose class 0 is the CTC blank, into text, a confidence in ``[0, 1]``
        and one :class:`~htrkit.results.CharAlignment` per output character."""
        ...


@runtime_checkable
class Preprocessor(Protocol):
    """Transforms a line image. It may also define
    ``inverse_x(xs, in_shape, out_shape) -> xs`` to map x positions in its output back to
    its input; without it, positions are scaled by the ratio of the widths."""

    def __call__(self, image: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Segmenter(Protocol):
    """Finds the text lines of a page image."""

    def segment(self, image: np.ndarray) -> list[LineRegion]:
        """Lines in reading order, in the image's pixel coordinates."""
        ...


@runtime_checkable
class Postprocessor(Protocol):
    """Rewrites a recognised line (its text, and its characters if it can keep them)."""

    def __call__(self, line: LineResult) -> LineResult: ...


@runtime_checkable
class Loader(Protocol):
    """Reads one input file into one or more pages."""

    def load(self, path: Path) -> Page: ...


@runtime_checkable
class Writer(Protocol):
    """Writes results to a text stream."""

    def write(self, results: Sequence[Result], stream: TextIO) -> None: ...


class Backbone(Protocol):
    """A ``torch.nn.Module`` from ``[B, 1, H, W]`` float images (ink high, in ``[0, 1]``),
    right-padded with zeros, and their true ``widths`` (a long tensor) to ``[B, T, classes]``
    logits. Recurrent backbones should keep the padding out of their state."""

    def __call__(self, images: Any, widths: Any = None) -> Any: ...

    def output_lengths(self, widths: Any) -> Any:
        """The number of output frames for inputs of these widths (a long tensor)."""
        ...
