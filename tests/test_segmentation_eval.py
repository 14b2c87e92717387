"""Segmentation scores on hand-checked geometry, and ``htrkit eval-seg`` on a page whose
true lines are known."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import handwriting_like, run_cli

from htrkit.metrics import segmentation as seg
from htrkit.results import LineResult, Result


def box(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def test_iou_of_boxes_is_what_arithmetic_says():
    iou = seg.iou_matrix([box(0, 0, 100, 20)], [box(0, 0, 100, 20), box(50, 0, 150, 20)],
                         200, 100)  # fmt: skip
    assert iou[0, 0] == pytest.approx(1.0, abs=0.03)
    assert iou[0, 1] == pytest.approx(50 / 150, abs=0.03)


def test_matching_is_one_to_one_and_needs_the_threshold():
    iou = np.array([[0.9, 0.6], [0.7, 0.2], [0.1, 0.4]])
    assert seg.match(iou, 0.5) == [(0, 0)]  # gt 1 may not take predicted 0 again
    assert seg.match(np.array([[0.9, 0.6], [0.55, 0.7]]), 0.5) == [(0, 0), (1, 1)]


def test_page_scores_lines_and_baselines():
    gt = [box(10, 10, 190, 40), box(10, 50, 190, 80), box(10, 90, 190, 120)]
    gt_base = [[(10, 35), (190, 35)], [(10, 75), (190, 75)], [(10, 115), (190, 115)]]
    # found: the first line right, the second twice as tall (IoU 0.5: counts), the third
    # merged with nothing and shifted off, plus a stray line
    pred = [box(10, 10, 190, 40), box(10, 50, 190, 110), box(10, 125, 190, 155), box(0, 160,
            50, 190)]  # fmt: skip
    pred_base = [[(10, 35), (190, 35)], [(10, 76), (190, 76)], [(10, 150), (190, 150)]]
    s = seg.score_page(gt, gt_base, pred, pred_base, 200, 200)
    total = seg.summarise([s])
    assert (s.matched, s.gt_lines, s.predicted) == (2, 3, 4)
    assert total["line_precision"] == pytest.approx(0.5)
    assert total["line_recall"] == pytest.approx(2 / 3)
    # tolerance: a fifth of the 30 px line height = 6 px; the third baseline is 35 px off
    assert total["baseline_recall"] == pytest.approx(2 / 3, abs=0.02)
    assert total["baseline_precision"] == pytest.approx(2 / 3, abs=0.02)
    empty = seg.summarise([seg.score_page([], [], [], [], 100, 100)])
    assert empty["line_f1"] == 1.0  # nothing to find, nothing found


def test_a_huge_page_is_scored_on_a_bounded_grid():
    gt = [box(100, 100 + 400 * i, 5900, 400 + 400 * i) for i in range(15)]
    s = seg.score_page(gt, [], gt, [], 6000, 8000)
    assert s.matched == 15


@pytest.fixture
def truth_page(tmp_path):
    """A page of four lines whose true geometry is known, with PAGE-XML ground truth (the
    page writer writes it)."""
    from PIL import Image

    from htrkit.writers.common import serialise
    from htrkit.writers.page import page_xml

    rows = [handwriting_like(360, 48, seed=s) for s in range(4)]
    gap = np.full((30, 360), 255, np.uint8)
    page = np.pad(np.vstack([gap] + [x for r in rows for x in (r, gap)]), ((0, 0), (40, 40)),
                  constant_values=255)  # fmt: skip
    folder = tmp_path / "gt"
    folder.mkdir()
    Image.fromarray(page).save(folder / "page.png")
    lines = []
    for i in range(4):
        y0 = 30 + i * 78
        lines.append(
            LineResult(
                f"line {i}",
                1.0,
                (40, y0, 400, y0 + 48),
                box(40, y0, 400, y0 + 48),
                [(40, y0 + 38), (400, y0 + 38)],
            )
        )
    result = Result(str(folder / "page.png"), page.shape[1], page.shape[0], lines)
    with open(folder / "page.xml", "w", encoding="utf-8") as fh:
        serialise(page_xml(result), fh)
    return folder


def test_eval_seg_finds_the_true_lines(truth_page):
    done = run_cli("eval-seg", truth_page, "--segmenter", "projection", "--json")
    assert done.returncode == 0, done.stderr
    total = json.loads(done.stdout)["total"]
    assert total["gt_lines"] == 4 and total["predicted_lines"] == 4
    assert total["line_f1"] == 1.0
    assert total["baseline_recall"] > 0.9
    # a page read as one line finds none of them
    whole = json.loads(run_cli("eval-seg", truth_page, "--segmenter", "whole", "--json").stdout)
    assert whole["total"]["line_recall"] == 0.0
    text = run_cli("eval-seg", truth_page, "--segmenter", "whole").stdout
    assert "lines (IoU >= 0.5):  precision 0.000  recall 0.000  F1 0.000" in text
    assert "worst pages by line F1:" in text


@pytest.mark.slow
def test_eval_seg_with_a_model_compares_page_and_true_line_cer(truth_page):
    done = run_cli("eval-seg", truth_page, "--segmenter", "projection", "--model", "default",
                   "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    total = json.loads(done.stdout)["total"]
    # the scribbles are not words, so both CERs are high (found lines are a little wider,
    # so more scribble is read); the lines are found, so the page
    # read end to end, in reading order, scores close to the true lines
    assert total["true_line_cer"] > 0.5
    assert abs(total["page_cer"] - total["true_line_cer"]) <= 0.3 * total["true_line_cer"]
    assert set(json.loads(done.stdout)["pages"][0]) >= {"page_cer", "true_line_cer"}


def test_eval_seg_errors(tmp_path, truth_page):
    table = tmp_path / "t.tsv"
    table.write_text("a.png\tx\n")
    done = run_cli("eval-seg", table, "--dataset-format", "table")
    assert done.returncode == 2
    assert "eval-seg needs page ground truth (a dataset reader with pages()" in done.stderr
    assert "not TableReader" in done.stderr
    done = run_cli("eval-seg", truth_page, "--split", "val", "--val-fraction", "0.0")
    assert done.returncode == 2 and "no pages in split 'val'" in done.stderr


JSON_PAGES = """
import json
from pathlib import Path

