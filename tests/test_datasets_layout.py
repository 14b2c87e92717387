"""The layout dataset readers (ALTO v2 and v4, PAGE-XML 2013 and 2019), on small pages
written into a temporary folder."""

from __future__ import annotations

import numpy as np
import pytest
from dataset_helpers import (
    ALTO2,
    ALTO_LINES,
    PAGE2013,
    PAGE2019,
    alto,
    page_image,
    page_xml,
    read,
    save,
)

from htrkit.datasets import DatasetError, find_reader
from htrkit.errors import OptionsError
from htrkit.plugins import registry

# -- ALTO ------------------------------------------------------------------------------


def test_alto_texts_groups_and_crops(alto_page):
    samples, report = read(alto_page)
    assert [s.text for s in samples] == ["Hello wor-", "two words"]
    assert [s.id for s in samples] == ["page.xml#l1", "page.xml#l2"]
    assert {s.group for s in samples} == {"page"}
    assert report.dropped == {"empty": 1}
    assert samples[0].source == str(alto_page / "page.xml")

    page = page_image()
    first = samples[0].image
    assert first.shape == (30, 110)  # the polygon's bounding box
    assert first[0, 0] == 255  # (10, 10) lies left of the slanted edge: painted white
    assert first[15, 55] == page[25, 65]  # inside: the page's own pixel
    assert first[first < 255].size > 0.8 * first.size
    # no polygon: the HPOS/VPOS/WIDTH/HEIGHT box, cut out exactly
    np.testing.assert_array_equal(samples[1].image, page[50:70, 10:110])
    assert samples[1].image.base is None  # a copy, not a view keeping the page alive


def test_alto_v2_comma_points_height_baseline_and_image_fallback(tmp_path):
    lines = """
    <TextLine ID="a" BASELINE="35" HPOS="0" VPOS="0" WIDTH="50" HEIGHT="40">
      <Shape><Polygon POINTS="0,0 50,0 50,40 0,40"/></Shape><String CONTENT="v2"/>
    </TextLine>"""
    save(page_image(), tmp_path / "scan.jpg")
    # the file names a TIFF in a Windows folder; the JPEG of the same stem is used
    (tmp_path / "scan.xml").write_text(alto(lines, image=r"C:\scans\scan.tif", ns=ALTO2))
    (sample,), _ = read(tmp_path / "scan.xml")
    assert sample.text == "v2" and sample.image.shape == (40, 50)
    from htrkit.datasets.layout import parse_xml

    reader = registry("dataset").create("alto")
    page = reader.parse(parse_xml(tmp_path / "scan.xml"), tmp_path / "scan.xml")
    assert page.lines[0].baseline == [(0.0, 35.0), (50.0, 35.0)]


def test_alto_line_types_exclude_pattern_and_documents(tmp_path):
    for name in ("wikitexte_0001_1", "wikitexte_0001_2", "imp_wikitexte_0001"):
        save(page_image(), tmp_path / f"{name}.png")
        ref = f'<TextLine ID="r" TAGREFS="LT1" HPOS="0" VPOS="0" WIDTH="9" HEIGHT="9">\
<String CONTENT="{name}"/></TextLine>'
        (tmp_path / f"{name}.xml").write_text(alto(ref + ALTO_LINES, image=f"{name}.png"))
    options = {
        "line_types": "DefaultLine",
        "exclude_pattern": r"(?i)wiki\s*texte",
        "group_by": "document",
        "document_pattern": r"^(?:imp_)?wikitexte_\d+",
    }
    samples, report = read(tmp_path, "alto", options)
    assert [s.text for s in samples] == ["Hello wor-"] * 3
    assert [s.group for s in samples] == ["imp_wikitexte_0001", *["wikitexte_0001"] * 2]
    assert report.dropped == {"excluded": 3, "line type": 3, "empty": 3}
    # a capturing group picks the document out of the name
    samples, _ = read(tmp_path, "alto", {"group_by": "document", "document_pattern": r"_(\d+)"})
    assert {s.group for s in samples} == {"0001"}


def test_alto_group_by_folder(tmp_path):
    # HTR-United repositories keep one manuscript per sub-folder
    for folder, name in (
        ("letters-a", "p1"),
        ("letters-a", "p2"),
        ("drafts/b", "p1"),
        (".", "top"),
    ):
        where = tmp_path / folder
        where.mkdir(parents=True, exist_ok=True)
        save(page_image(), where / f"{name}.png")
        (where / f"{name}.xml").write_text(alto(ALTO_LINES, image=f"{name}.png"))
    samples, _ = read(tmp_path, "alto", {"group_by": "folder"})
    assert {s.id.split("#")[0]: s.group for s in samples} == {
        "drafts/b/p1.xml": "drafts/b",
        "letters-a/p1.xml": "letters-a",
        "letters-a/p2.xml": "letters-a",
        "top.xml": "top",
    }


