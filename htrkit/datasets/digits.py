"""Handwritten digits from arrays in a ``.npz`` file (MNIST's layout), alone or composed
into digit strings.

Images are cut into ``blocks`` groups by index (image ``k`` is in block ``k % blocks``); a
composed string draws all its digits from one block and belongs to its group, so a split by
group never puts one digit image on both sides.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from htrkit.datasets import DatasetError, DatasetReport, Sample
from htrkit.datasets.options import DigitsOptions


class DigitsReader:
    def __init__(self, options: DigitsOptions):
        self.options = options

    def detect(self, path: Path) -> bool:
        return path.is_file() and path.suffix.lower() == ".npz"

    def samples(self, path: Path, report: DatasetReport, skip_bad: bool) -> Iterator[Sample]:
        images, labels = self._arrays(path)
        o = self.options
        if o.strings == 0:
            for k in range(len(images)):
                text = str(int(labels[k]))
                yield Sample(f"{path.name}#{k}", text, f"block{k % o.blocks}", images[k], str(path))
            return
        members = [np.arange(b, len(images), o.blocks) for b in range(o.blocks)]
        for i in range(o.strings):
            rng = np.random.default_rng([o.seed, i])
            block = i % o.blocks
            pool = members[block]
            if not len(pool):
                continue
            n = int(rng.integers(o.min_digits, o.max_digits + 1))
            picks = pool[rng.integers(0, len(pool), n)]
            text = "".join(str(int(labels[k])) for k in picks)
            image = compose([images[k] for k in picks], rng)
            yield Sample(f"{path.name}#s{i}", text, f"block{block}", image, str(path))

    def _arrays(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        o = self.options
        if not path.is_file():
            raise DatasetError(f"{path}: no such file")
        try:
            with np.load(path, allow_pickle=False) as data:
                if o.images_key not in data or o.labels_key not in data:
                    raise DatasetError(
                        f"{path}: needs arrays {o.images_key!r} and {o.labels_key!r}, "
                        f"has {', '.join(data.files) or 'none'}"
                    )
                for key in (o.images_key, o.labels_key):
                    _check_size(data, key, path)
                images, labels = data[o.images_key], data[o.labels_key]
        except (OSError, ValueError, EOFError) as exc:
            raise DatasetError(f"{path}: not a readable .npz file ({exc})") from None
        if images.ndim != 3 or len(images) != len(labels):
            raise DatasetError(
                f"{path}: {o.images_key!r} must be [N, H, W] with one label each, got "
                f"{images.shape} images and {labels.shape} labels"
            )
        if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() > 9:
            raise DatasetError(f"{path}: labels must be the digits 0-9")
        images = images.astype(np.uint8)
        invert = o.invert == "yes" or (o.invert == "auto" and _light_on_dark(images))
        return (255 - images if invert else images), labels


#: the most bytes one array of a digits file may unpack to (MNIST's images are 47 MB)
MAX_ARRAY_BYTES = 2**30


def _check_size(data, key: str, path: Path) -> None:
    """Refuse an array whose header claims more than :data:`MAX_ARRAY_BYTES`, read from
    the header alone: a file of a few bytes can claim terabytes."""
    with data.zip.open(f"{key}.npy") as member:
        version = np.lib.format.read_magic(member)
        read = {(1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0}.get(version)  # fmt: skip
        if read is None:
            raise DatasetError(f"{path}: array {key!r} has an unknown .npy version {version}")
        shape, _, dtype = read(member)
    size = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if size > MAX_ARRAY_BYTES:
        raise DatasetError(
            f"{path}: array {key!r} claims {shape} ({size / 2**30:.1f} GiB), over the "
            f"{MAX_ARRAY_BYTES >> 30} GiB a digits file may hold"
        )


def _light_on_dark(images: np.ndarray) -> bool:
    border = np.concatenate([images[:, 0].ravel(), images[:, -1].ravel()])
    return float(border.mean()) < 128


def compose(digits: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Digit images (dark on light) side by side, trimmed to their ink, with random gaps
    and small vertical shifts, on a margin of paper."""
    height = digits[0].shape[0]
    parts = []
    for d in digits:
        ink = np.where((d < 128).any(axis=0))[0]
        d = d[:, ink[0] : ink[-1] + 1] if len(ink) else d
        shift = int(rng.integers(-2, 3))
        d = np.roll(d, shift, axis=0)
        if shift > 0:
            d[:shift] = 255
        elif shift < 0:
            d[shift:] = 255
        parts.append(d)
        parts.append(np.full((height, int(rng.integers(1, 9))), 255, np.uint8))
    line = np.concatenate(parts[:-1], axis=1)
    return np.pad(line, ((4, 4), (6, 6)), constant_values=255)