import htrkit
from htrkit.results import LineRegion, Page
from htrkit.specs import DatasetSpec


class JsonPages:
    # a third party's page format: {"image": ..., "lines": [{"text", "polygon", "baseline"}]}
    def __init__(self, options=None):
        pass

    def detect(self, path):
        return Path(path).name.endswith(".pages.json")

    def samples(self, path, report, skip_bad):
        from htrkit.datasets import DatasetError
        raise DatasetError(f"{path}: this test reader gives pages only")

    def pages(self, path, report, skip_bad):
        import cv2

        doc = json.loads(Path(path).read_text())
        image = cv2.imread(str(Path(path).parent / doc["image"]), cv2.IMREAD_GRAYSCALE)
        lines = [LineRegion.from_polygon([tuple(p) for p in ln["polygon"]],
                                         [tuple(p) for p in ln["baseline"]], text=ln["text"])
                 for ln in doc["lines"]]
        yield Page(str(path), image, lines, id="p", group="p")


@htrkit.hookimpl
def htrkit_register_datasets():
    return [DatasetSpec("jsonpages", JsonPages, "pages as JSON (a test plugin)")]
"""


def test_eval_seg_scores_a_third_party_page_reader(tmp_path):
    """Any dataset reader with pages() is scored, a plugin's as the built-in ones: the same
    page and lines give the same scores as a PAGE file of them."""
    from PIL import Image

    from htrkit.writers.common import serialise
    from htrkit.writers.page import page_xml

    rows = [handwriting_like(360, 48, seed=s) for s in range(3)]
    gap = np.full((30, 360), 255, np.uint8)
    page = np.pad(np.vstack([gap] + [x for r in rows for x in (r, gap)]), ((0, 0), (40, 40)),
                  constant_values=255)  # fmt: skip
    Image.fromarray(page).save(tmp_path / "page.png")
    # the middle line's outline is drawn too low: found lines match two of three
    tops = [30, 108 + 30, 186]
    lines = [LineResult(f"line {i}", 1.0, (40, t, 400, t + 48), box(40, t, 400, t + 48),
                        [(40, t + 40), (400, t + 40)]) for i, t in enumerate(tops)]  # fmt: skip
    with open(tmp_path / "page.xml", "w", encoding="utf-8") as fh:
        serialise(page_xml(Result(str(tmp_path / "page.png"), page.shape[1], page.shape[0],
                                  lines)), fh)  # fmt: skip
    doc = {
        "image": "page.png",
        "lines": [
            {"text": ln.text, "polygon": ln.polygon, "baseline": ln.baseline} for ln in lines
        ],
    }
    (tmp_path / "p.pages.json").write_text(json.dumps(doc))
    site = tmp_path / "site"
    site.mkdir()
    (site / "htrkit_jsonpages.py").write_text(JSON_PAGES)
    info = site / "htrkit_jsonpages-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: htrkit-jsonpages\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[htrkit]\njsonpages = htrkit_jsonpages\n")
    env = {"PYTHONPATH": str(site), "HTRKIT_LOAD_PLUGINS": "jsonpages"}

    def scores(path, *extra):
        done = run_cli("eval-seg", path, "--segmenter", "projection", "--json", *extra, env=env)
        assert done.returncode == 0, done.stderr
        total = json.loads(done.stdout)["total"]
        total.pop("seconds_per_page")
        return total

    plugin = scores(tmp_path / "p.pages.json")  # detected by the plugin's detect()
    assert plugin == scores(tmp_path / "page.xml", "--whole-page")
    assert (plugin["gt_lines"], plugin["predicted_lines"]) == (3, 3)
    assert plugin["line_recall"] == pytest.approx(2 / 3)


def test_evaluate_runs_on_pages_in_process(truth_page):
    """The scoring loop is a library function: what eval-seg prints, from Python."""
    from htrkit.datasets import DatasetReport, find_reader
    from htrkit.plugins import registry

    reader = find_reader(truth_page, "page")
    pages = list(reader.pages(truth_page, DatasetReport(), skip_bad=False))
    seen = []
    found = seg.evaluate(pages, registry("segmenter").create("projection"), advance=seen.append)
    cli = json.loads(run_cli("eval-seg", truth_page, "--segmenter", "projection", "--json").stdout)
    assert seen == [1] * len(pages) and len(found.pages) == len(pages)
    for key, value in cli["total"].items():
        if key != "seconds_per_page":
            assert found.total[key] == value, key


BIG_PAGE = """
import resource, sys
import numpy as np
from htrkit import Pipeline
from htrkit.results import Page
sys.path.insert(0, {tests!r})
from conftest import handwriting_like

