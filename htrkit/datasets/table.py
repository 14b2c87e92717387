"""A CSV or TSV table of image paths and transcriptions.

Columns are found by header name (``FILENAME``/``IDENTITY`` as in Kaggle's handwritten
names, ``image``/``text``, ``path``/``text``, ``file``/``label``, ...), or are the first
two. A ``writer`` or ``group`` column, if any, is the group kept together in splits;
otherwise each image is its own group. Image paths are relative to the table (or to the
``image_dir`` option).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from htrkit.datasets import DatasetError, DatasetReport, Sample
from htrkit.datasets.options import TableOptions
from htrkit.datasets.reading import bad, is_image, load_or_skip, outside, read_head

SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
IMAGE_COLUMNS = ("filename", "file_name", "image", "image_path", "img", "path", "file")
TEXT_COLUMNS = ("identity", "text", "label", "transcription", "gt", "ground_truth")
GROUP_COLUMNS = ("writer", "writer_id", "group")
_DELIMITERS = {"comma": ",", "tab": "\t", "semicolon": ";"}


class TableReader:
    def __init__(self, options: TableOptions):
        self.options = options
        self._drop = {label.casefold() for label in options.drop_labels}

    def detect(self, path: Path) -> bool:
        name = path.name.lower()
        if not path.is_file() or path.suffix.lower() not in SUFFIXES or name.endswith(".gt.txt"):
            return False
        lines = read_head(path).decode("utf-8", "replace").lstrip("\ufeff").splitlines()
        return bool(lines) and ("\t" in lines[0] or "," in lines[0])

    def samples(self, path: Path, report: DatasetReport, skip_bad: bool) -> Iterator[Sample]:
        try:
            content = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DatasetError(
                f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
        except OSError as exc:
            raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None
        delimiter = self._delimiter(path, content)
        quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
        reader = csv.reader(io.StringIO(content), delimiter=delimiter, quoting=quoting)
        images = path.parent / (self.options.image_dir or "")
        columns = None
        try:
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                where = f"{path}:{reader.line_num}: "
                if columns is None:
                    columns = self._columns(path, row, images)
                    if columns.header:
                        continue
                yield from self._row(row, columns, images, where, report, skip_bad)
        except csv.Error as exc:
            raise DatasetError(f"{path}:{reader.line_num}: {exc}") from None
        if columns is None:
            raise DatasetError(f"{path}: the table is empty")

    def _row(
        self,
        row: list[str],
        columns: _Columns,
        images: Path,
        where: str,
        report: DatasetReport,
        skip_bad: bool,
    ) -> Iterator[Sample]:
        needed = max(columns.image, columns.text) + 1
        if len(row) < needed or not row[columns.image].strip():
            got = f"{len(row)} column{'s' * (len(row) != 1)}"
            message = f"{where}expected an image path and a text ({needed} columns), got {got}"
            bad(report, skip_bad, "malformed row", message)
            return
        name = row[columns.image].strip()
        if "\0" in name:
            bad(report, skip_bad, "malformed row", f"{where}the image path holds a NUL byte")
            return
        text = row[columns.text].strip()
        if not text:
            report.drop("empty")
            return
        if text.casefold() in self._drop:
            report.drop("unreadable")
            return
        if not self.options.allow_outside and outside(images / name, [images]):
            bad(report, skip_bad, "image outside the dataset",
                f"{where}{name}: outside {images}/, where the table's images are read "
                "(dataset option allow_outside=true reads it)")  # fmt: skip
            return
        image = load_or_skip(images / name, report, skip_bad, where)
        if image is None:
            return
        group = ""
        if columns.group is not None and columns.group < len(row):
            group = row[columns.group].strip()
        yield Sample(name, text, group or Path(name).stem, image, str(images / name))

    def _delimiter(self, path: Path, content: str) -> str:
        if self.options.delimiter != "auto":
            return _DELIMITERS[self.options.delimiter]
        first = next((line for line in content.splitlines() if line.strip()), "")
        for delimiter in ("\t", ",", ";"):
            if delimiter in first:
                return delimiter
        raise DatasetError(
            f"{path}:1: cannot tell the column separator (no tab, comma or semicolon); "
            "set -O delimiter=tab|comma|semicolon"
        )

    def _columns(self, path: Path, row: list[str], images: Path) -> _Columns:
        names = [cell.strip().casefold() for cell in row]
        o = self.options
        header = o.header
        if header is None:
            known = any(n in IMAGE_COLUMNS for n in names) and any(n in TEXT_COLUMNS for n in names)
            first = row[0].strip()
            header = (
                known
                or bool(o.image_column or o.text_column)
                or not (is_image(Path(first)) or (images / first).is_file())
            )
        if not header:
            return _Columns(
                False,
                _index(path, o.image_column, names, (), 0, header=False),
                _index(path, o.text_column, names, (), 1, header=False),
                _index(path, o.group_column, names, (), None, header=False),
            )
        return _Columns(
            True,
            _index(path, o.image_column, names, IMAGE_COLUMNS, 0),
            _index(path, o.text_column, names, TEXT_COLUMNS, 1),
            _index(path, o.group_column, names, GROUP_COLUMNS, None),
        )


@dataclass(frozen=True)
class _Columns:
    header: bool  # whether the first row names the columns
    image: int
    text: int
    group: int | None


def _index(
    path: Path,
    wanted: str | None,
    names: list[str],
    known: tuple[str, ...],
    default: int | None,
    *,
    header: bool = True,
) -> int | None:
    """The column named ``wanted`` (or its 0-based number), else the first ``known``
    name present, else ``default``."""
    if wanted is not None:
        if wanted.isdigit():
            return int(wanted)
        if header and wanted.casefold() in names:
            return names.index(wanted.casefold())
        columns = ", ".join(names) if header else "none: the table has no header row"
        raise DatasetError(f"{path}:1: no column {wanted!r} (columns: {columns})")
    for name in known:
        if name in names:
            return names.index(name)
    return default
