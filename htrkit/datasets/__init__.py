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
from collections.abc import Iterable, Iterator
from typing import TypeVar

from htrkit.components import DatasetReader as DatasetReader  # the contract, re-exported
from htrkit.datasets.finding import find_reader, read_dataset
from htrkit.datasets.records import DatasetError, DatasetReport, Sample

T = TypeVar("T")

__all__ = [
    "DatasetError",
    "DatasetReader",
    "DatasetReport",
    "Sample",
    "find_reader",
    "in_split",
    "read_dataset",
    "split_of",
]


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
    if not 0.0 <= val_fraction <= 1.0:
        raise ConfigError(f"val-fraction must be from 0 to 1, got {val_fraction}")

    def chosen() -> Iterator[T]:
        for item in items:
            if split == "all" or split_of(item.group, val_fraction, seed) == split:
                yield item

    return chosen()