page = np.full((8000, 6000), 255, np.uint8)
for i in range(12):
    y = 400 + 600 * i
    strokes = handwriting_like(1300, 60, seed=i)
    page[y : y + 240, 300 : 300 + 5200] = np.kron(strokes, np.ones((4, 4), np.uint8))
pipe = Pipeline(segmenter="projection")
found = pipe(Page("big", page))
empty = pipe(Page("empty", np.full((8000, 6000), 255, np.uint8)))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(len(found.lines), len(empty.lines), peak)
"""


@pytest.mark.slow
def test_a_6000_by_8000_scan_and_an_empty_page(tmp_path):
    """Lines are found on a 48-megapixel page in bounded memory; a blank page of that size
    gives no lines and no error."""
    import subprocess
    import sys
    from pathlib import Path

    script = BIG_PAGE.format(tests=str(Path(__file__).parent))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines, empty, peak_mb = map(int, done.stdout.split())
    assert lines == 12
    assert empty == 0
    assert peak_mb < 2000, f"peak memory {peak_mb} MB"


def test_lines_outside_the_annotated_regions_are_left_out():
    """A page transcribed in part: two true lines in a region, a correct but untranscribed
    line below it, and a drawn region that holds no true line."""
    gt = [box(10, 10, 190, 40), box(10, 50, 190, 80)]
    base = [[(10, 35), (190, 35)], [(10, 75), (190, 75)]]
    regions = [box(0, 0, 200, 90), box(0, 150, 200, 200)]  # the second holds no true line
    pred = gt + [box(10, 100, 190, 130), box(10, 160, 190, 190)]
    pred_base = base + [[(10, 125), (190, 125)], [(10, 185), (190, 185)]]
    strict = seg.score_page(gt, base, pred, pred_base, 200, 200)
    within = seg.score_page(gt, base, pred, pred_base, 200, 200, regions=regions)
    assert (strict.matched, strict.predicted, strict.ignored) == (2, 4, 0)
    assert (within.matched, within.predicted, within.ignored) == (2, 2, 2)
    assert seg.summarise([within])["line_precision"] == 1.0
    assert seg.summarise([within])["baseline_precision"] == pytest.approx(1.0)
    assert seg.summarise([within])["ignored_lines"] == 2
    # a line half in, half out: kept when more than half of it is inside
    half = seg.inside_regions([box(10, 60, 190, 100), box(10, 80, 190, 130)], regions, 200, 200)
    assert half == [True, False]
    assert seg.annotated(regions, gt, 200, 200) == [regions[0]]


def test_readers_give_the_text_regions(tmp_path):
    from PIL import Image

    from htrkit.datasets import DatasetReport, find_reader
    from htrkit.writers.alto import alto_xml
    from htrkit.writers.common import serialise
    from htrkit.writers.page import page_xml

    image = np.full((200, 300), 255, np.uint8)
    Image.fromarray(image).save(tmp_path / "p.png")
    lines = [LineResult("one", 1.0, (20, 30, 280, 60), box(20, 30, 280, 60)),
             LineResult("two", 1.0, (20, 90, 250, 120), box(20, 90, 250, 120))]  # fmt: skip
    result = Result(str(tmp_path / "p.png"), 300, 200, lines)
    for fmt, build in (("page", page_xml), ("alto", alto_xml)):
        folder = tmp_path / fmt
        folder.mkdir()
        (folder / "p.png").write_bytes((tmp_path / "p.png").read_bytes())
        with open(folder / "p.xml", "w", encoding="utf-8") as fh:
            serialise(build(result), fh)
        (page,) = find_reader(folder, fmt).pages(folder, DatasetReport(), skip_bad=True)
        (region,) = page.regions
        xs, ys = [p[0] for p in region], [p[1] for p in region]
        assert min(xs) <= 20 and max(xs) >= 280 and min(ys) <= 30 and max(ys) >= 120, fmt


def test_eval_seg_within_regions_and_on_the_whole_page(tmp_path):
    """Ground truth for two of four lines (the writer draws its region around them): the
    other two found lines are left out, unless --whole-page."""
    from PIL import Image

    from htrkit.writers.common import serialise
    from htrkit.writers.page import page_xml

    rows = [handwriting_like(360, 48, seed=s) for s in range(4)]
    gap = np.full((30, 360), 255, np.uint8)
    page = np.pad(np.vstack([gap] + [x for r in rows for x in (r, gap)]), ((0, 0), (40, 40)),
                  constant_values=255)  # fmt: skip
    Image.fromarray(page).save(tmp_path / "page.png")
    lines = [LineResult(f"line {i}", 1.0, (40, 30 + i * 78, 400, 78 + i * 78),
                        box(40, 30 + i * 78, 400, 78 + i * 78),
                        [(40, 68 + i * 78), (400, 68 + i * 78)]) for i in range(2)]  # fmt: skip
    with open(tmp_path / "page.xml", "w", encoding="utf-8") as fh:
        serialise(page_xml(Result(str(tmp_path / "page.png"), page.shape[1], page.shape[0],
                                  lines)), fh)  # fmt: skip
    within = run_cli("eval-seg", tmp_path / "page.xml", "--segmenter", "projection", "--json")
    whole = run_cli("eval-seg", tmp_path / "page.xml", "--segmenter", "projection", "--json",
                    "--whole-page")  # fmt: skip
    assert within.returncode == 0, within.stderr
    w, a = json.loads(within.stdout)["total"], json.loads(whole.stdout)["total"]
    assert (w["predicted_lines"], w["ignored_lines"], w["line_precision"]) == (2, 2, 1.0)
    assert (a["predicted_lines"], a["ignored_lines"], a["line_precision"]) == (4, 0, 0.5)
    text = run_cli("eval-seg", tmp_path / "page.xml", "--segmenter", "projection").stdout
    assert "2 more outside the true regions left out" in text


def test_a_refused_page_is_said_not_dropped_in_silence(tmp_path):
    from conftest import run_cli

    (tmp_path / "p.xml").write_text(
        '<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Description>'
        "<sourceImageInformation><fileName>missing.png</fileName></sourceImageInformation>"
        "</Description><Layout><Page><PrintSpace/></Page></Layout></alto>"
    )
    done = run_cli("eval-seg", tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("htrkit: warning: skipped 1 (unreadable page), e.g. ")
    assert "missing.png' not found" in lines[0]
    assert lines[1].endswith("no pages in split 'all' (1 page(s) refused)")


@pytest.mark.parametrize("iou", ["5", "nan", "0"])
def test_eval_seg_refuses_an_iou_outside_0_to_1(tmp_path, iou):
    out = run_cli("eval-seg", tmp_path, "--iou", iou)
    assert (
        out.returncode == 2
        and f"--iou must be over 0 and at most 1, got {float(iou)}" in out.stderr
    )
