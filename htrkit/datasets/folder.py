"""A folder of images whose file names are their labels (captcha sets): ``3bnyf.png``
reads ``3bnyf``. When two images share a label, a numeric suffix after the separator
tells them apart and is not part of the label: ``abc_2.png`` reads ``abc``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from htrkit.datasets import DatasetError, DatasetReport, Sample
from htrkit.datasets.options import FolderLabelsOptions
from htrkit.datasets.reading import is_image, load_or_skip


class FolderLabelsReader:
    def __init__(self, options: FolderLabelsOptions):
        self.options = options

    def detect(self, path: Path) -> bool:
        """A folder holding image files and nothing else (hidden files aside)."""
        if not path.is_dir():
            return False
        found = False
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if not (entry.is_file() and is_image(Path(entry.name))):
                    return False
                found = True
        return found

    def label(self, stem: str) -> str:
        sep = self.options.separator
        if sep:
            head, found, tail = stem.rpartition(sep)
            if found and head and tail.isdigit():
                return head
        return stem

    def samples(self, path: Path, report: DatasetReport, skip_bad: bool) -> Iterator[Sample]:
        if not path.is_dir():
            raise DatasetError(f"{path}: not a folder")
        files = sorted(p for p in path.iterdir() if p.is_file() and is_image(p))
        if not files:
            raise DatasetError(f"{path}: no image files")
        for file in files:
            text = self.label(file.stem)
            if not text.strip():
                report.drop("empty")
                continue
            image = load_or_skip(file, report, skip_bad)
            if image is None:
                continue
            group = text if self.options.group_by == "label" else file.stem
            yield Sample(file.name, text, group, image, str(file))
