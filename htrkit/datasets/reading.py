"""What every dataset reader does: report a bad row, read an image, find files."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from htrkit.datasets.records import DatasetError, DatasetReport
from htrkit.errors import ImageError
from htrkit.imageio_suffixes import IMAGE_SUFFIXES


def bad(report: DatasetReport, skip_bad: bool, reason: str, message: str) -> None:
    """Raise :class:`DatasetError` with ``message``, or, with ``skip_bad``, count it."""
    if not skip_bad:
        raise DatasetError(message)
    report.skip(reason, message)


def outside(path: Path, roots: list[Path]) -> bool:
    """Whether ``path`` (links followed) lies outside every one of ``roots``: a dataset
    file may name only images under the folder it was given."""
    try:
        real = path.resolve()
        return not any(real.is_relative_to(root.resolve()) for root in roots)
    except (OSError, RuntimeError, ValueError):  # a loop of links, a NUL byte
        return True


def load_or_skip(path: Path, report: DatasetReport, skip_bad: bool, where: str = "") -> Any:
    """:func:`load_image`, or ``None`` after counting an unreadable image with ``skip_bad``."""
    try:
        return load_image(path, where)
    except DatasetError as exc:
        bad(report, skip_bad, "unreadable image", str(exc))
        return None


def load_image(path: Path, where: str = "") -> Any:
    """The image at ``path`` as a uint8 array; a :class:`DatasetError` naming the file
    (after ``where``, e.g. ``"labels.csv:12: "``) if it cannot be read."""
    from htrkit.imageio import read_image

    try:
        return read_image(path)[1]
    except ImageError as exc:
        raise DatasetError(f"{where}{exc}") from None


def clean_text(text: str) -> str:
    """Unicode NFC (an accent and its letter as one character, as an alphabet lists them:
    some transcriptions write ``e`` + U+0301), the ends trimmed and runs of white space
    collapsed (no model sees two spaces)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def sorted_files(folder: Path, pattern: str) -> Iterator[Path]:
    """Files under ``folder`` matching ``pattern`` (recursive), in a stable order, hidden
    files and folders left out."""
    for path in sorted(folder.rglob(pattern)):
        parts = path.relative_to(folder).parts
        if path.is_file() and not any(p.startswith(".") for p in parts):
            yield path


def read_head(path: Path, size: int = 2048) -> bytes:
    """The first ``size`` bytes of a file (empty if it cannot be read)."""
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError:
        return b""
