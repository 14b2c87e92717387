"""Dataset readers, on small datasets of every format written into a temporary folder."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, handwriting_like, run_cli
from dataset_helpers import ALTO_LINES, PAGE2019, alto, page_image, page_xml, read, save

from htrkit.datasets import DatasetError, DatasetReport, find_reader, read_dataset, split_of
from htrkit.plugins import registry

# -- IAM -------------------------------------------------------------------------------

WORDS = """\
#--- words.txt ---------------------------------------------------------------#
# format: a01-000u-00-00 ok 154 408 768 27 51 AT A
a01-000u-00-00 ok 154 408 768 27 51 AT A
a01-000u-00-01 err 154 507 766 213 48 NN MOVE
a01-000x-00-00 ok 154 -1 -1 -1 -1 NN Hello
"""
LINES = """\
# format: a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop
a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop|Mr.|Gaitskell
a01-000u-01 err 156 19 395 932 1850 105 nominating|any|more
"""


@pytest.fixture
def iam(tmp_path) -> Path:
    root = tmp_path / "iam"
    (root / "ascii").mkdir(parents=True)
    (root / "ascii" / "words.txt").write_text(WORDS)
    (root / "ascii" / "lines.txt").write_text(LINES)
    for i, row in enumerate(WORDS.splitlines() + LINES.splitlines()):
        if row.startswith("#"):
            continue
        sample_id = row.split()[0]
        level = "words" if sample_id.count("-") == 3 else "lines"
        form = "-".join(sample_id.split("-")[:2])
        save(handwriting_like(seed=i), root / level / form[:3] / form / f"{sample_id}.png")
    return root


def test_iam_words_and_lines(iam):
    words, _ = read(iam, "iam", {"level": "words"})
    assert [(s.id, s.text, s.group) for s in words] == [
        ("a01-000u-00-00", "A", "a01-000u"),
        ("a01-000u-00-01", "MOVE", "a01-000u"),
        ("a01-000x-00-00", "Hello", "a01-000x"),
    ]
    lines, _ = read(iam)  # detected; lines by default
    assert [s.text for s in lines] == ["A MOVE to stop Mr. Gaitskell", "nominating any more"]
    kept, report = read(iam, "iam", {"level": "words", "skip_err": "true"})
    assert len(kept) == 2 and report.dropped == {"segmentation err": 1}


def test_iam_errors_name_file_and_line(iam):
    words = iam / "ascii" / "words.txt"
    words.write_text(WORDS + "a01-000u-00-02 ok 154 x\n")
    with pytest.raises(DatasetError, match=r"words\.txt:6: expected a row like"):
        read(iam, "iam", {"level": "words"})
    words.write_text(WORDS + "a01-000u-00-09 ok 154 1 1 1 1 NN gone\n")
    with pytest.raises(DatasetError, match=r"words\.txt:6: .*a01-000u-00-09\.png: no such file"):
        read(iam, "iam", {"level": "words"})
    samples, report = read(iam, "iam", {"level": "words"}, skip_bad=True)
    assert len(samples) == 3 and report.skipped == {"unreadable image": 1}
    (iam / "ascii" / "lines.txt").unlink()
    with pytest.raises(DatasetError, match="no ascii/lines.txt .*-O level=words"):
        read(iam, "iam")


# -- tables ----------------------------------------------------------------------------


@pytest.fixture
def kaggle(tmp_path) -> Path:
    for i in range(1, 6):
        save(handwriting_like(seed=i), tmp_path / "train" / f"TRAIN_{i:05d}.jpg")
    table = tmp_path / "written_name_train.csv"
    table.write_text(
        "FILENAME,IDENTITY\n"
        "TRAIN_00001.jpg,BALTHAZAR\n"
        "TRAIN_00002.jpg,UNREADABLE\n"
        "TRAIN_00003.jpg,\n"
        "TRAIN_00004.jpg,unreadable\n"
        'TRAIN_00005.jpg,"DE LA CRUZ, JR "\n'
    )
    return table


def test_kaggle_csv(kaggle):
    samples, report = read(kaggle, "table", {"image_dir": "train"})
    assert [(s.id, s.text, s.group) for s in samples] == [
        ("TRAIN_00001.jpg", "BALTHAZAR", "TRAIN_00001"),
        ("TRAIN_00005.jpg", "DE LA CRUZ, JR", "TRAIN_00005"),
    ]
    assert report.dropped == {"unreadable": 2, "empty": 1}
    assert samples[0].image.dtype == np.uint8 and samples[0].image.shape[:2] == (48, 240)


def test_table_missing_image_and_malformed_rows(kaggle):
    with pytest.raises(DatasetError, match=r"written_name_train\.csv:2: .*TRAIN_00001\.jpg"):
        read(kaggle)  # images are not beside the table
    with kaggle.open("a") as f:
        f.write("TRAIN_00009.jpg,GONE\nlonely\n")
    with pytest.raises(DatasetError, match=r"\.csv:7: .*TRAIN_00009\.jpg: no such file"):
        read(kaggle, "table", {"image_dir": "train"})
    samples, report = read(kaggle, "table", {"image_dir": "train"}, skip_bad=True)
    assert len(samples) == 2
    assert report.skipped == {"unreadable image": 1, "malformed row": 1}
    assert report.examples["malformed row"].endswith(
        "csv:8: expected an image path and a text (2 columns), got 1 column"
    )


def test_tsv_with_writer_column_and_headerless_tables(tmp_path):
    for i, name in enumerate(["w1/a.png", "w1/b.png", "w2/c.png"]):
        save(handwriting_like(seed=i), tmp_path / name)
    (tmp_path / "labels.tsv").write_text(
        'image\ttext\twriter\nw1/a.png\tGroß "Köris"\t1\nw1/b.png\tb\t1\nw2/c.png\tc\t2\n'
    )
    samples, _ = read(tmp_path / "labels.tsv")
    assert [(s.text, s.group) for s in samples] == [('Groß "Köris"', "1"), ("b", "1"), ("c", "2")]
    (tmp_path / "plain.csv").write_text("w1/a.png,alpha\nw2/c.png,gamma\n")
    samples, _ = read(tmp_path / "plain.csv")
    assert [(s.text, s.group) for s in samples] == [("alpha", "a"), ("gamma", "c")]
    (tmp_path / "odd.txt").write_text("w1/a.png;x\n")
    samples, _ = read(tmp_path / "odd.txt", "table", {"delimiter": "semicolon"})
    assert samples[0].text == "x"
    with pytest.raises(DatasetError, match=r"labels\.tsv:1: no column 'speaker'"):
        read(tmp_path / "labels.tsv", "table", {"group_column": "speaker"})


# -- folders of images -----------------------------------------------------------------


def test_folder_labels(tmp_path):
    for i, name in enumerate(["3bnyf.png", "abc.png", "abc_2.png", "a_b.jpg"]):
        save(handwriting_like(seed=i), tmp_path / "captcha" / name)
    samples, _ = read(tmp_path / "captcha")
    assert [(s.id, s.text, s.group) for s in samples] == [
        ("3bnyf.png", "3bnyf", "3bnyf"),
        ("a_b.jpg", "a_b", "a_b"),
        ("abc.png", "abc", "abc"),
        ("abc_2.png", "abc", "abc_2"),
    ]
    samples, _ = read(tmp_path / "captcha", "folder-labels", {"group_by": "label"})
    assert samples[3].group == "abc"
    samples, _ = read(tmp_path / "captcha", "folder-labels", {"separator": ""})
    assert samples[3].text == "abc_2"


def test_gt_pairs(tmp_path):
    root = tmp_path / "gt"
    pairs = {"book1/0001.png": "first line", "book1/0002.bin.png": "  second\n", "b2/x.png": ""}
    for i, (name, text) in enumerate(pairs.items()):
        save(handwriting_like(seed=i), root / name)
        (root / name).with_name(name.split("/")[1].split(".")[0] + ".gt.txt").write_text(text)
    save(handwriting_like(), root / "book1" / "0003.png")  # no transcription
    save(handwriting_like(), root / "top.png")
    (root / "top.gt.txt").write_text("at the top")
    samples, report = read(root)
    assert [(s.id, s.text, s.group) for s in samples] == [
        ("book1/0001.png", "first line", "book1"),
        ("book1/0002.bin.png", "second", "book1"),
        ("top.png", "at the top", "top"),
    ]
    assert report.dropped == {"empty": 1, "no transcription": 1}
    samples, _ = read(root, "gt-pairs", {"group_by": "file"})
    assert samples[1].group == "book1/0002.bin"


def test_gt_pairs_linking_out_of_their_folder_are_refused(tmp_path):
    from htrkit.datasets import DatasetError

    secret = tmp_path / "elsewhere"
    save(handwriting_like(seed=1), secret / "s.png")
    (secret / "s.gt.txt").write_text("private")
    root = tmp_path / "gt"
    save(handwriting_like(seed=2), root / "a.png")
    (root / "a.gt.txt").write_text("mine")
    (root / "b.png").symlink_to(secret / "s.png")
    (root / "b.gt.txt").symlink_to(secret / "s.gt.txt")
    with pytest.raises(DatasetError, match="links outside"):
        read(root, "gt-pairs")
    samples, report = read(root, "gt-pairs", skip_bad=True)
    assert [s.text for s in samples] == ["mine"]
    assert report.skipped == {"file outside the dataset": 1}


def test_bad_image_names_the_file(tmp_path):
    save(handwriting_like(), tmp_path / "good.png")
    (tmp_path / "bad.png").write_bytes(b"not an image at all")
    with pytest.raises(DatasetError, match=r"bad\.png: not an image"):
        read(tmp_path, "folder-labels")
    samples, report = read(tmp_path, "folder-labels", skip_bad=True)
    assert [s.text for s in samples] == ["good"]
    assert report.skipped == {"unreadable image": 1}


# -- detection, registry, splits -------------------------------------------------------


def test_readers_are_registered_in_detection_order():
    assert [spec.name for spec in registry("dataset")] == [
        "alto",
        "page",
        "iam",
        "table",
        "gt-pairs",
        "folder-labels",
        "digits",
        "synth",
    ]


@pytest.mark.parametrize("name", ["alto", "page", "iam", "table", "gt-pairs", "folder-labels"])
def test_every_reader_ignores_what_is_not_its_format(name, tmp_path):
    reader = registry("dataset").create(name)
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.md").write_text("# notes, nothing else\n")
    for path in (tmp_path / "missing", tmp_path / "empty", tmp_path / "notes.md"):
        assert reader.detect(path) is False


def test_each_format_is_detected(tmp_path, alto_page, iam, kaggle):
    save(page_image(), tmp_path / "p" / "scan.png")
    (tmp_path / "p" / "scan.xml").write_text(page_xml(PAGE2019, "scan.png"))
    save(handwriting_like(), tmp_path / "g" / "a.png")
    (tmp_path / "g" / "a.gt.txt").write_text("a")
    save(handwriting_like(), tmp_path / "f" / "label.png")
    expected = {
        alto_page: "AltoReader",
        alto_page / "page.xml": "AltoReader",
        tmp_path / "p": "PageXmlReader",
        tmp_path / "p" / "scan.xml": "PageXmlReader",
        iam: "IamReader",
        kaggle: "TableReader",
        tmp_path / "g": "GtPairsReader",
        tmp_path / "f": "FolderLabelsReader",
    }
    for path, reader in expected.items():
        assert type(find_reader(path)).__name__ == reader, path
    with pytest.raises(DatasetError, match=r"cannot tell the dataset format; .*alto"):
        find_reader(tmp_path / "p" / "scan.png")


def test_splits_are_deterministic_and_never_cut_a_group(tmp_path):
    for i in range(60):
        for j in range(3):
            save(handwriting_like(60, 32, seed=j), tmp_path / f"page{i:02d}" / f"{j}.png")
            (tmp_path / f"page{i:02d}" / f"{j}.gt.txt").write_text(f"line {j}")
    samples, report = read(tmp_path)
    assert len(samples) == 180 and len(report.groups) == 60
    splits = defaultdict(set)
    for s in samples:
        splits[s.group].add(split_of(s.group, 0.2))
    assert all(len(parts) == 1 for parts in splits.values())
    val = sorted(g for g, parts in splits.items() if parts == {"val"})
    assert 4 <= len(val) <= 20
    assert val == sorted(g for g in splits if split_of(g, 0.2) == "val")  # same every time
    assert split_of("page07", 0.2) == split_of("page07", 0.2, seed=0)
    assert {split_of(g, 0.0) for g in splits} == {"train"}
    assert {split_of(g, 1.0) for g in splits} == {"val"}


def test_docs_describe_every_reader_and_option():
    import dataclasses

    text = (ROOT / "docs" / "datasets.md").read_text()
    for spec in registry("dataset"):
        assert f"`{spec.name}`" in text, spec.name
        for f in dataclasses.fields(spec.options):
            assert f"`{f.name}`" in text, (spec.name, f.name)


# -- htrkit data summary ---------------------------------------------------------------


def test_data_summary_cli(kaggle):
    out = run_cli("data", "summary", kaggle, "-O", "image_dir=train", "--val-fraction", "0.5")
    assert out.returncode == 0, out.stderr
    assert re.search(r"samples: +2 in 2 groups", out.stdout)
    assert re.search(r"dropped: +empty 1, unreadable 2", out.stdout)
    assert "(table)" in out.stdout and "split:" in out.stdout

    out = run_cli("data", "summary", kaggle, "-f", "csv", "-O", "image_dir=train", "--json")
    data = json.loads(out.stdout)
    assert data["format"] == "table" and data["samples"] == 2
    assert data["alphabet"] == " ,ABCDEHJLRTUZ" and data["dropped"] == {"unreadable": 2, "empty": 1}


def test_data_summary_errors_are_one_line(kaggle):
    out = run_cli("data", "summary", kaggle)
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0
    assert re.match(r"htrkit: error: .*written_name_train\.csv:2: .*no such file", out.stderr)
    out = run_cli("data", "summary", kaggle, "--skip-bad")
    assert out.returncode == 0, out.stderr
    assert re.search(r"skipped: +unreadable image 2\n  unreadable image, e.g.: .*:2: ", out.stdout)
    out = run_cli("data", "summary", kaggle, "-f", "tabel")
    assert out.returncode == 2 and "did you mean 'table'?" in out.stderr


def test_docs_python_example_runs(tmp_path, monkeypatch, capsys):
    text = (ROOT / "docs" / "datasets.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    for i in range(3):
        save(handwriting_like(seed=i), tmp_path / "gt" / f"page{i}" / "0001.png")
        (tmp_path / "gt" / f"page{i}" / "0001.gt.txt").write_text(f"line {i}")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/datasets.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "3 samples, 3 groups"
    assert re.fullmatch(r"(train|val) page0/0001\.png line 0 \(48, 240\)", out[0])


def test_texts_come_in_nfc(tmp_path):
    # some HTR-United transcriptions write an accent as a combining mark after its letter
    save(page_image(), tmp_path / "scan.png")
    lines = ALTO_LINES.replace("Hello", "Cafe\u0301")
    (tmp_path / "scan.xml").write_text(alto(lines, image="scan.png"))
    (tmp_path / "table.tsv").write_text("image\ttext\nscan.png\tnai\u0308ve\n", encoding="utf-8")
    samples, _ = read(tmp_path / "scan.xml")
    assert "Café" in samples[0].text and "\u0301" not in samples[0].text
    (row,), _ = read(tmp_path / "table.tsv", "table")
    assert row.text == "naïve"


# -- paths stay inside the dataset -------------------------------------------------------


def test_dataset_files_cannot_name_images_outside_their_folder(tmp_path):
    """A downloaded table or page XML names ``../`` or absolute paths: refused with one
    line (or counted with skip_bad), unless allow_outside says otherwise."""
    save(page_image(40, 20), tmp_path / "secret.png")
    data = tmp_path / "data"
    save(page_image(40, 20), data / "ok.png")
    table = data / "labels.tsv"
    table.write_text(f"image\ttext\nok.png\tfine\n../secret.png\tup\n{tmp_path}/secret.png\tabs\n")
    with pytest.raises(DatasetError, match=r"labels.tsv:3: \.\./secret.png: outside .*data/"):
        read(table)
    samples, report = read(table, skip_bad=True)
    assert [s.text for s in samples] == ["fine"]
    assert report.skipped["image outside the dataset"] == 2
    samples, _ = read(table, "table", {"allow_outside": "true"})
    assert [s.text for s in samples] == ["fine", "up", "abs"]

    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "p.xml").write_text(alto(ALTO_LINES, image="../secret.png"))
    save(page_image(), tmp_path / "secret.png")
    with pytest.raises(DatasetError, match=r"p.xml: image '\.\./secret.png' is outside .*pages/"):
        read(pages / "p.xml")
    samples, _ = read(pages, "alto", {"allow_outside": "true"})
    assert [s.text for s in samples] == ["Hello wor-", "two words"]
    # an export's page/ folder reads the images beside it (Transkribus, eScriptorium)
    export = tmp_path / "export"
    save(page_image(), export / "scan.png")
    (export / "page").mkdir()
    (export / "page" / "scan.xml").write_text(alto(ALTO_LINES, image="scan.png"))
    assert len(read(export / "page")[0]) == 2


def test_line_geometry_far_off_the_page_is_clipped_where_pages_are_read(tmp_path):
    """A 50,000-px box and 1e11 coordinates cost eval-seg 3 GB, or an overflow: lines are
    clipped to the page when it is read, and a line wholly off the page is left out."""
    folder = tmp_path / "alto"
    save(page_image(), folder / "page.png")  # 400 x 200
    lines = """
