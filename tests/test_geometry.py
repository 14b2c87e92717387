"""Cutting lines out of pages: straightening a line along its baseline."""

from __future__ import annotations

import math

import cv2
import numpy as np

from htrkit.geometry import crop_line, straighten_line
from htrkit.results import LineRegion


def uphill_page(angle: float, text: str = "uphill writing here", width: int = 900):
    """A white page with one line of text rotated ``angle`` degrees (rising to the
    right), its outline and its baseline in page coordinates."""
    line = np.full((70, width), 255, np.uint8)
    cv2.putText(line, text, (20, 50), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 3, cv2.LINE_AA)
    page = np.full((900, 1400), 255, np.uint8)
    centre = (700.0, 450.0)
    matrix = cv2.getRotationMatrix2D((width / 2, 35.0), angle, 1.0)
    matrix[:, 2] += np.array(centre) - (width / 2, 35.0)
    page = cv2.warpAffine(line, matrix, (1400, 900), borderValue=255)

    def to_page(points):
        pts = np.hstack([np.asarray(points, np.float64), np.ones((len(points), 1))])
        return [(float(x), float(y)) for x, y in pts @ matrix.T]

    outline = to_page([(0, 0), (width, 0), (width, 70), (0, 70)])
    baseline = to_page([(0, 50), (width, 50)])
    return page, LineRegion.from_polygon(outline, baseline)


def drift(image: np.ndarray) -> float:
    """How far the writing's height wanders across the line: the spread of the columns'
    ink centres (pixels)."""
    ink = image < 128
    columns = np.flatnonzero(ink.sum(axis=0) > 2)
    rows = np.arange(image.shape[0])[:, None]
    centres = (ink * rows).sum(axis=0)[columns] / ink.sum(axis=0)[columns]
    return float(np.std(centres))


def test_an_uphill_line_comes_out_level_and_keeps_its_x_positions():
    angle = 12.0
    page, region = uphill_page(angle)
    plain = crop_line(page, region, straighten=False)
    level = crop_line(page, region)
    assert level.shape[1] == plain.shape[1]  # columns only move up or down
    # the box holds the writing plus its rise over 900 px (about 190 px); straightened,
    # the crop is about the line's own height and the writing no longer climbs
    rise = 900 * math.sin(math.radians(angle))
    assert plain.shape[0] > rise
    assert level.shape[0] < 0.55 * plain.shape[0]
    assert drift(plain) > 15 and drift(level) < 0.3 * drift(plain)
    # the ink of each column stays in its column: same amount per column, within the
    # blur of resampling
    ink_plain = (plain < 128).sum(axis=0).astype(float)
    ink_level = (level < 128).sum(axis=0).astype(float)
    assert abs(ink_plain.sum() - ink_level.sum()) < 0.05 * ink_plain.sum()
    columns = np.flatnonzero(ink_plain > 3)
    assert np.corrcoef(ink_plain[columns], ink_level[columns])[0, 1] > 0.9


def test_a_level_or_missing_baseline_leaves_the_crop_as_it_was():
    page, region = uphill_page(0.0)
    assert np.array_equal(crop_line(page, region), crop_line(page, region, straighten=False))
    boxed = LineRegion.from_polygon(region.polygon)  # no baseline
    assert np.array_equal(crop_line(page, boxed), crop_line(page, boxed, straighten=False))


def test_straightening_takes_any_baseline_and_leaves_level_writing_alone():
    # writing that climbs 100 px over 300, a baseline under it given out of order, with a
    # repeated x and a point past the crop's end
    crop = np.full((140, 300), 255, np.uint8)  # white outside the line's outline
    for x in range(300):
        top = 100 - x // 3
        crop[max(top - 10, 0) : top + 30, x] = 200  # paper inside it
        crop[top : top + 20, x] = 0
    baseline = [(250.0, 37.0), (0.0, 120.0), (0.0, 121.0), (400.0, 3.0)]
    out = straighten_line(crop, baseline, (0, 0))
    assert out.shape[1] == 300 and out.shape[0] < 0.5 * crop.shape[0]
    assert straighten_line(crop, [(5.0, 50.0)], (0, 0)) is crop  # one point: no line
    # colour pages: the paper added is white in every channel
    colour = np.dstack([crop] * 3)
    out = straighten_line(colour, baseline, (0, 0))
    assert out.ndim == 3 and out.shape[2] == 3
    assert not ((out[..., 0] == 255) & (out[..., 2] != 255)).any()
    # level writing under a baseline that rises (a segmenter's, across a table cell):
    # levelling it would tilt the writing, so the crop stays as it was
    level = np.full((60, 300), 255, np.uint8)
    level[10:50] = 200
    level[20:40] = 0
    assert straighten_line(level, [(0.0, 55.0), (300.0, 25.0)], (0, 0)) is level
