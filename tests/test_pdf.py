"""Multi-page inputs (PDF, TIFF): one input per page, rendered when it is read, pages named
in the results and the outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, run_cli
from PIL import Image

pytest.importorskip("pypdfium2")

LINE = ROOT / "examples" / "images" / "handwritten.png"
DIGITS = ROOT / "examples" / "images" / "digits.png"


def _pdf(path: Path, images: list[Path]) -> Path:
    pytest.importorskip("pypdfium2")
    """A PDF with one page per image, at 300 dpi (rendered back at 300 dpi, a page has
    the image's own size)."""
    pages = [Image.open(p).convert("L") for p in images]
    pages[0].save(path, save_all=True, append_images=pages[1:], resolution=300.0)
    return path


def test_each_page_is_an_input_with_its_page_in_the_name(tmp_path):
    doc = _pdf(tmp_path / "letters.pdf", [LINE, DIGITS, LINE])
    out = tmp_path / "out"
    done = run_cli("run", doc, "-o", f"{out}/")
    assert done.returncode == 0, done.stderr
    texts = {p.name: p.read_text().strip() for p in sorted(out.glob("*.txt"))}
    assert texts["letters-p001.txt"] == "Handwriting is easy to read for htrkit"
    assert texts["letters-p003.txt"] == texts["letters-p001.txt"]
    assert sorted(texts) == ["letters-p001.txt", "letters-p002.txt", "letters-p003.txt"]
    listed = run_cli("run", doc, "-f", "tsv")
    sources = [row.split("\t")[0] for row in listed.stdout.splitlines()]
    assert sources == [f"{doc}#page={n}" for n in (1, 2, 3)]


def test_a_page_renders_at_its_size_and_reads_as_the_image_does(tmp_path):
    from htrkit import Pipeline
    from htrkit.errors import InputError

    doc = _pdf(tmp_path / "one.pdf", [LINE])
    pipe = Pipeline()
    page = pipe.load(str(doc))
    assert page.source == str(doc)
    size = np.asarray(Image.open(LINE).convert("L")).shape  # within pdfium's rounding
    assert all(abs(a - b) <= 1 for a, b in zip(page.image.shape, size))
    assert pipe(str(doc)).text == pipe(LINE).text
    many = _pdf(tmp_path / "many.pdf", [LINE, DIGITS])
    assert pipe(f"{many}#page=2").source == f"{many}#page=2"
    with pytest.raises(InputError, match="the PDF has 2 pages; read them as"):
        pipe(str(many))
    with pytest.raises(InputError, match="has 2 page"):
        pipe(f"{many}#page=3")


def test_a_broken_pdf_fails_alone(tmp_path):
    pytest.importorskip("pypdfium2")
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4\n not really a pdf at all")
    done = run_cli("run", bad, LINE)
    assert done.returncode == 1
    assert done.stdout.strip().endswith("Handwriting is easy to read for htrkit")
    errors = [ln for ln in done.stderr.splitlines() if "error" in ln]
    assert len(errors) == 1 and f"{bad}: not a readable PDF" in errors[0]


def test_pages_are_counted_without_rendering_them(tmp_path):
    """A 100-page PDF expands into 100 inputs without any page being rendered: each page
    is rendered when its input is read, and freed with it."""
    from htrkit.loaders import pdf

    doc = _pdf(tmp_path / "long.pdf", [DIGITS] * 100)
    rendered = []
    original = pdf.PdfLoader.load
    try:
        pdf.PdfLoader.load = lambda self, path: rendered.append(path)  # type: ignore[assignment]
        sources = pdf.PdfLoader().sources(doc)
    finally:
        pdf.PdfLoader.load = original  # type: ignore[assignment]
    assert len(sources) == 100 and sources[99] == f"{doc}#page=100" and rendered == []


def test_each_page_of_a_multi_page_tiff_is_an_input(tmp_path):
    """A multi-page TIFF was read at its first page without a word: each page is an input
    now, named by its page, as a PDF's are."""
    pages = [Image.open(p).convert("L") for p in (LINE, DIGITS)]
    tif = tmp_path / "scans.tif"
    pages[0].save(tif, save_all=True, append_images=pages[1:])
    listed = run_cli("run", tif, "-f", "tsv")
    assert listed.returncode == 0, listed.stderr
    rows = [row.split("\t") for row in listed.stdout.splitlines()]
    assert [r[0] for r in rows] == [f"{tif}#page=1", f"{tif}#page=2"]
    assert rows[0][1] == "Handwriting is easy to read for htrkit"
    out = tmp_path / "out"
    assert run_cli("run", tif, "-o", f"{out}/").returncode == 0
    assert sorted(p.name for p in out.glob("*.txt")) == ["scans-p001.txt", "scans-p002.txt"]
    missing = run_cli("run", f"{tif}#page=3")
    assert missing.returncode == 1 and "the image has 2 page(s), not 3" in missing.stderr


def test_a_page_that_does_not_exist_says_how_pages_are_numbered(tmp_path):
    doc = _pdf(tmp_path / "two.pdf", [LINE, DIGITS])
    for page in ("0", "-1", "x"):
        out = run_cli("run", f"{doc}#page={page}", "-d", "greedy")
        assert out.returncode == 1
        assert out.stderr.splitlines()[0] == (
            f"htrkit: error: {doc}#page={page}: no page {page!r}; pages are numbered from 1 "
            f"({doc}#page=1)"
        )
    beyond = run_cli("run", f"{doc}#page=3", "-d", "greedy")
    assert "the PDF has 2 page(s)" in beyond.stderr


def test_alto_and_page_written_for_pdf_pages_are_read_back_from_the_pdf(tmp_path):
    """The XML names its image "letters.pdf#page=2", as it has no image file of its own:
    htrkit's readers render that page of the PDF beside it."""
    from htrkit import Pipeline

    doc = _pdf(tmp_path / "letters.pdf", [LINE, DIGITS])
    first = Pipeline()(f"{doc}#page=1").text
    for fmt in ("alto", "page"):
        done = run_cli("run", doc, "-f", fmt, "-o", tmp_path / fmt)
        assert done.returncode == 0, done.stderr
        xml = tmp_path / fmt / "letters-p001.xml"
        assert "letters.pdf#page=1" in xml.read_text()
        beside = tmp_path / f"{fmt}-letters-p001.xml"  # the XML beside its PDF
        beside.write_bytes(xml.read_bytes())
        back = Pipeline()(str(beside))
        assert back.text == first and back.lines[0].id, fmt
    # a PDF page that is not there is one line naming both
    (tmp_path / "bad.xml").write_text(
        (tmp_path / "alto-letters-p001.xml").read_text().replace("#page=1", "#page=9")
    )
    with pytest.raises(Exception, match="has 2 page"):
        Pipeline()(str(tmp_path / "bad.xml"))
