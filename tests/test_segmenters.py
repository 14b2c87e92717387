"""The page segmenters: ``projection`` and ``astar`` on rendered pages (skewed, ruled,
bordered), ``astar`` around touching strokes, and ``auto``, which reads line images whole
and pages line by line."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import ROOT, passes_in_fork

from htrkit.segmenters.auto import AutoSegmenter
from htrkit.segmenters.options import ProjectionOptions
from htrkit.segmenters.projection import ProjectionSegmenter
from htrkit.threads import available_cores

TEXTS = [
    "the quick brown fox jumps over",
    "a lazy dog and then it sleeps",
    "handwriting comes in many hands",
    "lines of a page are read in order",
    "from the top to the bottom of it",
    "and the last line ends the page",
]


def render_page(angle: float = 0.0, rules: bool = False, border: bool = False, seed: int = 0):
    """A page of handwriting-font lines; returns the image and, per line, its centre row
    and its left and right ends (before rotation)."""
    from htrkit.synth.fonts import load_fonts
    from htrkit.synth.renderer import Renderer, RenderOptions

    font = load_fonts()[1]
    # dark ink: projection is for clean pages (faint writing is the robust segmenter's job)
    renderer = Renderer(
        RenderOptions(size_min=40, size_max=40, slant=0, baseline_wave=0, ink_max=40)
    )
    rng = np.random.default_rng(seed)
    page = np.full((900, 1200), 245, np.uint8)
    centres = []
    y = 90
    for text in TEXTS:
        line = renderer.render(text, font, rng)
        h, w = line.shape
        w = min(w, 1050)
        x = 80 + int(rng.integers(0, 30))
        page[y : y + h, x : x + w] = np.minimum(page[y : y + h, x : x + w], line[:, :w])
        centres.append((y + h / 2, x, x + w))
        y += 120
    if rules:
        for r in range(60, 880, 40):
            page[r : r + 2, :] = 150
    if border:
        page[:, -40:] = 20
    if angle:
        m = cv2.getRotationMatrix2D((600, 450), angle, 1.0)
        page = cv2.warpAffine(page, m, (1200, 900), borderValue=245)
    return page, centres


def segmenter(name: str):
    from htrkit.plugins import registry

    return registry("segmenter").create(name)


@pytest.mark.parametrize("name", ["projection", "astar", "learned"])
@pytest.mark.parametrize(
    "angle, rules, border", [(0, False, False), (2.5, False, False), (-3, True, True)]
)
def test_page_segmenters_find_the_lines_in_order(name, angle, rules, border):
    page, centres = render_page(angle, rules, border)
    lines = segmenter(name).segment(page)
    assert len(lines) == len(TEXTS)
    mids = [(line.bbox[1] + line.bbox[3]) / 2 for line in lines]
    assert mids == sorted(mids)
    for line, (centre, left, right) in zip(lines, centres):
        x0, y0, x1, y1 = line.bbox
        # the box holds the line (rotation moves points by at most ~30 px here)
        assert y0 < centre + 30 and y1 > centre - 30
        assert 20 < y1 - y0 < 200
        assert x0 < left + 30 and x1 > right - 30 and x1 - x0 < right - left + 80
        assert len(line.baseline) >= 2 and y0 < line.baseline[0][1] < y1
    if angle:  # the lines follow the skew
        (ax, ay), (bx, by) = lines[0].baseline[0], lines[0].baseline[-1]
        assert np.degrees(np.arctan(-(by - ay) / (bx - ax))) == pytest.approx(angle, abs=0.6)


@pytest.mark.parametrize("name", ["projection", "astar", "learned"])
def test_page_segmenters_on_blank_dark_and_huge_pages(name):
    seg = segmenter(name)
    assert seg.segment(np.full((800, 600), 250, np.uint8)) == []
    assert seg.segment(np.zeros((800, 600), np.uint8)) == []
    noisy = np.random.default_rng(0).integers(235, 256, (800, 600)).astype(np.uint8)
    assert seg.segment(noisy) == []
    page, _ = render_page()
    big = cv2.resize(page, (6000, 4500), interpolation=cv2.INTER_LINEAR)
    lines = seg.segment(np.dstack([big] * 3))  # colour, 27 MP: analysed at work_width
    assert len(lines) == len(TEXTS)
    assert max(line.bbox[2] for line in lines) <= 6000
    assert max(line.bbox[2] - line.bbox[0] for line in lines) > 2000


def test_astar_paths_go_around_a_descender_and_an_ascender():
    """A descender of the first line and an ascender of the second reach into the gap
    from either side, so that every row between the lines has ink: a straight cut
    slices one of them, the A* path passes between them."""
    from conftest import handwriting_like

    page = np.full((420, 420), 255, np.uint8)
    for i, y in enumerate((40, 130)):
        page[y : y + 48, 30:390] = handwriting_like(360, 48, seed=i)
    cv2.line(page, (110, 70), (108, 126), 10, 3)  # the descender, down to row 127
    cv2.line(page, (300, 150), (302, 93), 10, 3)  # the ascender, up to row 92

    def owners(name: str) -> tuple[list[bool], list[bool]]:
        polys = [np.float32(line.polygon) for line in segmenter(name).segment(page)]
        assert len(polys) == 2
        inside = lambda p, q: cv2.pointPolygonTest(p, q, False) >= 0  # noqa: E731
        return [inside(p, (108, 123)) for p in polys], [inside(p, (302, 96)) for p in polys]

    assert owners("astar") == ([True, False], [False, True])
    assert owners("projection") != ([True, False], [False, True])


def test_projection_options_are_validated():
    from htrkit.errors import OptionsError
    from htrkit.plugins import registry

    with pytest.raises(OptionsError, match="max_skew"):
        registry("segmenter").create("projection", {"max_skew": 90})
    assert isinstance(registry("segmenter").create("projection"), ProjectionSegmenter)
    assert ProjectionSegmenter(ProjectionOptions(max_skew=0)).segment(render_page()[0])


def test_auto_reads_lines_whole_and_pages_by_lines():
    auto = AutoSegmenter()
    page, _ = render_page()
    assert len(auto.segment(page)) == len(TEXTS)
    line = page[70:200, :]  # one line, wide
    regions = auto.segment(line)
    assert len(regions) == 1
    word = np.full((60, 90), 255, np.uint8)  # small: one word
    cv2.putText(word, "ab", (5, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 3)
    assert len(auto.segment(word)) == 1


def test_a_pipeline_limits_the_page_segmenters_threads():
    """In a --jobs worker (threads=1) the page segmenter's onnxruntime session runs on one
    thread, not one per core each; the lines are the same."""
    pytest.importorskip("onnxruntime")
    from htrkit import Pipeline

    page, _ = render_page()
    free, held = AutoSegmenter(), Pipeline(threads=1).segmenter
    assert free.segment(page) == held.segment(page)
    assert free.page.onnx.threads == available_cores() and held.page.onnx.threads == 1
    assert held.page.onnx.session.get_session_options().intra_op_num_threads == 1
    held.limit_threads(2)  # once loaded, the session is made again
    assert held.page.onnx.threads == 2


def test_a_pipeline_keeps_the_page_segmenter_to_the_cores_it_may_use(monkeypatch):
    """threads=0 (the default) gives the page segmenter the cores this process may use,
    not onnxruntime's count of the machine's: a process held to one core (or a container
    with a CPU quota of one) runs it on one thread."""
    pytest.importorskip("onnxruntime")
    from htrkit import Pipeline, threads

    assert Pipeline().segmenter.page.onnx.threads == threads.available_cores()
    monkeypatch.setattr(threads, "_quota_cores", lambda path=None: 1)
    assert Pipeline().segmenter.page.onnx.threads == 1


def test_pipeline_reads_a_page_line_by_line(model_path):
    from htrkit import Pipeline

    page, _ = render_page(angle=1.5)
    result = Pipeline(model=model_path)(page)
    assert len(result.lines) == len(TEXTS)
    assert result.text.count("\n") == len(TEXTS) - 1


def test_whole_trims_with_a_margin_in_proportion_and_reads_blank_as_nothing():
    from htrkit.segmenters.options import WholeImageOptions
    from htrkit.segmenters.whole import WholeImageSegmenter

    image = np.full((300, 300), 255, np.uint8)
    image[100:200, 120:160] = 0  # ink 100 px high
    (plain,) = WholeImageSegmenter().segment(image)
    assert plain.bbox == (116, 96, 164, 204)  # 4 px
    (wide,) = WholeImageSegmenter(WholeImageOptions(margin_share=0.3)).segment(image)
    assert wide.bbox == (86, 66, 194, 234)  # 4 + 30 px
    assert WholeImageSegmenter().segment(np.full((50, 200), 255, np.uint8)) == []
    # untrimmed, a blank image is still one line (the caller asked for the whole image)
    assert len(WholeImageSegmenter(WholeImageOptions(trim=False)).segment(image[:50])) == 1


@pytest.mark.parametrize("name", ["projection", "astar", "learned"])
def test_two_lines_far_apart_are_two_lines(name):
    """No line rhythm to measure on a page of two lines: projection used to read it as one
    line (it now cuts at the blank gap)."""
    from htrkit.plugins import registry

    line = cv2.imread(str(ROOT / "examples" / "images" / "handwritten.png"), cv2.IMREAD_GRAYSCALE)
    page = np.full((500, 900), 250, np.uint8)
    page[80:144, 40:830] = line
    page[300:364, 40:830] = line
    found = registry("segmenter").create(name).segment(page)
    assert len(found) == 2
    assert found[0].bbox[3] <= 160 and found[1].bbox[1] >= 280


@pytest.mark.slow
def test_a_pipeline_used_before_fork_reads_alike_in_the_child():
    """A pre-fork server builds and warms its pipeline, then forks: in the child the
    thread pools start again and onnxruntime's sessions (the page segmenter's on two
    threads) still run, and the page reads the same (it used to be able to hang)."""
    from htrkit import Pipeline

    page, _ = render_page(seed=3)
    pipe = Pipeline(threads=2)
    text = pipe(page).text
    assert text.strip()
    assert passes_in_fork(lambda: pipe(page).text == text, timeout=120)