<TextLine ID="big" HPOS="10" VPOS="10" WIDTH="50000" HEIGHT="30"><String CONTENT="wide"/></TextLine>
<TextLine ID="far" HPOS="10" VPOS="60" WIDTH="100" HEIGHT="20">
  <Shape><Polygon POINTS="10 60 100000000000 60 100000000000 80 10 80"/></Shape>
  <String CONTENT="far"/></TextLine>
<TextLine ID="off" HPOS="9000" VPOS="9000" WIDTH="10" HEIGHT="10"><String CONTENT="off"/></TextLine>
"""
    (folder / "page.xml").write_text(alto(lines))
    reader = find_reader(folder, "alto")
    report = DatasetReport()
    (page,) = list(reader.pages(folder, report, skip_bad=True))
    assert [ln.id for ln in page.lines] == ["big", "far"]
    for line in page.lines:
        assert all(0 <= x <= 400 and 0 <= y <= 200 for x, y in line.polygon)
        assert line.bbox[2] <= 400 and line.bbox[3] <= 200
    assert report.skipped["line outside the page"] == 1
    samples, _ = read(folder, skip_bad=True)
    assert [s.text for s in samples] == ["wide", "far"] and samples[0].image.shape[1] <= 400


def test_a_digits_file_claiming_terabytes_is_refused_from_its_header(tmp_path):
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": (100000, 10000, 10000)}
    )
    labels = io.BytesIO()
    np.save(labels, np.zeros(3, np.uint8))
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w") as z:  # under 1 KB, claiming 9 TiB
        z.writestr("images.npy", header.getvalue())  # the header alone
        z.writestr("labels.npy", labels.getvalue())
    assert bomb.stat().st_size < 1024
    with pytest.raises(DatasetError, match=r"claims \(100000, 10000, 10000\) \(9313.2 GiB\)"):
        list(read_dataset(bomb, "digits"))
