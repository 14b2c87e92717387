"""How well a line segmentation matches ground truth (``htrkit eval-seg``).

- **Lines:** each predicted line polygon is matched one-to-one to a ground-truth polygon,
  best intersection-over-union first; a pair counts when its IoU is at least the threshold
  (0.5). Precision is matched / predicted, recall matched / ground truth.
- **Baselines** (after the cBAD measure of Grüning et al. 2017, simplified): the share of
  a ground-truth baseline's length that lies within a tolerance of some predicted baseline
  is its recall; the share of a predicted baseline that lies within it of some ground-truth
  baseline is its precision. Page figures average over baselines. The tolerance is a fifth
  of the page's median ground-truth line height.

- **Regions:** where the ground truth gives text regions (ALTO ``TextBlock``, PAGE
  ``TextRegion``), a predicted line lying mostly (more than half its area) outside all of
  those that hold ground-truth lines is left out of both counts, much as cBAD's track A
  scores baselines within given text regions: a page transcribed only in part (one will
  among printed forms, say) does not mark correct lines in its untranscribed writing as
  false. ``score_page(..., regions=None)`` counts every line.

Polygons and baselines are drawn on a grid at most ``grid`` pixels a side, so a 6000x8000
scan costs what a small page does.

:func:`evaluate` runs a segmenter over ground-truth pages (any dataset reader's ``pages``,
:class:`htrkit.components.PageReader`) and scores it, and, given a pipeline, also reads
each page end to end; ``htrkit eval-seg`` parses its options and prints what it returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from htrkit.components import Segmenter
    from htrkit.pipeline import Pipeline
    from htrkit.results import Page

Point = tuple[float, float]


@dataclass
class PageScores:
    gt_lines: int
    predicted: int
    matched: int
    #: summed baseline coverages (divide by counts for means)
    baseline_recall_sum: float
    baseline_precision_sum: float
    gt_baselines: int
    predicted_baselines: int
    #: predicted lines left out: outside every ground-truth region
    ignored: int = 0


def _scale(width: int, height: int, grid: int) -> float:
    return min(1.0, grid / max(width, height, 1))


def _masks(polys: Sequence[Sequence[Point]], s: float):
    """Per polygon: its box on the grid and its filled mask within the box."""
    import cv2

    out = []
    for poly in polys:
        pts = np.asarray(poly, dtype=np.float64) * s
        if len(pts) < 3:
            out.append(None)
            continue
        x0, y0 = np.floor(pts.min(axis=0)).astype(int)
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 1
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(mask, [np.round(pts - (x0, y0)).astype(np.int32)], 1)
        out.append((x0, y0, x1, y1, mask.astype(bool)))
    return out


def iou_matrix(
    gt: Sequence[Sequence[Point]], pred: Sequence[Sequence[Point]], width: int, height: int,
    grid: int = 1500,
) -> np.ndarray:  # fmt: skip
    """IoU of every ground-truth polygon (rows) with every predicted one (columns)."""
    s = _scale(width, height, grid)
    a, b = _masks(gt, s), _masks(pred, s)
    out = np.zeros((len(gt), len(pred)))
    for i, ma in enumerate(a):
        if ma is None:
            continue
        ax0, ay0, ax1, ay1, am = ma
        for j, mb in enumerate(b):
            if mb is None:
                continue
            bx0, by0, bx1, by1, bm = mb
            x0, y0, x1, y1 = max(ax0, bx0), max(ay0, by0), min(ax1, bx1), min(ay1, by1)
            if x0 >= x1 or y0 >= y1:
                continue
            inter = np.count_nonzero(
                am[y0 - ay0 : y1 - ay0, x0 - ax0 : x1 - ax0]
                & bm[y0 - by0 : y1 - by0, x0 - bx0 : x1 - bx0]
            )
            union = am.sum() + bm.sum() - inter
            out[i, j] = inter / union if union else 0.0
    return out


def match(iou: np.ndarray, threshold: float = 0.5) -> list[tuple[int, int]]:
    """One-to-one pairs (gt, predicted) with IoU >= threshold, best first."""
    pairs = []
    if iou.size == 0:
        return pairs
    order = np.dstack(np.unravel_index(np.argsort(-iou, axis=None), iou.shape))[0]
    used_g, used_p = set(), set()
    for g, p in order:
        if iou[g, p] < threshold:
            break
        if g in used_g or p in used_p:
            continue
        used_g.add(int(g))
        used_p.add(int(p))
        pairs.append((int(g), int(p)))
    return pairs


def _samples(line: Sequence[Point], step: float) -> np.ndarray:
    """Points every ``step`` along a polyline."""
    pts = np.asarray(line, dtype=np.float64)
    out = [pts[:1]]
    for a, b in zip(pts[:-1], pts[1:]):
        n = max(int(np.ceil(np.hypot(*(b - a)) / step)), 1)
        t = np.linspace(0, 1, n + 1)[1:, None]
        out.append(a + t * (b - a))
    return np.concatenate(out)


def _coverage(
    lines: Sequence[Sequence[Point]], others: Sequence[Sequence[Point]], shape: tuple[int, int],
    s: float, tolerance: float,
) -> list[float]:  # fmt: skip
    """Per line of ``lines``: the share of its points within ``tolerance`` (page pixels)
    of some line of ``others``."""
    import cv2

    valid = [ln for ln in lines if len(ln) >= 2]
    if not valid:
        return []
    canvas = np.full(shape, 255, np.uint8)
    for other in others:
        if len(other) >= 2:
            pts = np.round(np.asarray(other, dtype=np.float64) * s).astype(np.int32)
            cv2.polylines(canvas, [pts], False, 0, 1)
    if (canvas == 255).all():
        return [0.0] * len(valid)
    distance = cv2.distanceTransform(canvas, cv2.DIST_L2, 3)
    out = []
    h, w = shape
    for ln in valid:
        pts = _samples([(x * s, y * s) for x, y in ln], 1.0)
        xs = np.clip(np.round(pts[:, 0]).astype(int), 0, w - 1)
        ys = np.clip(np.round(pts[:, 1]).astype(int), 0, h - 1)
        out.append(float(np.mean(distance[ys, xs] <= tolerance * s)))
    return out


def score_page(
    gt_polygons: Sequence[Sequence[Point]],
    gt_baselines: Sequence[Sequence[Point]],
    pred_polygons: Sequence[Sequence[Point]],
    pred_baselines: Sequence[Sequence[Point]],
    width: int,
    height: int,
    iou_threshold: float = 0.5,
    grid: int = 1500,
    regions: Sequence[Sequence[Point]] | None = None,
) -> PageScores:
    ignored = 0
    if regions:
        keep = counted(pred_polygons, regions, gt_polygons, width, height, grid)
        ignored = len(keep) - int(sum(keep))
        pred_polygons = [p for p, k in zip(pred_polygons, keep) if k]
        pred_baselines = [b for b, k in zip(pred_baselines, keep) if k]
    iou = iou_matrix(gt_polygons, pred_polygons, width, height, grid)
    matched = len(match(iou, iou_threshold))
    s = _scale(width, height, grid)
    shape = (max(int(np.ceil(height * s)) + 1, 1), max(int(np.ceil(width * s)) + 1, 1))
    heights = [np.ptp(np.asarray(p, dtype=np.float64)[:, 1]) for p in gt_polygons if len(p) >= 3]
    tolerance = max(0.2 * float(np.median(heights)) if heights else 10.0, 2.0)
    recall = _coverage(gt_baselines, pred_baselines, shape, s, tolerance)
    precision = _coverage(pred_baselines, gt_baselines, shape, s, tolerance)
    return PageScores(
        gt_lines=len(gt_polygons),
        predicted=len(pred_polygons),
        matched=matched,
        baseline_recall_sum=sum(recall),
        baseline_precision_sum=sum(precision),
        gt_baselines=len(recall),
        predicted_baselines=len(precision),
        ignored=ignored,
    )


def counted(
    pred_polygons: Sequence[Sequence[Point]], regions: Sequence[Sequence[Point]] | None,
    gt_polygons: Sequence[Sequence[Point]], width: int, height: int, grid: int = 1500,
) -> list[bool]:  # fmt: skip
    """Per predicted line: whether it is scored, i.e. lies mostly inside a region holding
    ground-truth lines (every line, when there are no such regions)."""
    kept = annotated(regions or [], gt_polygons, width, height, grid)
    if not kept:
        return [True] * len(pred_polygons)
    return inside_regions(pred_polygons, kept, width, height, grid)


def annotated(
    regions: Sequence[Sequence[Point]], gt_polygons: Sequence[Sequence[Point]], width: int,
    height: int, grid: int = 1500,
) -> list[Sequence[Point]]:  # fmt: skip
    """The regions holding (the larger part of) at least one ground-truth line: a region
    drawn but left without lines was not transcribed."""
    if not regions:
        return []
    s = _scale(width, height, grid)
    masks = _masks(gt_polygons, s)  # once, not once per region
    return [r for r in regions if any(_inside(masks, _region_mask([r], width, height, s)))]


def inside_regions(
    polygons: Sequence[Sequence[Point]], regions: Sequence[Sequence[Point]], width: int,
    height: int, grid: int = 1500, share: float = 0.5,
) -> list[bool]:  # fmt: skip
    """Per polygon: whether more than ``share`` of its area lies inside the regions."""
    s = _scale(width, height, grid)
    return _inside(_masks(polygons, s), _region_mask(regions, width, height, s), share)


def _region_mask(regions: Sequence[Sequence[Point]], width: int, height: int, s: float):
    import cv2

    shape = (max(int(np.ceil(height * s)) + 1, 1), max(int(np.ceil(width * s)) + 1, 1))
    mask = np.zeros(shape, np.uint8)
    for region in regions:
        if len(region) >= 3:
            cv2.fillPoly(mask, [np.round(np.asarray(region, np.float64) * s).astype(np.int32)], 1)
    return mask.astype(bool)


def _inside(masks: list, mask: np.ndarray, share: float = 0.5) -> list[bool]:
    """Per polygon mask (from :func:`_masks`): more than ``share`` of it inside ``mask``."""
    out = []
    for m in masks:
        if m is None:
            out.append(False)
            continue
        x0, y0, x1, y1, pm = m
        area = int(pm.sum())
        # the polygon's box may reach past the page: clip both to the mask
        cx0, cy0 = max(x0, 0), max(y0, 0)
        cx1, cy1 = min(x1, mask.shape[1]), min(y1, mask.shape[0])
        inside = 0
        if cx0 < cx1 and cy0 < cy1:
            sub = pm[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
            inside = int(np.count_nonzero(sub & mask[cy0:cy1, cx0:cx1]))
        out.append(area > 0 and inside > share * area)
    return out


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def summarise(pages: Sequence[PageScores]) -> dict[str, float]:
    """Totals over pages: line precision/recall/F1 (pooled counts) and baseline
    precision/recall/F1 (averaged over baselines)."""
    gt = sum(p.gt_lines for p in pages)
    pred = sum(p.predicted for p in pages)
    hit = sum(p.matched for p in pages)
    lp = hit / pred if pred else (1.0 if gt == 0 else 0.0)
    lr = hit / gt if gt else 1.0
    gb = sum(p.gt_baselines for p in pages)
    pb = sum(p.predicted_baselines for p in pages)
    br = sum(p.baseline_recall_sum for p in pages) / gb if gb else 1.0
    bp = sum(p.baseline_precision_sum for p in pages) / pb if pb else (1.0 if gb == 0 else 0.0)
    return {
        "pages": len(pages),
        "gt_lines": gt,
        "predicted_lines": pred,
        "ignored_lines": sum(p.ignored for p in pages),
        "line_precision": lp,
        "line_recall": lr,
        "line_f1": f1(lp, lr),
        "baseline_precision": bp,
        "baseline_recall": br,
        "baseline_f1": f1(bp, br),
    }


@dataclass
class SegmentationEvaluation:
    """What :func:`evaluate` found: the totals of :func:`summarise` with
    ``seconds_per_page`` (the segmenter alone) and, with a pipeline, ``page_cer`` (the
    pages read end to end) and ``true_line_cer`` (the same pipeline reading the true
    lines); and one row per page, with its ``page`` id and ``seconds``."""

    total: dict[str, float]
    pages: list[dict[str, Any]] = field(default_factory=list)


def evaluate(
    pages: Iterable[Page],
    segmenter: Segmenter,
    *,
    iou_threshold: float = 0.5,
    within_regions: bool = True,
    pipeline: Pipeline | None = None,
    advance: Callable[[int], None] | None = None,
) -> SegmentationEvaluation:
    """Segment each ground-truth page and score the lines found against its true lines.

    ``within_regions`` leaves out found lines lying mostly outside the page's annotated
    text regions (see the module docstring). With ``pipeline``, the lines just scored are
    read as that pipeline reads given lines, and so are the true lines; each page's text
    (its lines joined in reading order, whitespace collapsed) is scored against the true
    lines' text. ``advance(1)`` is called after each page (a progress bar)."""
    from htrkit.metrics.text import CharacterErrorRate
    from htrkit.results import Page

    cer = CharacterErrorRate()
    scores: list[PageScores] = []
    rows: list[dict[str, Any]] = []
    seconds = 0.0
    end_to_end: list[tuple[str, str]] = []
    on_truth: list[tuple[str, str]] = []
    for page in pages:
        truth_lines = page.lines or []
        h, w = page.image.shape[:2]
        start = time.perf_counter()
        found = segmenter.segment(page.image)
        took = time.perf_counter() - start
        seconds += took
        gt_polygons = [ln.polygon for ln in truth_lines]
        keep = counted([r.polygon for r in found], page.regions if within_regions else None,
                       gt_polygons, w, h)  # fmt: skip
        scored = [r for r, k in zip(found, keep) if k]
        score = score_page(
            gt_polygons,
            [ln.baseline for ln in truth_lines],
            [r.polygon for r in scored],
            [r.baseline for r in scored],
            w,
            h,
            iou_threshold,
        )
        score.ignored = len(found) - len(scored)
        scores.append(score)
        row: dict[str, Any] = {"page": page.id or page.source, "seconds": took,
                               **summarise([score])}  # fmt: skip
        if pipeline is not None:
            truth = " ".join(" ".join(ln.text or "" for ln in truth_lines).split())
            for lines, out in ((scored, end_to_end), (truth_lines, on_truth)):
                # the lines as given (not segmented again), read as the pipeline reads them
                read = pipeline(Page(page.source, page.image, list(lines))).text if lines else ""
                out.append((" ".join(read.split()), truth))
            row["page_cer"] = cer.corpus([end_to_end[-1][0]], [truth])
            row["true_line_cer"] = cer.corpus([on_truth[-1][0]], [truth])
        rows.append(row)
        if advance is not None:
            advance(1)
    total: dict[str, float] = summarise(scores)
    total["seconds_per_page"] = seconds / max(len(scores), 1)
    if pipeline is not None:
        total["page_cer"] = cer.corpus(*map(list, zip(*end_to_end))) if end_to_end else 0.0
        total["true_line_cer"] = cer.corpus(*map(list, zip(*on_truth))) if on_truth else 0.0
    return SegmentationEvaluation(total, rows)
