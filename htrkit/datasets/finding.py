"""Finding a dataset's reader and reading it: :func:`read_dataset`."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from htrkit.datasets.records import DatasetError, DatasetReport, Sample


def find_reader(path: Path, name: str | None = None, options: Mapping[str, Any] | None = None):
    """The reader named ``name``, or the first registered reader that detects ``path``."""
    from htrkit.plugins import registry

    readers = registry("dataset")
    if name is not None:
        return readers.create(name, options)
    if not path.exists():
        raise DatasetError(f"{path}: no such file or directory")
    for spec in readers:
        if spec.create().detect(path):  # detection uses default options
            return spec.create(options)
    raise DatasetError(
        f"{path}: cannot tell the dataset format; name it (one of: {', '.join(readers.names())})"
    )


def read_dataset(
    path: str | Path,
    format: str | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    skip_bad: bool = False,
    report: DatasetReport | None = None,
) -> Iterator[Sample]:
    """Yield the samples of a dataset, updating ``report`` as they come. Texts come in
    Unicode NFC, whatever the reader, so that ``e`` + U+0301 is the ``é`` of an alphabet."""
    path = Path(path)
    report = report if report is not None else DatasetReport()
    reader = find_reader(path, format, options)
    for sample in reader.samples(path, report, skip_bad):
        if not unicodedata.is_normalized("NFC", sample.text):
            sample.text = unicodedata.normalize("NFC", sample.text)
        report.add(sample)
        yield sample
