"""The contract of each component kind: what its factory returns.

This module is the one place the contracts are written. Each registration record in
:mod:`htrkit.specs` names its kind's protocol (``DecoderSpec.protocol is Decoder``) and how
its factory is called (``DecoderSpec.call``); the plugin docs are generated from both
(``python tools/docgen.py --write``), and ``tests/test_contracts.py`` checks every
registered component of every kind against them.

These are :class:`typing.Protocol` classes, so a plugin needs no base class: any object with
the right methods works. Images are numpy ``uint8`` arrays, ``[H, W]`` (grey) or
``[H, W, 3]`` (RGB). Errors are :class:`htrkit.errors.HtrkitError` subclasses with a
one-line message naming the file or value at fault.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from htrkit.alphabet import Alphabet
    from htrkit.datasets.records import DatasetReport, Sample
    from htrkit.results import Decoding, LineRegion, LineResult, Page, Result


@runtime_checkable
class Loader(Protocol):
    """Reads one input file into one page. Loaders are chosen by file suffix (the spec's
    ``suffixes``), or by name (``--loader``, ``Pipeline(loader=...)``)."""

    def load(self, path: Path) -> Page:
        """The page in ``path``; a missing or unreadable file raises
        :class:`~htrkit.errors.InputError` naming it."""
        ...


@runtime_checkable
class DatasetReader(Protocol):
    """Reads a ground-truth collection (ALTO, PAGE-XML, a table, ...) into line samples
    for training and evaluation. A reader of whole pages also gives them, with their true
    lines, by a ``pages(path, report, skip_bad)`` method (:class:`PageReader`), so that
    segmenters can be scored on it."""

    def detect(self, path: Path) -> bool:
        """Whether ``path`` looks like this reader's format: cheap (no image decoding),
        and ``False``, never an error, for anything else."""
        ...

    def samples(self, path: Path, report: DatasetReport, skip_bad: bool) -> Iterator[Sample]:
        """The line samples under ``path`` (image, text, and the group, a page, document
        or writer, kept together in splits). A bad row raises
        :class:`~htrkit.datasets.DatasetError` naming the file and line, or, with
        ``skip_bad``, is counted with ``report.skip`` and left out."""
        ...


@runtime_checkable
class PageReader(DatasetReader, Protocol):
    """A dataset reader of page ground truth (ALTO, PAGE-XML, or a plugin's format): its
    pages as well as its lines. ``htrkit eval-seg`` scores a segmenter on any reader that
    has :meth:`pages`, and ``examples/recipes/train_segmenter.py`` trains on one."""

    def pages(self, path: Path, report: DatasetReport, skip_bad: bool) -> Iterator[Page]:
        """The pages under ``path``, each a :class:`~htrkit.results.Page` with its image,
        its true lines (:class:`~htrkit.results.LineRegion` with ``text``, ``polygon`` and,
        where known, ``baseline``), ``regions`` (the text-region outlines, ``[]`` when the
        format has none), ``id`` (the page's name within the dataset) and ``group`` (the
        unit kept together in splits, as for the page's samples). Pages without lines come
        too. Bad pages and lines are handled as in :meth:`samples`."""
        ...


@runtime_checkable
class Preprocessor(Protocol):
    """Transforms a line image before the model: ``step(image) -> image``. The chain a
    model was trained with is recorded in its file and replayed at inference;
    ``Pipeline(preprocess=...)`` and ``htrkit run --preprocess`` add steps before it.

    So that characters' positions can be given on the page, a step says how x positions
    in its output map back to its input, in one of three ways: ``apply(image) -> (image,
    xmap)`` returns the image and the map for that image alone (a step that decides per
    image: trim here, turn that line); ``inverse_x(xs, in_shape, out_shape) -> xs`` is one
    rule for every image; with neither, x is scaled by the ratio of the widths."""

    def __call__(self, image: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Segmenter(Protocol):
    """Finds the text lines of a page image."""

    def segment(self, image: np.ndarray) -> list[LineRegion]:
        """Lines in reading order, in the image's pixel coordinates, each inside the page;
        a page without writing gives an empty list.

        A segmenter that runs threads of its own may also have ``limit_threads(n)``: the
        pipeline calls it with its ``threads`` (or, for 0, the cores the process may use),
        so that the worker processes of a collection job (``--jobs``), a process pinned to
        some cores or a container do not run more threads than they have cores."""
        ...


@runtime_checkable
class Backbone(Protocol):
    """A ``torch.nn.Module`` from ``[B, 1, H, W]`` float images (ink 1, paper 0, in
    ``[0, 1]``), right-padded with zeros, and their true ``widths`` (a long tensor), to
    ``[B, T, num_classes]`` logits, class 0 the CTC blank. Recurrent backbones keep the
    padding out of their state. Import torch inside the factory."""

    def __call__(self, images: Any, widths: Any = None) -> Any: ...

    def output_lengths(self, widths: Any) -> Any:
        """The number of output frames for inputs of these widths (a long tensor)."""
        ...


@runtime_checkable
class ModelFile(Protocol):
    """A named model file, so that ``--model NAME`` and ``Pipeline(model=NAME)`` find it:
    the factory returns the path (a :class:`pathlib.Path`) of an htrkit model file
    (safetensors and its JSON configuration, see ``docs/model-format.md``)."""

    def __fspath__(self) -> str: ...


@runtime_checkable
class Decoder(Protocol):
    """Turns one line's CTC output into text."""

    def decode(self, log_probs: np.ndarray, alphabet: Alphabet) -> Decoding:
        """Decode ``log_probs``, a float ``[frames, classes]`` array of natural-log
        probabilities whose class 0 is the CTC blank (class ``i + 1`` is
        ``alphabet.chars[i]``), into text, a confidence in ``[0, 1]`` and one
        :class:`~htrkit.results.CharAlignment` per output character (frames
        ``[start, end)``), from which the pipeline places each character on the page."""
        ...


@runtime_checkable
class Postprocessor(Protocol):
    """Rewrites a recognised line (its text, and its characters if it can keep them in
    step with the text), keeping its geometry."""

    def __call__(self, line: LineResult) -> LineResult: ...


@runtime_checkable
class Metric(Protocol):
    """Scores predicted text against references. Subclass :class:`htrkit.metrics.Metric`
    to write only :meth:`statistics`."""

    #: whether a larger score is better (an accuracy) or worse (an error rate)
    higher_is_better: bool

    def statistics(self, prediction: str, reference: str) -> tuple[float, float]:
        """One pair's ``(numerator, denominator)``: a corpus score is the sum of the
        numerators over the sum of the denominators (total edits over total characters)."""
        ...

    def sample(self, prediction: str, reference: str) -> float:
        """The score of one pair."""
        ...

    def corpus(self, predictions: Sequence[str], references: Sequence[str]) -> float:
        """The score of a corpus."""
        ...


@runtime_checkable
class Writer(Protocol):
    """Writes results in an output format (``--format NAME``); the spec's ``suffix`` is
    the file extension and ``per_input`` says it writes one document per input."""

    def write(self, results: Sequence[Result], stream: TextIO) -> None:
        """Write ``results`` to a text stream."""
        ...