@pytest.mark.parametrize(
    "options, message",
    [
        ({"group_by": "document"}, "needs a document_pattern"),
        ({"exclude_pattern": "("}, "not a valid regular expression"),
        ({"group_by": "writer"}, "expected one of"),
    ],
)
def test_page_options_are_checked(options, message):
    with pytest.raises(OptionsError, match=message):
        registry("dataset").create("alto", options)


XXE = """<?xml version="1.0"?>
<!DOCTYPE alto [<!ENTITY secret SYSTEM "file://{secret}">]>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Layout><Page><PrintSpace>
<TextLine ID="x" HPOS="0" VPOS="0" WIDTH="5" HEIGHT="5"><String CONTENT="&secret;"/></TextLine>
</PrintSpace></Page></Layout></alto>
"""


def test_alto_refuses_external_entities(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    folder = tmp_path / "pages"
    save(page_image(), folder / "evil.png")
    (folder / "evil.xml").write_text(XXE.format(secret=secret))
    with pytest.raises(DatasetError, match=r"evil\.xml: refused: .*DTD") as info:
        read(folder)
    assert "TOP SECRET" not in str(info.value)
    samples, report = read(folder, skip_bad=True)
    assert samples == [] and report.skipped == {"unreadable page": 1}


def test_alto_file_errors_name_the_file(tmp_path):
    (tmp_path / "broken.xml").write_text("<alto xmlns='http://www.loc.gov/standards/alto/")
    with pytest.raises(DatasetError, match=r"broken\.xml: not well-formed XML \(.*line 1"):
        read(tmp_path / "broken.xml", "alto")
    (tmp_path / "mm.xml").write_text(alto(ALTO_LINES, unit="mm10"))
    with pytest.raises(DatasetError, match=r"mm\.xml: MeasurementUnit is 'mm10'"):
        read(tmp_path / "mm.xml", "alto")
    (tmp_path / "noimage.xml").write_text(alto(ALTO_LINES, image="gone.png"))
    with pytest.raises(DatasetError, match=r"noimage\.xml: image 'gone\.png' not found"):
        read(tmp_path / "noimage.xml", "alto")
    (tmp_path / "other.xml").write_text("<mets/>")
    with pytest.raises(DatasetError, match=r"other\.xml: not ALTO XML \(root <mets>\)"):
        read(tmp_path / "other.xml", "alto")


def test_alto_bad_line_stops_or_is_skipped(alto_page):
    xml = alto_page / "page.xml"
    xml.write_text(alto(ALTO_LINES.replace("110 40 10 40", "110 40 10")))
    with pytest.raises(DatasetError, match=r"page\.xml: TextLine 'l1': POINTS has an odd"):
        read(alto_page)
    samples, report = read(alto_page, skip_bad=True)
    assert [s.text for s in samples] == ["two words"]
    assert report.skipped == {"bad line": 1}
    assert "page.xml" in report.examples["bad line"]


def test_a_folder_skips_xml_of_another_kind(alto_page):
    (alto_page / "mets.xml").write_text("<mets/>")
    samples, report = read(alto_page, "alto")
    assert len(samples) == 2 and report.dropped["xml file not ALTO"] == 1


def test_corrupt_page_image(alto_page):
    (alto_page / "page.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(DatasetError, match=r"page\.xml: .*page\.png: "):
        read(alto_page)
    _, report = read(alto_page, skip_bad=True)
    assert report.skipped == {"unreadable page": 1}


# -- PAGE-XML --------------------------------------------------------------------------


@pytest.mark.parametrize("ns", [PAGE2013, PAGE2019])
def test_page_xml(tmp_path, ns):
    save(page_image(), tmp_path / "scan.png")
    (tmp_path / "page").mkdir()
    (tmp_path / "page" / "scan.xml").write_text(page_xml(ns, image="scan.png"))
    assert type(find_reader(tmp_path / "page")).__name__ == "PageXmlReader"
    samples, _ = read(tmp_path / "page")
    assert [s.text for s in samples] == ["first choice", "nested words", "plain line"]
    assert [s.id for s in samples] == ["scan.xml#t1", "scan.xml#t2", "scan.xml#t3"]
    assert samples[0].image.shape == (30, 110) and samples[0].image[0, 0] == 255
    np.testing.assert_array_equal(samples[1].image, page_image()[50:70, 10:110])
    headings, report = read(tmp_path / "page", "page", {"line_types": "Heading"})
    assert [s.text for s in headings] == ["first choice"] and report.dropped["line type"] == 2
