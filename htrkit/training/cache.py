"""Training data: a configuration's lines, read and preprocessed once, as records in
memory or in an LMDB cache (:func:`load_lines`), with its split into training and
validation lines. The torch side (dataset, collate) is :mod:`htrkit.training.dataset`."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from htrkit.datasets import DatasetReport, read_dataset, split_of
from htrkit.errors import ConfigError, HtrkitError, InputError, ModelError
from htrkit.preprocess.chain import PreprocessChain


@dataclass
class LineRecord:
    """A preprocessed line: grey uint8 ``[input_height, W]`` image and its text."""

    id: str
    text: str
    group: str
    image: np.ndarray
    #: the position of its source among ``[[data.train]]`` (or ``[[data.val]]``)
    source: int = 0


def read_records(
    sources: Iterable[Any],
    chain: PreprocessChain,
    resolve,  # config.resolve
    report: DatasetReport,
) -> Iterator[LineRecord]:
    """Read every source and preprocess its samples."""
    for k, source in enumerate(sources):
        path = resolve(source.path)
        for sample in read_dataset(
            path, source.format, source.options, skip_bad=source.skip_bad, report=report
        ):
            image = chain(sample.image)
            if image.ndim != 2:
                raise InputError(f"{sample.id}: preprocessing did not give a grey image")
            yield LineRecord(sample.id, sample.text, sample.group, image, k)


# -- LMDB cache ------------------------------------------------------------------------

META_KEY = b"__meta__"
#: how the lines of pages were cut: straightened along their baselines; a cache without
#: this mark (written before 2026-12-04) holds lines cut from their bare boxes
CROP = "baseline-straightened"


def write_cache(path: Path, records: Iterable[LineRecord], meta: dict[str, Any]) -> int:
    """Write records to an LMDB file (PNG-encoded images, JSON fields; never pickles)."""
    import cv2
    import lmdb

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    if tmp.exists():
        tmp.unlink()
    env = lmdb.open(str(tmp), map_size=1 << 36, subdir=False, lock=False)
    count = 0
    txn = env.begin(write=True)
    try:
        for record in records:
            ok, png = cv2.imencode(".png", record.image)
            if not ok:
                raise InputError(f"{record.id}: cannot encode the line image")
            head = json.dumps(
                {
                    "id": record.id,
                    "text": record.text,
                    "group": record.group,
                    "source": record.source,
                    "width": int(record.image.shape[1]),
                }
            )
            head_bytes = head.encode("utf-8")
            value = len(head_bytes).to_bytes(4, "little") + head_bytes + png.tobytes()
            txn.put(f"{count:09d}".encode(), value)
            count += 1
            if count % 1000 == 0:
                txn.commit()
                txn = env.begin(write=True)
        txn.put(META_KEY, json.dumps({**meta, "count": count}).encode("utf-8"))
        txn.commit()
    except BaseException:
        txn.abort()
        env.close()
        tmp.unlink(missing_ok=True)
        raise
    env.close()
    os.replace(tmp, path)
    return count


_ENVS: dict[tuple[int, str, int], Any] = {}


class LmdbStore(Sequence[LineRecord]):
    """Records of an LMDB cache, decoded on access (safe to use from worker processes)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such cache file")
        with self._open().begin() as txn:
            raw = txn.get(META_KEY)
        if raw is None:
            raise InputError(f"{self.path}: not an htrkit line cache (no metadata)")
        self.meta = json.loads(raw)
        self._len = int(self.meta["count"])

    def _open(self):
        # LMDB allows one handle per file and process: share it, and reopen after a fork.
        import lmdb

        key = (os.getpid(), str(self.path.resolve()), self.path.stat().st_mtime_ns)
        if key not in _ENVS:
            _ENVS[key] = lmdb.open(
                str(self.path), readonly=True, lock=False, subdir=False, readahead=False
            )
        return _ENVS[key]

    def __len__(self) -> int:
        return self._len

    def _value(self, index: int) -> tuple[dict[str, Any], bytes]:
        if not 0 <= index < self._len:
            raise IndexError(index)
        with self._open().begin() as txn:
            value = txn.get(f"{index:09d}".encode())
        n = int.from_bytes(value[:4], "little")
        return json.loads(value[4 : 4 + n]), value[4 + n :]

    def head(self, index: int) -> LineRecord:
        """The record without its pixels: ``image`` is an empty ``[0, width]`` array."""
        head, png = self._value(index)
        width = head.get("width")
        if width is None:  # caches written before widths were recorded
            width = self[index].image.shape[1]
        empty = np.zeros((0, width), np.uint8)
        return LineRecord(head["id"], head["text"], head["group"], empty, head.get("source", 0))

    def __getitem__(self, index):
        import cv2

        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        head, png = self._value(index)
        image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
        return LineRecord(head["id"], head["text"], head["group"], image, head.get("source", 0))


# -- splitting -------------------------------------------------------------------------


def split_records(
    records: Sequence[LineRecord],
    val_fraction: float | Sequence[float],
    seed: int,
) -> tuple[list[int], list[int]]:
    """Indices of training and validation records, split by group. ``val_fraction`` is one
    share for every source or a share per source (0: the source only trains, 1: it only
    validates)."""
    train, val = [], []
    for i, record in enumerate(records):
        share = (
            val_fraction if isinstance(val_fraction, (int, float)) else val_fraction[record.source]
        )
        (val if split_of(record.group, share, seed) == "val" else train).append(i)
    return train, val


