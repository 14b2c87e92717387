"""Plain dataclasses passed between pipeline stages and returned to the user."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

Point = tuple[float, float]


@dataclass
class LineRegion:
    """A text line on a page: where it is and, for ground truth, what it says.

    ``polygon`` is the line's outline and ``baseline`` its baseline, both as ``(x, y)``
    points in page pixels; ``bbox`` is ``(x0, y0, x1, y1)``. Segmenters give the geometry;
    dataset readers of page ground truth (ALTO, PAGE) also give ``id``, ``text`` and
    ``types``.
    """

    bbox: tuple[int, int, int, int]
    polygon: list[Point] = field(default_factory=list)
    baseline: list[Point] = field(default_factory=list)
    id: str | None = None
    text: str | None = None
    #: what the layout file calls the line (ALTO ``TAGREFS`` labels, PAGE structure type)
    types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.polygon:
            x0, y0, x1, y1 = self.bbox
            self.polygon = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]

    @classmethod
    def from_polygon(
        cls, polygon: list[Point], baseline: list[Point] | None = None, id: str | None = None,
        text: str | None = None, types: tuple[str, ...] = (),
    ) -> LineRegion:  # fmt: skip
        """A line given by its outline (at least one point); its box is the outline's
        bounding box, rounded outwards to whole pixels."""
        xs = [p[0] for p in polygon]
        ys = [p[1] for p in polygon]
        bbox = (math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys)))
        return cls(bbox, list(polygon), list(baseline or []), id, text, types)


@dataclass
class Page:
    """An input image, possibly with known lines: from a loader that reads them, or, as
    ground truth, from a dataset reader's ``pages`` (then with ``regions``, ``id`` and
    ``group`` too, and each line's text)."""

    source: str
    image: Any  # np.ndarray, uint8, [H, W] or [H, W, 3]
    lines: list[LineRegion] | None = None
    #: text-region outlines (ALTO ``TextBlock``, PAGE ``TextRegion``); where a page is
    #: annotated only in part, the annotated area
    regions: list[list[Point]] = field(default_factory=list)
    #: the page's name within its dataset (its file's path below the dataset folder,
    #: without suffix)
    id: str | None = None
    #: the unit a train/validation split keeps together (page, document, writer)
    group: str | None = None

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


class CharAlignment(NamedTuple):
    """Where a decoded character was emitted: CTC frames ``[start, end)`` and its probability.

    A named tuple (immutable, and made ten thousand times a second by the greedy decoder)."""

    char: str
    start: int
    end: int
    prob: float


@dataclass
class Decoding:
    """What a decoder returns for one line."""

    text: str
    confidence: float
    chars: list[CharAlignment] = field(default_factory=list)
    #: what a decoder wants known about this line, e.g. ``{"pattern": "fallback"}`` when a
    #: pattern-constrained decoder found no matching text and decoded without it
    flags: dict[str, Any] = field(default_factory=dict)


@dataclass
class CharResult:
    """A recognised character and its horizontal extent in the input image."""

    char: str
    x0: float
    x1: float
    prob: float
    frame: int


@dataclass
class WordResult:
    """A recognised word (a run of characters between spaces): its horizontal extent in
    the input image and its confidence, the geometric mean of its characters'."""

    text: str
    x0: float
    x1: float
    confidence: float


@dataclass
class LineResult:
    """A recognised line: its geometry on the page, text and confidence."""

    text: str
    confidence: float
    bbox: tuple[int, int, int, int]
    polygon: list[Point] = field(default_factory=list)
    baseline: list[Point] = field(default_factory=list)
    chars: list[CharResult] = field(default_factory=list)
    id: str | None = None
    flags: dict[str, Any] = field(default_factory=dict)

    @property
    def words(self) -> list[WordResult]:
        """The line's words, placed by its characters (empty when the decoder gave none).

        The words are the text's: a postprocessor that changed the text but not the
        characters (``line.text = line.text.upper()``) keeps each word's place when the
        words are as many, and gets none (the writers then take the whole line as one word)
        when they are not, rather than the old words."""
        placed = self._words_of_chars()
        texts = self.text.split()
        if [w.text for w in placed] == texts:
            return placed
        if len(placed) != len(texts):
            return []
        return [WordResult(t, w.x0, w.x1, w.confidence) for t, w in zip(texts, placed)]

    def _words_of_chars(self) -> list[WordResult]:
        words, run = [], []
        for char in [*self.chars, None]:
            if char is not None and not char.char.isspace():
                run.append(char)
            elif run:
                probs = [max(c.prob, 1e-12) for c in run]
                confidence = math.exp(sum(math.log(p) for p in probs) / len(probs))
                text = "".join(c.char for c in run)
                words.append(WordResult(text, run[0].x0, run[-1].x1, confidence))
                run = []
        return words


@dataclass
class Result:
    """What :class:`htrkit.Pipeline` returns for one input.

    ``error`` is set, and ``lines`` empty, when the input failed in a batch run with
    ``errors="collect"``.
    """

    source: str
    width: int
    height: int
    lines: list[LineResult] = field(default_factory=list)
    error: str | None = None
    #: the page's language (ISO 639-1: ``en``, ``fr``, ``de``): the one ``lang="auto"``
    #: chose, or the one ``Pipeline(lang=...)`` named (whatever the decoder reads with);
    #: ``None`` otherwise (``mixed``, or a model with no language)
    lang: str | None = None

    @property
    def text(self) -> str:
        """The full text, one line per recognised line (lines flagged ``low_confidence``,
        below the pipeline's ``min_confidence``, left out)."""
        return "\n".join(line.text for line in self.lines if not line.flags.get("low_confidence"))

    @property
    def confidence(self) -> float:
        """The mean line confidence, weighted by line length (0 when nothing was read)."""
        weights = [max(len(line.text), 1) for line in self.lines]
        if not weights:
            return 0.0
        return sum(w * line.confidence for w, line in zip(weights, self.lines)) / sum(weights)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, with ``text`` and ``confidence`` included."""
        d = asdict(self)
        for line, out in zip(self.lines, d["lines"]):
            out["words"] = [asdict(w) for w in line.words]
        d["text"] = self.text
        d["confidence"] = self.confidence
        return d
