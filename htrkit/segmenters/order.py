"""Reading order of the lines found on a page: a recursive XY cut of their boxes.

The lines are split in two at the widest gap that no line's box crosses, horizontal (the
upper part read first) or vertical (the left part first), whichever is wider, a vertical
one only between parts that stand side by side; each part is split again, and so on. A
single column reads top to bottom; two columns read the left one first; a note in a left
margin beside the whole text is read before it, one beside a few lines before those
lines. Lines that no gap separates read by their vertical centres.
"""

from __future__ import annotations

from collections.abc import Sequence

Box = tuple[float, float, float, float]


def reading_order(boxes: Sequence[Box], min_gap: float = 1.0) -> list[int]:
    """Indices of ``boxes`` (x0, y0, x1, y1) in reading order. A gap must be at least
    ``min_gap`` pixels to cut at."""
    return _order(list(range(len(boxes))), boxes, min_gap)


def _order(ids: list[int], boxes: Sequence[Box], min_gap: float) -> list[int]:
    if len(ids) <= 1:
        return ids
    rows, row_gap = _split(ids, boxes, min_gap, along_y=True)
    cols, col_gap = _split(ids, boxes, min_gap, along_y=False)
    # columns stand side by side: parts one above the other are read by rows, however
    # wide the gap between them sideways
    if col_gap > row_gap and _overlap(cols, boxes) <= 0:
        col_gap = 0.0
    groups = cols if col_gap > row_gap else rows
    if len(groups) > 1:
        return [i for group in groups for i in _order(group, boxes, min_gap)]
    return sorted(ids, key=lambda i: ((boxes[i][1] + boxes[i][3]) / 2, boxes[i][0]))


def _split(
    ids: list[int], boxes: Sequence[Box], min_gap: float, along_y: bool
) -> tuple[list[list[int]], float]:
    """The lines in two groups, either side of the widest gap (in y when ``along_y``, else
    in x) that no line's extent crosses, and that gap (0 and one group: none)."""
    lo, hi = (1, 3) if along_y else (0, 2)
    spans = sorted(ids, key=lambda i: boxes[i][lo])
    reach = boxes[spans[0]][hi]
    widest, at = 0.0, 0
    for k, i in enumerate(spans[1:], start=1):
        gap = boxes[i][lo] - reach
        if gap >= min_gap and gap > widest:
            widest, at = gap, k
        reach = max(reach, boxes[i][hi])
    if not at:
        return [ids], 0.0
    return [spans[:at], spans[at:]], widest


def _overlap(groups: list[list[int]], boxes: Sequence[Box]) -> float:
    """How far the vertical extents of two groups of lines overlap (negative: apart)."""
    if len(groups) != 2:
        return 0.0
    (a, b) = [(min(boxes[i][1] for i in g), max(boxes[i][3] for i in g)) for g in groups]
    return min(a[1], b[1]) - max(a[0], b[0])