# -- torch side ------------------------------------------------------------------------


@dataclass
class Lines:
    """A configuration's lines, preprocessed: the records (a list, or an LMDB cache) and
    which of them train and which validate."""

    store: Any  # list[LineRecord] | LmdbStore
    train: list[int]
    val: list[int]
    report: DatasetReport

    def head(self, index: int) -> LineRecord:
        """A record with at least its source and its image width (cheap for a cache)."""
        head = getattr(self.store, "head", None)
        return head(index) if head else self.store[index]


def load_lines(
    config: Any,
    steps: list[dict[str, Any]],
    *,
    build: bool = True,
    log: Callable[[str], None] = print,
    wait: Callable[[], None] = lambda: None,
) -> Lines:
    """Read and preprocess a :class:`~htrkit.training.config.TrainConfig`'s lines with
    ``steps``, through its ``[data] cache`` when it names one (written when missing, by
    the process with ``build``; the others ``wait``), and split them.

    :raises InputError: there are no training or no validation lines.
    :raises ConfigError: the cache was built with other preprocessing or sources.
    """
    c = config
    try:  # a step the configuration names wrongly is bad usage, said once
        chain = PreprocessChain.from_config(steps, source="[model]")
    except ModelError as exc:
        raise ConfigError(str(exc)) from None
    report = DatasetReport()
    if c.data.cache:
        path = c.resolve(c.data.cache)
        if build and not path.exists():
            log(f"writing line cache {path}")
            _write_cache(c, steps, path, chain, report)
        wait()
        store = _open_cache(c, steps, path)
        n_train = store.meta.get("n_train", len(store))
        if c.data.val:
            train_idx, val_idx = list(range(n_train)), list(range(n_train, len(store)))
        else:
            head = [store.head(i) for i in range(n_train)]
            train_idx, val_idx = split_records(head, c.data.shares(), c.data.split_seed)
    else:
        train = list(read_records(c.data.train, chain, c.resolve, report))
        val = list(read_records(c.data.val, chain, c.resolve, report))
        store = train + val
        if c.data.val:
            train_idx, val_idx = list(range(len(train))), list(range(len(train), len(store)))
        else:
            train_idx, val_idx = split_records(train, c.data.shares(), c.data.split_seed)
    if not train_idx:
        raise InputError("no training samples: check [[data.train]] paths and formats")
    if not val_idx:
        raise InputError("no validation samples: add [[data.val]] or raise val_fraction")
    return Lines(store, train_idx, val_idx, report)


def _cache_meta(c: Any, steps: list[dict[str, Any]]) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        "preprocess": steps,
        "train": [asdict(s) for s in c.data.train],
        "val": [asdict(s) for s in c.data.val],
        # how lines are cut out of pages (htrkit.geometry.crop_line): a cache of lines cut
        # another way is refused, not mixed with them
        "crop": CROP,
    }


def _data_files(c: Any) -> str:
    """A fingerprint of the files under the sources' paths: their names and sizes (not
    their times, so a fresh copy of the same data keeps its cache)."""
    import hashlib

    digest = hashlib.sha256()
    for source in (*c.data.train, *c.data.val):
        root = c.resolve(source.path)
        digest.update(f"{source.path}\n".encode())
        if root.is_file():
            found = [(root.name, root)]
        elif root.is_dir():
            found = sorted((str(q.relative_to(root)), q) for q in root.rglob("*") if q.is_file())
        else:
            found = []
        for name, q in found:
            digest.update(f"{name}\t{q.stat().st_size}\n".encode())
    return digest.hexdigest()


def _write_cache(
    c: Any, steps: list[dict[str, Any]], path: Path, chain: PreprocessChain, report: DatasetReport
) -> None:
    meta = {**_cache_meta(c, steps), "files": _data_files(c)}

    def records() -> Iterator[LineRecord]:
        n_train = 0
        for r in read_records(c.data.train, chain, c.resolve, report):
            n_train += 1
            yield r
        meta["n_train"] = n_train
        yield from read_records(c.data.val, chain, c.resolve, report)

    write_cache(path, records(), meta)


def _open_cache(c: Any, steps: list[dict[str, Any]], path: Path) -> LmdbStore:
    """The cache at ``path``, refused when it was built with other settings."""
    meta = _cache_meta(c, steps)
    store = _open_store(path)
    if store.meta.get("crop") != CROP:
        raise ConfigError(
            f"{path}: cache holds lines cut by an older htrkit (not straightened along "
            "their baselines); delete it to write it again"
        )
    for key in ("preprocess", "train", "val"):
        if store.meta.get(key) != json.loads(json.dumps(meta[key])):
            raise ConfigError(
                f"{path}: cache was built with other {key} settings; delete it or set "
                "data.cache to a new file"
            )
    # a cache written before it recorded its files (2026-12-07) is not checked for them
    if "files" in store.meta and store.meta["files"] != _data_files(c):
        raise ConfigError(
            f"{path}: the data changed since the cache was written (files added, removed or "
            "of another size under the sources); delete it or set data.cache to a new file"
        )
    return store


def _open_store(path: Path) -> LmdbStore:
    """The LMDB store at ``path``, or one line saying it is none."""
    try:
        return LmdbStore(path)
    except HtrkitError:
        raise
    except Exception as exc:  # lmdb's own errors: not an LMDB file, a damaged one
        raise InputError(
            f"{path}: not an htrkit line cache ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None
