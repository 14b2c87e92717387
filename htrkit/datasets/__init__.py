"""Datasets: ground-truth line images with their text, for training and evaluation.

A dataset reader (registered through ``htrkit_register_datasets``) turns a path into
:class:`Sample` records. :func:`read_dataset` picks the reader (by name, or by asking each
reader whether it recognises the path), collects problems in a :class:`DatasetReport`, and
either stops at the first bad row (the default) or skips and counts bad rows
(``skip_bad=True``).

Splits are by :attr:`Sample.group` (a page, a document or a writer), never by line, and
deterministic: :func:`split_of` hashes the group name.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from htrkit.components import DatasetReader as DatasetReader  # the contract, re-exported
from htrkit.errors import InputError

T = TypeVar("T")


class DatasetError(InputError):
    """A dataset file or row is missing or invalid (the message names file and line)."""


@dataclass
class Sample:
    """One line (or word) image with its transcription."""

    id: str  #: unique within the dataset, e.g. ``page.xml#line_3`` or an image path
    text: str
    group: str  #: the unit kept together in splits: page, document or writer
    image: Any  #: np.ndarray, uint8, [H, W] or [H, W, 3]
    source: str = ""  #: the file the sample was read from


@dataclass
class DatasetReport:
    """What reading a dataset found: counts, skipped rows and why."""

    samples: int = 0
    groups: set[str] = field(default_factory=set)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    dropped: Counter[str] = field(default_factory=Counter)  # by design, e.g. UNREADABLE
    examples: dict[str, str] = field(default_factory=dict)  # reason -> first message
    chars: Counter[str] = field(default_factory=Counter)
    lengths: list[int] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)

    def add(self, sample: Sample) -> None:
        self.samples += 1
        self.groups.add(sample.group)
        self.chars.update(sample.text)
        self.lengths.append(len(sample.text))
        self.widths.append(int(sample.image.shape[1]))

    def skip(self, reason: str, message: str) -> None:
        """Count a bad row (only called when skipping is on)."""
        self.skipped[reason] += 1
        self.examples.setdefault(reason, message)

    def drop(self, reason: str) -> None:
        """Count a row left out on purpose (e.g. a label marked UNREADABLE)."""
        self.dropped[reason] += 1

    def summary(self) -> dict[str, Any]:
        import numpy as np

        lengths = np.array(self.lengths or [0])
        widths = np.array(self.widths or [0])
        return {
            "samples": self.samples,
            "groups": len(self.groups),
            "skipped": dict(self.skipped),
            "dropped": dict(self.dropped),
            "alphabet": "".join(sorted(self.chars)),
            "alphabet_size": len(self.chars),
            "text_length": {
                "min": int(lengths.min()),
                "mean": round(float(lengths.mean()), 2),
                "max": int(lengths.max()),
            },
            "image_width": {
                "min": int(widths.min()),
                "mean": round(float(widths.mean()), 1),
                "max": int(widths.max()),
            },
        }


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


def split_of(group: str, val_fraction: float, seed: int = 0) -> str:
    """``"val"`` or ``"train"`` for a group, stable across runs, machines and dataset
    growth (a hash of the group name, not a shuffle)."""
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return "val" if position < val_fraction else "train"


def in_split(items: Iterable[T], split: str, val_fraction: float, seed: int = 0) -> Iterator[T]:
    """The samples (or ground-truth pages) of ``items`` in ``split``: ``"all"``, or the
    ``"train"`` or ``"val"`` side of :func:`split_of` on each one's ``group``.

    :raises ConfigError: for any other ``split``, before reading anything."""
    from htrkit.errors import ConfigError

    if split not in ("all", "train", "val"):
        raise ConfigError(f"split must be all, train or val, got {split!r}")

    def chosen() -> Iterator[T]:
        for item in items:
            if split == "all" or split_of(item.group, val_fraction, seed) == split:
                yield item

    return chosen()
