"""PAGE-XML and ALTO output: valid against the official schemas, read back by htrkit's own
dataset readers, written by ``htrkit run --format page|alto``, and the ``--overlay``
picture."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED, handwriting_like, run_cli

from htrkit.datasets import read_dataset
from htrkit.plugins import registry
from htrkit.results import CharResult, LineResult, Result

etree = pytest.importorskip("lxml.etree")

SCHEMAS = Path(__file__).parent / "data" / "schemas"


def schema(name: str):
    text = (SCHEMAS / name).read_text(encoding="utf-8")
    # the ALTO schema imports xlink from the web: use the local copy
    text = text.replace(
        "http://www.loc.gov/standards/xlink/xlink.xsd", (SCHEMAS / "xlink.xsd").as_uri()
    )
    return etree.XMLSchema(etree.fromstring(text.encode("utf-8"), base_url=str(SCHEMAS) + "/"))


@pytest.fixture(scope="module")
def schemas():
    return {"page": schema("pagecontent-2019-07-15.xsd"), "alto": schema("alto-4-4.xsd")}


def assert_valid(xml: str, checker) -> None:
    doc = etree.fromstring(xml.encode("utf-8"))
    if not checker.validate(doc):
        raise AssertionError("\n".join(str(e) for e in checker.error_log))


def line(text: str, y: int, x0: int = 20, conf: float = 0.8) -> LineResult:
    chars, x = [], x0
    for ch in text:
        chars.append(CharResult(ch, x, x + 9, 0.9 if ch != "é" else 0.4, len(chars)))
        x += 10
    return LineResult(
        text=text,
        confidence=conf,
        bbox=(x0, y, x, y + 30),
        polygon=[(x0, y), (x, y + 2), (x, y + 30), (x0, y + 28)],
        baseline=[(x0, y + 24), (x, y + 25)],
        chars=chars,
    )


def page_result(source: str) -> Result:
    return Result(
        source=source,
        width=400,
        height=200,
        lines=[
            line("Le café <au> coin", 10),
            line('R&D "chez" Zoë', 60, conf=0.55),
            # a line that pokes out of the page: written clipped to it
            LineResult("bord", 0.9, (-5, 150, 420, 210), [(-5, 150), (420, 150), (420, 210)]),
        ],
    )


def write(fmt: str, results: list[Result]) -> str:
    stream = io.StringIO()
    registry("writer").create(fmt).write(results, stream)
    return stream.getvalue()


@pytest.mark.parametrize("fmt", ["page", "alto"])
def test_output_is_valid_against_the_official_schema(fmt, schemas):
    xml = write(fmt, [page_result("scans/page 1.png")])
    assert_valid(xml, schemas[fmt])
    # special characters are escaped, not lost
    assert "&lt;au&gt;" in xml and "R&amp;D" in xml and "café" in xml
    empty = write(fmt, [Result("blank.png", 300, 300, [])])
    assert_valid(empty, schemas[fmt])


def test_a_schema_violation_is_caught(schemas):
    """The check can fail: a PAGE line without Coords is invalid."""
    xml = write("page", [page_result("p.png")])
    broken = xml.replace("<Coords", "<Nothing", 2)
    with pytest.raises(AssertionError):
        assert_valid(broken, schemas["page"])


@pytest.mark.parametrize("fmt", ["page", "alto"])
def test_output_is_read_back_by_the_dataset_readers(fmt, tmp_path):
    from PIL import Image

    image = tmp_path / "page.png"
    Image.fromarray(np.full((200, 400), 255, np.uint8)).save(image)
    result = page_result(str(image))
    (tmp_path / "page.xml").write_text(write(fmt, [result]), encoding="utf-8")
    samples = list(read_dataset(tmp_path, fmt))
    assert [s.text for s in samples] == [ln.text for ln in result.lines]
    assert all(s.image.shape[0] > 0 for s in samples)


def test_words_and_confidences_are_written(tmp_path):
    page = etree.fromstring(write("page", [page_result("p.png")]).encode())
    ns = {"p": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}
    words = page.findall(".//p:TextLine[@id='l0']/p:Word", ns)
    assert [w.findtext("p:TextEquiv/p:Unicode", namespaces=ns) for w in words] == [
        "Le", "café", "<au>", "coin",
    ]  # fmt: skip
    assert float(words[1].find("p:TextEquiv", ns).get("conf")) < 0.9  # é was unsure
    line_conf = page.find(".//p:TextLine[@id='l1']/p:TextEquiv", ns).get("conf")
    assert float(line_conf) == pytest.approx(0.55)
    alto = etree.fromstring(write("alto", [page_result("p.png")]).encode())
    ans = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
    strings = alto.findall(".//a:TextLine[@ID='l1']/a:String", ans)
    assert [s.get("CONTENT") for s in strings] == ["R&D", '"chez"', "Zoë"]
    assert strings[0].get("HPOS") == "20" and strings[0].get("WIDTH") == "29"
    edge = alto.find(".//a:TextLine[@ID='l2']", ans)
    assert edge.get("HPOS") == "0" and edge.get("WIDTH") == "399"


def test_several_pages_in_one_stream_are_refused():
    from htrkit.errors import HtrkitError

    with pytest.raises(HtrkitError, match="one document per page"):
        write("alto", [page_result("a.png"), page_result("b.png")])


@pytest.fixture
def page_png(tmp_path) -> Path:
    from PIL import Image

    rows = [handwriting_like(360, 48, seed=s) for s in range(4)]
    gap = np.full((30, 360), 255, np.uint8)
    page = np.vstack([gap] + [x for r in rows for x in (r, gap)])
    path = tmp_path / "page.png"
    Image.fromarray(np.pad(page, ((0, 0), (40, 40)), constant_values=255)).save(path)
    return path


@pytest.mark.slow
def test_run_writes_page_and_alto_and_an_overlay(page_png, tmp_path, schemas):
    from PIL import Image

    out = tmp_path / "out"
    for fmt in ("page", "alto"):
        done = run_cli("run", page_png, "--segmenter", "projection", "-f", fmt, "-o", out / fmt,
                       "--overlay", tmp_path / f"overlay-{fmt}.png")  # fmt: skip
        assert done.returncode == 0, done.stderr
        xml = (out / fmt / "page.xml").read_text(encoding="utf-8")
        assert_valid(xml, schemas[fmt])
        assert xml.count("<TextLine") == 4
    overlay = Image.open(tmp_path / "overlay-page.png")
    assert overlay.size == Image.open(page_png).size
    # the overlay differs from the page: lines were drawn
    page = np.asarray(Image.open(page_png).convert("RGB"), dtype=np.int16)
    assert np.abs(np.asarray(overlay, dtype=np.int16) - page).mean() > 1.0

    two = run_cli("run", page_png, page_png, "-f", "page")
    assert two.returncode == 2
    assert "one document per page: give a directory (-o out/) for the 2 inputs" in two.stderr
    many = run_cli("run", page_png, page_png, "--overlay", tmp_path / "pics", "-o",
                   tmp_path / "txt")  # fmt: skip
    assert many.returncode == 0, many.stderr
    assert sorted(p.name for p in (tmp_path / "pics").iterdir()) == ["page-2.png", "page.png"]


# -- hOCR ------------------------------------------------------------------------------


def test_hocr_has_pages_lines_words_boxes_and_confidences():
    import re

    from lxml import etree

    text = write("hocr", [page_result("scans/p1.png")])
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html')
    root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False))
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    page = root.find(".//h:div[@class='ocr_page']", ns)
    assert page.get("title") == 'image "p1.png"; bbox 0 0 400 200; ppageno 0'
    lines = root.findall(".//h:span[@class='ocr_line']", ns)
    assert len(lines) == 3
    words = [[w.text for w in ln.findall("h:span[@class='ocrx_word']", ns)] for ln in lines]
    assert words == [["Le", "café", "<au>", "coin"], ["R&D", '"chez"', "Zoë"], ["bord"]]
    first = lines[0].get("title")
    assert first.startswith("bbox 20 10 190 40; baseline 0.0059 -6; x_wconf 80")
    assert lines[1].get("title").endswith("x_wconf 55")
    for box in re.findall(r"bbox (\d+) (\d+) (\d+) (\d+)", text):
        x0, y0, x1, y1 = map(int, box)
        assert 0 <= x0 <= x1 <= 400 and 0 <= y0 <= y1 <= 200  # clipped to the page
    cafe = lines[0].findall("h:span", ns)[1].get("title")
    assert cafe == "bbox 50 10 89 40; x_wconf 73"  # 0.9, 0.9, 0.9, 0.4: geometric mean
    assert "&lt;au&gt;" in text and "R&amp;D" in text  # escaped, never raw


def test_run_writes_hocr_per_input(page_png, tmp_path):
    import shutil

    out = tmp_path / "hocr"
    (tmp_path / "again").mkdir()
    other = shutil.copy(page_png, tmp_path / "again" / page_png.name)  # the same name
    done = run_cli("run", page_png, other, "-f", "hocr", "-o", f"{out}/")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.glob("*.hocr")) == ["page-2.hocr", "page.hocr"]
    one = run_cli("run", page_png, page_png, "-f", "hocr")
    assert one.returncode == 2 and "writes one document per page" in one.stderr


def test_a_postprocessed_text_is_what_the_words_say(schemas):
    """A postprocessor that changes the text but not the characters (README's ``shout``):
    the words are the new text's, in the old words' places while they are as many."""
    result = page_result("p.png")
    shouted, split = result.lines[0], result.lines[1]
    shouted.text = shouted.text.upper() + "!"
    split.text = "RD chez Zoë et al"  # five words where the characters have three
    assert [w.text for w in shouted.words] == ["LE", "CAFÉ", "<AU>", "COIN!"]
    assert [w.x0 for w in shouted.words] == [20, 50, 100, 150]
    assert split.words == []
    for fmt in ("page", "alto", "hocr"):
        out = write(fmt, [result])
        assert "COIN!" in out and "coin" not in out, fmt
        assert "Zoë et al" in out, fmt  # the whole line as one word
        if fmt in schemas:
            assert_valid(out, schemas[fmt])


def test_low_confidence_lines_stay_in_the_xml_flagged_and_leave_the_text(schemas):
    result = page_result("p.png")
    result.lines[1].flags["low_confidence"] = True
    assert result.text.splitlines() == ["Le café <au> coin", "bord"]
    for fmt in ("page", "alto"):
        xml = write(fmt, [result])
        assert_valid(xml, schemas[fmt])
        assert "Zoë" in xml  # the flagged line is still there
    assert 'custom="htrkit {lowConfidence:true;}"' in write("page", [result])
    alto = write("alto", [result])
    assert 'ID="LOWCONF"' in alto and alto.count('TAGREFS="LOWCONF"') == 1


def test_the_tsv_writer_leaves_low_confidence_lines_out_as_the_text_does():
    result = page_result("p.png")
    result.lines[1].flags["low_confidence"] = True
    assert write("tsv", [result]) == "p.png\tLe café <au> coin bord\n"


def test_min_confidence_from_the_command_line(tmp_path):
    line = Path(__file__).resolve().parent.parent / "examples" / "images" / "handwritten.png"
    kept = run_cli("run", line, "--min-confidence", "0.1")
    assert kept.stdout.strip() == "Handwriting is easy to read for htrkit"
    dropped = run_cli("run", line, "--min-confidence", "1", "-f", "json")
    assert dropped.returncode == 0, dropped.stderr
    import json

    body = json.loads(dropped.stdout)
    assert body["text"] == "" and body["lines"][0]["flags"] == {"low_confidence": True}
    assert body["lines"][0]["text"] == "Handwriting is easy to read for htrkit"
    tsv = run_cli("run", line, "--min-confidence", "1", "-f", "tsv")  # as txt: left out
    assert tsv.returncode == 0 and tsv.stdout == f"{line}\t\n"
    bad = run_cli("run", line, "--min-confidence", "2")
    assert bad.returncode == 2 and "min_confidence must be from 0 to 1, got 2.0" in bad.stderr


# -- reading an existing segmentation: the round trip ------------------------------------


def _without_text(xml: bytes, fmt: str) -> bytes:
    """The document with everything that carries text taken out, canonicalised."""
    root = etree.fromstring(xml)
    drop = {"alto": ("String", "SP", "HYP"), "page": ("TextEquiv", "Word")}[fmt]
    for element in list(root.iter()):
        if etree.QName(element).localname in drop:
            element.getparent().remove(element)
    for element in root.iter():
        element.text = (element.text or "").strip() or None
        element.tail = None
    return etree.tostring(root, method="c14n")


def _round_trip(xml: Path, fmt: str, tmp_path: Path) -> bytes:
    out = tmp_path / f"out-{fmt}"
    done = run_cli("run", xml, "-f", fmt, "-o", f"{out}/")
    assert done.returncode == 0, done.stderr
    return (out / xml.name).read_bytes()


def test_an_alto_and_a_page_file_come_back_with_only_their_text_changed(
    page_png, tmp_path, schemas
):
    from htrkit import Pipeline

    image = page_png
    result = Pipeline(segmenter="projection")(image)
    assert len(result.lines) == 4
    for fmt in ("alto", "page"):
        given = tmp_path / fmt
        given.mkdir()
        (given / "page.png").write_bytes(image.read_bytes())
        original = write(fmt, [result])  # a layout htrkit wrote
        # an existing segmentation: old text in it, ids of its own, a line without text
        original = original.replace('ID="l0"', 'ID="line_a"').replace('id="l0"', 'id="line_a"')
        xml = given / "page.xml"
        xml.write_text(original, encoding="utf-8")
        filled = _round_trip(xml, fmt, tmp_path)
        assert_valid(filled.decode("utf-8"), schemas[fmt])
        assert _without_text(filled, fmt) == _without_text(original.encode("utf-8"), fmt)
        assert b"line_a" in filled
        # the text is what the pipeline reads along the same lines
        lines = Pipeline().load(str(xml)).lines
        assert [ln.id for ln in lines][:2] == ["line_a", "l1"]
        read = Pipeline()(str(xml))
        assert read.lines[0].id == "line_a" and read.text
        if fmt == "page":
            assert read.lines[0].text in filled.decode("utf-8")


def test_a_filled_layout_holds_no_old_text_and_keeps_the_confidence_flags(
    page_png, tmp_path, schemas
):
    """A line htrkit could not read loses its old text (it kept it, as if read), and a
    line read below min_confidence is flagged as in a fresh document."""
    from dataclasses import replace

    from htrkit import Pipeline
    from htrkit.writers.filled import filled_original

    read = Pipeline(segmenter="projection")(page_png)
    old = replace(read, lines=[replace(read.lines[0], text="OLDTEXT", chars=[]), *read.lines[1:]])
    for fmt, name in (("alto", "ALTO"), ("page", "PAGE")):
        xml = tmp_path / fmt / "page.xml"
        xml.parent.mkdir()
        (xml.parent / "page.png").write_bytes(page_png.read_bytes())
        xml.write_text(write(fmt, [old]), encoding="utf-8")
        result = Pipeline()(str(xml))
        result.lines = result.lines[1:]  # as if the first had no area on the page
        result.lines[0].flags["low_confidence"] = True
        with pytest.warns(UserWarning, match=r"line\(s\) could not be read"):
            root = filled_original(result, name)
        out = ET.tostring(root, encoding="unicode")
        assert "OLDTEXT" not in out, fmt
        assert ('TAGREFS="LOWCONF"' if fmt == "alto" else "lowConfidence:true") in out
        assert_valid('<?xml version="1.0" encoding="UTF-8"?>\n' + out, schemas[fmt])


@pytest.mark.skipif(not (SHARED / "copiste-pages").is_dir(), reason="needs ../shared/data")
def test_a_real_alto_page_round_trips(tmp_path, schemas):
    """An eScriptorium export (Copiste): read along its own lines, written back valid, the
    same document but for the text."""
    import shutil

    name = "imp_wikitexte_0022"
    for suffix in (".xml", ".jpg"):
        shutil.copy(SHARED / "copiste-pages" / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    xml = tmp_path / f"{name}.xml"
    filled = _round_trip(xml, "alto", tmp_path)
    assert _without_text(filled, "alto") == _without_text(xml.read_bytes(), "alto")
    root = etree.fromstring(filled)
    words = [s.get("CONTENT") for s in root.iter("{*}String")]
    assert len(words) > 20 and sum(len(w) for w in words) > 100


def test_a_folder_of_images_and_their_layouts_reads_each_image_once(page_png, tmp_path):
    image = page_png
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "page.png").write_bytes(image.read_bytes())
    (folder / "page.xml").write_text(write("alto", [page_result("page.png")]))
    done = run_cli("run", folder, "-f", "tsv")
    assert done.returncode == 0 and len(done.stdout.strip().splitlines()) == 1
