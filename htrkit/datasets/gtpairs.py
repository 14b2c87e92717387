"""Line images with their transcription beside them, the kraken/ocropy layout:
``name.png`` and ``name.gt.txt`` (also ``010001.bin.png`` with ``010001.gt.txt``), in a
folder searched recursively. The group is the folder holding the pair (a page or a book);
pairs at the top level are each their own group."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from htrkit.datasets import DatasetError, DatasetReport, Sample
from htrkit.datasets.options import GtPairsOptions
from htrkit.datasets.reading import (
    bad,
    clean_text,
    is_image,
    load_or_skip,
    outside,
    sorted_files,
)

SUFFIX = ".gt.txt"


def transcription_of(image: Path) -> Path | None:
    """``a.png`` -> ``a.gt.txt``; ``a.bin.png`` -> ``a.bin.gt.txt``, else ``a.gt.txt``."""
    stem = image.name[: -len(image.suffix)]
    for name in dict.fromkeys((stem + SUFFIX, stem.split(".")[0] + SUFFIX)):
        candidate = image.with_name(name)
        if candidate.is_file():
            return candidate
    return None


class GtPairsReader:
    def __init__(self, options: GtPairsOptions):
        self.options = options

    def detect(self, path: Path) -> bool:
        return path.is_dir() and next(path.rglob(f"*{SUFFIX}"), None) is not None

    def samples(self, path: Path, report: DatasetReport, skip_bad: bool) -> Iterator[Sample]:
        if not path.is_dir():
            raise DatasetError(f"{path}: {'not a folder' if path.exists() else 'no such folder'}")
        images = [p for p in sorted_files(path, "*") if is_image(p)]
        if not images:
            raise DatasetError(f"{path}: no image files")
        for image_path in images:
            gt = transcription_of(image_path)
            if gt is None:
                report.drop("no transcription")
                continue
            if outside(image_path, [path]) or outside(gt, [path]):  # a link out of the folder
                bad(report, skip_bad, "file outside the dataset",
                    f"{image_path}: links outside {path}/, the folder given")  # fmt: skip
                continue
            try:
                text = clean_text(gt.read_text(encoding="utf-8-sig"))
            except UnicodeDecodeError as exc:
                bad(report, skip_bad, "malformed row", f"{gt}: not UTF-8 text ({exc.reason})")
                continue
            if not text:
                report.drop("empty")
                continue
            image = load_or_skip(image_path, report, skip_bad)
            if image is None:
                continue
            rel = image_path.relative_to(path)
            if self.options.group_by == "file" or rel.parent == Path("."):
                group = rel.with_suffix("").as_posix()
            else:
                group = rel.parent.as_posix()
            yield Sample(rel.as_posix(), text, group, image, str(image_path))
