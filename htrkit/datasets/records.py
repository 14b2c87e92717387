"""The records of datasets: :class:`Sample`, :class:`DatasetReport` and
:class:`DatasetError`. A leaf module (it imports only :mod:`htrkit.errors`), so that the
components' contracts can name them without importing the machinery that reads datasets."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from htrkit.errors import InputError


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
