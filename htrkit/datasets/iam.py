"""The IAM Handwriting Database layout.

A root folder holding ``ascii/words.txt`` or ``ascii/lines.txt`` (or the same files at the
root) and the images at ``words/a01/a01-000u/a01-000u-00-00.png`` or
``lines/a01/a01-000u/a01-000u-00.png``. Rows are ``id status graylevel ... text``;
``#`` starts a comment; in ``lines.txt`` ``|`` separates words. The group is the form
(``a01-000u``): its lines come from one writer copying one text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from htrkit.datasets import DatasetError, DatasetReport, Sample
from htrkit.datasets.options import IamOptions
from htrkit.datasets.reading import bad, load_or_skip

_ID = {
    "words": re.compile(r"^([A-Za-z0-9]+)-([A-Za-z0-9]+)-\d+-\d+$"),
    "lines": re.compile(r"^([A-Za-z0-9]+)-([A-Za-z0-9]+)-\d+$"),
}
#: numeric columns after id and status: graylevel and box for words; graylevel,
#: component count and box for lines
_NUMBERS = {"words": 5, "lines": 6}
_FORMAT = {
    "words": "a01-000u-00-00 ok 154 408 768 27 51 AT A",
    "lines": "a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop",
}


def transcription_file(root: Path, level: str) -> Path | None:
    for candidate in (root / "ascii" / f"{level}.txt", root / f"{level}.txt"):
        if candidate.is_file():
            return candidate
    return None


class IamReader:
    def __init__(self, options: IamOptions):
        self.options = options

    def detect(self, path: Path) -> bool:
        return path.is_dir() and any(transcription_file(path, lv) for lv in ("words", "lines"))

    def samples(self, path: Path, report: DatasetReport, skip_bad: bool) -> Iterator[Sample]:
        level = self.options.level
        table = transcription_file(path, level)
        if table is None:
            other = "words" if level == "lines" else "lines"
            hint = f"; it has {other}: -O level={other}" if transcription_file(path, other) else ""
            raise DatasetError(f"{path}: no ascii/{level}.txt (nor {level}.txt){hint}")
        with open(table, "rb") as f:
            for number, raw in enumerate(f, 1):
                where = f"{table}:{number}: "
                try:
                    row = raw.decode("utf-8").strip()
                except UnicodeDecodeError as exc:
                    bad(report, skip_bad, "malformed row", f"{where}not UTF-8 text ({exc.reason})")
                    continue
                if not row or row.startswith("#"):
                    continue
                try:
                    sample_id, form, status, text = self._parse(row, level)
                except ValueError as exc:
                    bad(report, skip_bad, "malformed row", f"{where}{exc}")
                    continue
                if status == "err" and self.options.skip_err:
                    report.drop("segmentation err")
                    continue
                if not text:
                    report.drop("empty")
                    continue
                image = path / level / form.split("-")[0] / form / f"{sample_id}.png"
                array = load_or_skip(image, report, skip_bad, where)
                if array is None:
                    continue
                yield Sample(sample_id, text, form, array, str(image))

    @staticmethod
    def _parse(row: str, level: str) -> tuple[str, str, str, str]:
        """``(id, form, status, text)`` of one row; ValueError saying what is wrong."""
        fields = row.split()
        expected = f"expected a row like {_FORMAT[level]!r}, got {row[:80]!r}"
        numbers = _NUMBERS[level]
        first_word = 3 + numbers if level == "words" else 2 + numbers  # words have a POS tag
        if len(fields) <= first_word:
            raise ValueError(expected)
        match = _ID[level].match(fields[0])
        if match is None:
            raise ValueError(f"{fields[0]!r} is not an IAM {level[:-1]} id; {expected}")
        if fields[1] not in ("ok", "err"):
            raise ValueError(f"status {fields[1]!r} is neither 'ok' nor 'err'")
        if not all(re.fullmatch(r"-?\d+", f) for f in fields[2 : 2 + numbers]):
            raise ValueError(expected)
        text = " ".join(fields[first_word:])
        if level == "lines":
            text = " ".join(text.replace("|", " ").split())
        return fields[0], f"{match.group(1)}-{match.group(2)}", fields[1], text
