"""The ``learned`` segmenter: its post-processing on hand-made probability maps, the bundled
model file, bad model files, and (with ``../shared``) real validation pages."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SHARED

from htrkit.errors import HtrkitError
from htrkit.plugins import registry
from htrkit.segmenters.learned_net import BUNDLED
from htrkit.segmenters.maps import lines_from_maps
from htrkit.segmenters.options import LearnedOptions


def test_lines_from_hand_made_maps():
    """Two baselines with writing above them, a stray blob far from both, and a baseline
    too short to be a line: two lines, top first, each holding its own writing."""
    inside = np.zeros((200, 300), np.float32)
    base = np.zeros((200, 300), np.float32)
    inside[40:60, 20:280] = 0.9  # line one, baseline at row 60
    inside[110:130, 30:250] = 0.9  # line two, baseline at row 130
    inside[180:190, 5:15] = 0.9  # a blob, no baseline under it
    cv2.line(base, (20, 60), (280, 60), 1.0, 2)
    cv2.line(base, (30, 130), (250, 130), 1.0, 2)
    cv2.line(base, (150, 170), (153, 170), 1.0, 1)  # 4 px: shorter than 2% of the width
    lines = lines_from_maps(inside, base, 0.5, 600, 400, LearnedOptions())
    assert len(lines) == 2
    first, second = lines
    assert first.bbox[1] < second.bbox[1]
    # scaled back to the page (scale 0.5): the first line spans x 40-560, y 80-120
    x0, y0, x1, y1 = first.bbox
    assert abs(x0 - 40) <= 4 and abs(x1 - 560) <= 6 and abs(y0 - 80) <= 6 and abs(y1 - 122) <= 6
    assert second.bbox[1] >= 200  # the first line's pixels went to the first line only
    (bx0, by0), (bx1, by1) = first.baseline[0], first.baseline[-1]
    assert abs(by0 - 120) <= 3 and abs(by1 - 120) <= 3 and bx1 - bx0 > 500
    assert lines_from_maps(inside, np.zeros_like(base), 0.5, 600, 400, LearnedOptions()) == []


def test_pieces_of_one_baseline_are_joined():
    """A line whose baseline probability breaks twice (thin writing) is one line; a line
    beside it at another height, and a line below, stay apart."""
    inside = np.zeros((200, 400), np.float32)
    base = np.zeros((200, 400), np.float32)
    inside[40:60, 20:380] = 0.9
    for x0, x1 in ((20, 120), (150, 250), (275, 380)):  # one baseline in three pieces
        cv2.line(base, (x0, 60), (x1, 61), 1.0, 2)
    inside[100:120, 20:380] = 0.9
    cv2.line(base, (20, 120), (380, 120), 1.0, 2)
    inside[140:152, 230:380] = 0.9  # a note just after a line, higher than it
    cv2.line(base, (20, 170), (200, 170), 1.0, 2)
    cv2.line(base, (230, 152), (380, 152), 1.0, 2)
    inside[150:170, 20:200] = 0.9
    lines = lines_from_maps(inside, base, 1.0, 400, 200, LearnedOptions())
    spans = [(round(ln.baseline[0][0]), round(ln.baseline[-1][0])) for ln in lines]
    assert len(lines) == 4, spans
    assert abs(spans[0][0] - 20) <= 2 and abs(spans[0][1] - 380) <= 2  # joined
    ends = sorted(spans[2:])
    assert np.allclose(ends, [(20, 200), (230, 380)], atol=2), ends
    apart = lines_from_maps(inside, base, 1.0, 400, 200, LearnedOptions(join_gap=0.0))
    assert len(apart) == 6


def test_two_columns_stay_apart_and_read_left_first():
    """Baselines on the same rows of two columns: the gutter between them has no line
    region, so they are not joined; the left column reads before the right one."""
    inside = np.zeros((200, 420), np.float32)
    base = np.zeros((200, 420), np.float32)
    for y in (40, 80, 120):
        for x0, x1 in ((20, 190), (240, 400)):  # a gutter of 1.25 spacings (under 3)
            inside[y - 15 : y, x0:x1] = 0.9
            cv2.line(base, (x0, y), (x1, y), 1.0, 2)
    lines = lines_from_maps(inside, base, 1.0, 420, 200, LearnedOptions())
    assert len(lines) == 6
    lefts = [ln.bbox[0] < 200 for ln in lines]
    assert all(ln.bbox[2] < 215 or ln.bbox[0] > 215 for ln in lines)  # none crosses
    assert lefts == [True] * 3 + [False] * 3
    tops = [ln.bbox[1] for ln in lines]
    assert tops[:3] == sorted(tops[:3]) and tops[3:] == sorted(tops[3:])
    # without the gutter check the rows are joined across it
    joined = lines_from_maps(inside, base, 1.0, 420, 200, LearnedOptions(gutter=99.0))
    assert len(joined) == 3


def test_the_bundled_model_is_safetensors_with_a_json_config():
    from safetensors import safe_open

    with safe_open(str(BUNDLED), "pt") as f:
        import json

        config = json.loads(f.metadata()["htrkit_segmenter"])
    assert config["work_size"] == 512 and config["width"] > 0
    assert BUNDLED.stat().st_size < 2_000_000


def test_blank_and_tiny_pages_give_no_lines():
    seg = registry("segmenter").create("learned")
    assert seg.segment(np.full((900, 700), 250, np.uint8)) == []
    assert seg.segment(np.full((20, 20, 3), 255, np.uint8)) == []


def test_bad_model_files(tmp_path):
    with pytest.raises(HtrkitError, match="segmenter model 'missing.safetensors': no such file"):
        registry("segmenter").create("learned", {"model": "missing.safetensors"})
    recogniser = Path(BUNDLED).parent / "default.safetensors"
    with pytest.raises(HtrkitError, match="not an htrkit segmenter model"):
        registry("segmenter").create("learned", {"model": str(recogniser)})
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(HtrkitError, match="junk.safetensors: not an htrkit segmenter model"):
        registry("segmenter").create("learned", {"model": str(junk)})


@pytest.mark.shared
@pytest.mark.skipif(not (SHARED / "poilus-pages").is_dir(), reason="needs ../shared/data")
def test_learned_beats_projection_on_unseen_poilus_pages():
    from htrkit.datasets import DatasetReport, find_reader, split_of
    from htrkit.metrics import segmentation as seg

    path = SHARED / "poilus-pages"
    pages = [
        p
        for p in find_reader(path, "alto").pages(path, DatasetReport(), skip_bad=True)
        if split_of(p.group, 0.1, 240) == "val"
    ][:6]
    scores = {}
    for name in ("projection", "learned"):
        segmenter = registry("segmenter").create(name)
        results = []
        for page in pages:
            found = segmenter.segment(page.image)
            h, w = page.image.shape[:2]
            results.append(seg.score_page(
                [ln.polygon for ln in page.lines], [ln.baseline for ln in page.lines],
                [r.polygon for r in found], [r.baseline for r in found], w, h,
                regions=page.regions,
            ))  # fmt: skip
        scores[name] = seg.summarise(results)
    assert scores["learned"]["line_f1"] > scores["projection"]["line_f1"] + 0.15
    assert scores["learned"]["baseline_f1"] > 0.75


def test_a_two_column_page_reads_column_by_column():
    """Eight handwriting-font lines in two columns whose rows line up: the bundled model
    finds each line on its own side of the gutter, and the page reads the left column
    first."""
    from htrkit import Pipeline
    from htrkit.synth.fonts import BUNDLED_FONTS, load_fonts
    from htrkit.synth.renderer import Renderer, RenderOptions

    font = next(f for f in load_fonts([BUNDLED_FONTS]) if f.name.startswith("kalam"))
    renderer = Renderer(RenderOptions(size_min=36, size_max=36, noise=2, texture=4))
    page = np.full((1100, 1400), 250, np.uint8)
    left = ["the first column", "holds these words", "one line a time", "down the page"]
    right = ["and the second", "column goes on", "beside the first", "to its very end"]
    for col, texts, x in ((0, left, 60), (1, right, 760)):
        for i, text in enumerate(texts):
            line = renderer.render(text, font, np.random.default_rng(10 * col + i))[:, :560]
            page[100 + 110 * i : 100 + 110 * i + line.shape[0], x : x + line.shape[1]] = line
    found = registry("segmenter").create("learned").segment(page)
    assert len(found) == 8
    assert [r.bbox[0] < 700 for r in found] == [True] * 4 + [False] * 4
    assert all(r.bbox[2] < 700 or r.bbox[0] > 700 for r in found)  # none crosses the gutter
    read = Pipeline()(page).text.splitlines()
    assert [ln.split()[0] for ln in read] == [t.split()[0] for t in left + right]
