"""The dataset readers on the real pages and words in ../shared/data (skipped without it).

Counts are exact: they pin down what the readers make of these files (see
docs/datasets.md for the recipes used here).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from htrkit.datasets import DatasetReport, read_dataset, split_of

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

pytestmark = pytest.mark.shared

COPISTE = {
    "exclude_pattern": r"(?i)wiki\s*texte",
    "group_by": "document",
    "document_pattern": r"^(?:imp_|oldbatch_)?wikitexte_\d+",
}
POILUS = {"group_by": "document", "document_pattern": r"^(.+)-\d+$"}


class Read:
    """What reading a dataset gave, without keeping the images."""

    def __init__(self, path: Path, fmt: str | None = None, options: dict | None = None):
        if not path.exists():
            pytest.skip(f"{path} is not here (shared data)")
        self.report = DatasetReport()
        start = time.perf_counter()
        self.rows = []
        for s in read_dataset(path, fmt, options, report=self.report):
            image = s.image
            assert image.dtype.name == "uint8" and image.ndim == 2 and min(image.shape) > 0
            self.rows.append((s.id, s.text, s.group, image.shape))
        self.seconds = time.perf_counter() - start
        print(
            f"\n{path.name}: {len(self.rows)} samples, {len(self.report.groups)} groups, "
            f"dropped {dict(self.report.dropped)}, {self.seconds:.1f} s"
        )

    @property
    def pages(self) -> set[str]:
        return {row[0].split("#")[0] for row in self.rows}


@pytest.fixture(scope="module")
def copiste() -> Read:
    return Read(SHARED / "copiste-pages", None, COPISTE)


@pytest.fixture(scope="module")
def poilus() -> Read:
    return Read(SHARED / "poilus-pages", "alto", POILUS)


@pytest.fixture(scope="module")
def dhsd() -> Read:
    return Read(SHARED / "dhsd-words" / "labels.tsv")


def test_copiste_every_page(copiste):
    assert len(copiste.rows) == 5339
    # 5,623 TextLines: 280 page-reference lines and 4 empty ones left out
    assert copiste.report.dropped == {"excluded": 280, "empty": 4}
    assert not copiste.report.skipped
    assert len(copiste.pages) == 297
    # pages of one copied text (..._1, ..._2) form one document
    assert len(copiste.report.groups) == 235
    groups = {row[0].split(".xml")[0]: row[2] for row in copiste.rows}
    assert groups["imp_wikitexte_0051_1"] == groups["imp_wikitexte_0051_2"] == "imp_wikitexte_0051"
    assert groups["wikitexte_0051"] == "wikitexte_0051" != groups["oldbatch_wikitexte_0001"]


def test_copiste_reference_lines_are_excluded(copiste):
    texts = [row[1] for row in copiste.rows]
    assert not [t for t in texts if re.search(r"wiki\s*texte|^\W*imp_", t, re.I)]
    assert "La Fédération du Laos de football est une association" in texts
    assert "imp_wikitexte_0022" not in texts


def test_poilus_every_page(poilus):
    assert len(poilus.rows) == 3078
    assert not poilus.report.dropped and not poilus.report.skipped
    assert len(poilus.pages) == 209  # of 210: AN_0292-2 has no lines
    wills = Counter(row[2] for row in poilus.rows)
    assert len(wills) == 137
    assert "TestamentsDePoilus_will_AN_0008" in wills


def test_poilus_line_types():
    page = SHARED / "poilus-pages" / "TestamentsDePoilus_will_AN_0194-0.xml"
    interlinear = Read(page, "alto", {"line_types": "InterlinearLine"})
    assert len(interlinear.rows) == 2
    assert interlinear.report.dropped["line type"] > 10


def test_dhsd_words_grouped_by_writer(dhsd):
    assert len(dhsd.rows) == 5158
    assert not dhsd.report.dropped and not dhsd.report.skipped
    assert len(dhsd.report.groups) == 32
    for image_id, _, writer, _ in dhsd.rows[::97]:
        assert image_id.startswith(f"images/writer{writer}/")
    assert set("äöüßÄÖÜ") <= set(dhsd.report.chars)
    val = {g for g in dhsd.report.groups if split_of(g, 0.2) == "val"}
    assert 0 < len(val) < 32
