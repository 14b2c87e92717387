"""Reading images safely into 8-bit numpy arrays.

Every image becomes ``uint8`` ``[H, W]`` (grey) or ``[H, W, 3]`` (RGB):

- 16-bit and 32-bit integer images are scaled to 8 bits; float images in ``[0, 1]`` are
  scaled by 255;
- transparent images (RGBA, LA, palette with transparency) are composited over white, so
  strokes drawn on a transparent canvas read as ink on paper;
- palette, CMYK, YCbCr and bilevel images are converted; EXIF rotation is applied.

Images larger than :data:`MAX_IMAGE_PIXELS` (``HTRKIT_MAX_IMAGE_PIXELS`` overrides it) are
refused from their header, before any pixel is decoded.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import numpy as np

from htrkit.errors import ImageError
from htrkit.imageio_suffixes import IMAGE_FORMATS

#: default limit on width x height: 120 megapixels, e.g. a 10,000 x 12,000 scan
MAX_IMAGE_PIXELS = 120_000_000


def max_image_pixels() -> int:
    """The pixel limit in force (``HTRKIT_MAX_IMAGE_PIXELS`` or the default)."""
    value = os.environ.get("HTRKIT_MAX_IMAGE_PIXELS")
    if not value:
        return MAX_IMAGE_PIXELS
    try:
        return int(value)
    except ValueError:
        raise ImageError(f"HTRKIT_MAX_IMAGE_PIXELS={value!r} is not an integer") from None


def check_size(width: int, height: int, source: str, limit: int | None = None) -> None:
    """Refuse empty images and images over the pixel limit (``limit``, or the one in
    force)."""
    if width <= 0 or height <= 0:
        raise ImageError(f"{source}: image has zero size ({width}x{height})")
    env = limit is None
    limit = max_image_pixels() if limit is None else limit
    if width * height > limit:
        raise ImageError(
            f"{source}: image is {width}x{height} = {width * height:,} pixels, over the "
            f"limit of {limit:,}" + (" (set HTRKIT_MAX_IMAGE_PIXELS to raise it)" if env else "")
        )


def missing(source: str) -> str:
    """Why ``source`` cannot be found: no such file, or a page reference to a file that
    exists (``scans.pdf#page=0``) with no such page."""
    page = re.match(r"^(.+)#page=([^#/]*)$", source)
    if page and Path(page[1]).is_file():
        return f"{source}: no page {page[2]!r}; pages are numbered from 1 ({page[1]}#page=1)"
    return f"{source}: no such file"


def read_image(path: str | os.PathLike[str], frame: int = 0) -> tuple[str, np.ndarray]:
    """Read an image file (its first frame, or ``frame``: a page of a multi-page TIFF) as
    ``(source, array)``.

    :raises ImageError: with the file name and what is wrong.
    """
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise ImageError(missing(source))
    if path.is_dir():
        raise ImageError(f"{source}: is a directory, not an image")
    if not path.is_file():  # a pipe or a device: never opened (a FIFO would wait)
        raise ImageError(f"{source}: not a regular file (a pipe or a device)")
    if path.stat().st_size == 0:
        raise ImageError(f"{source}: file is empty")
    with open(path, "rb") as f:
        head = f.read(24)
    return source, _decode(path, head, source, frame=frame)


def page_count(path: str | os.PathLike[str]) -> int:
    """How many pages a TIFF holds (1 for any other image, and for what cannot be read:
    reading it gives the error)."""
    from PIL import Image

    path = Path(path)
    if path.suffix.lower() not in (".tif", ".tiff"):
        return 1
    try:
        with _open_unlimited(path) as im:
            return max(int(getattr(im, "n_frames", 1)), 1) if im.format == "TIFF" else 1
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return 1


def decode_image(data: bytes, source: str = "upload", max_pixels: int | None = None) -> np.ndarray:
    """Decode an image held in memory (an upload), by the same rules as
    :func:`read_image`; ``source`` only names it in messages. ``max_pixels`` replaces the
    pixel limit in force (a server sets its own).

    :raises ImageError: with ``source`` and what is wrong.
    """
    import io

    if not data:
        raise ImageError(f"{source}: file is empty")
    return _decode(io.BytesIO(data), bytes(data[:24]), source, max_pixels)


def _decode(
    file: Path | object, head: bytes, source: str, limit: int | None = None, frame: int = 0
) -> np.ndarray:
    from PIL import UnidentifiedImageError

    try:
        im = _open_unlimited(file)
    except UnidentifiedImageError:
        size = _png_size(head)  # Pillow refuses a 0-pixel PNG as "not identified"
        if size is not None:
            check_size(*size, source, limit)
        raise ImageError(f"{source}: not an image, or an unsupported image format") from None
    except (OSError, SyntaxError, ValueError, NotImplementedError) as exc:
        raise ImageError(f"{source}: cannot read image header ({exc})") from None
    with im:
        if frame:
            pages = int(getattr(im, "n_frames", 1))
            if frame >= pages:
                raise ImageError(f"{source}: the image has {pages} page(s), not {frame + 1}")
            try:
                im.seek(frame)
            except (EOFError, ValueError) as exc:
                raise ImageError(f"{source}: cannot read page {frame + 1} ({exc})") from None
        check_size(im.width, im.height, source, limit)
        try:
            im.load()
            return pil_to_array(im, source)
        except (OSError, SyntaxError, ValueError, EOFError, NotImplementedError) as exc:
            raise ImageError(f"{source}: corrupt or truncated image ({exc})") from None


_PILLOW_LIMIT = threading.Lock()


def _open_unlimited(file: Path | object):
    """``Image.open`` (header only) with Pillow's own pixel limit off, so that
    :func:`check_size` alone decides. The switch is process-wide, hence the lock and the
    immediate restore: Pillow checks the limit in ``open``, not when decoding."""
    from PIL import Image

    with _PILLOW_LIMIT:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(file, formats=IMAGE_FORMATS)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _png_size(head: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk (in the first 24 bytes), or None if the
    bytes are not a PNG's."""
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def pil_to_array(im: object, source: str = "image") -> np.ndarray:
    """Convert a PIL image to ``uint8`` grey or RGB, following the module's rules;
    ``source`` names it in errors."""
    from PIL import Image, ImageOps

    assert isinstance(im, Image.Image)
    try:
        im = ImageOps.exif_transpose(im) or im
    except Exception:  # broken EXIF must not make an otherwise good image unreadable
        pass
    mode = im.mode
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode == "PA":
        im = im.convert("RGBA")
    elif mode == "1":
        im = im.convert("L")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        im = im.convert("RGB")
    elif mode == "L" and "transparency" in im.info:
        im = im.convert("LA")
    elif mode == "RGB" and "transparency" in im.info:
        im = im.convert("RGBA")
    return as_uint8(np.asarray(im), source=source)


def as_uint8(array: np.ndarray, source: str = "array") -> np.ndarray:
    """Validate an image array and convert it to ``uint8`` ``[H, W]`` or ``[H, W, 3]``.

    Accepts ``[H, W]``, ``[H, W, 1]``, ``[H, W, 3]`` (RGB) and ``[H, W, 4]`` (RGBA), of
    bool, unsigned or signed integers, or floats (``[0, 1]`` or ``[0, 255]``).
    """
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (2, 3, 4)):
        raise ImageError(
            f"{source}: expected an image array of shape HxW, HxWx3 or HxWx4, got shape {a.shape}"
        )
    check_size(a.shape[1], a.shape[0], source)
    a = _to_8bit(a, source)
    if a.ndim == 3 and a.shape[2] in (2, 4):  # grey+alpha or RGBA: composite over white
        alpha = a[:, :, -1:].astype(np.float32) / 255.0
        color = a[:, :, :-1].astype(np.float32)
        a = np.round(color * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
        if a.shape[2] == 1:
            a = a[:, :, 0]
    return np.ascontiguousarray(a)


def _to_8bit(a: np.ndarray, source: str) -> np.ndarray:
    if a.dtype == np.uint8:
        return a
    if a.dtype == bool:
        return a.astype(np.uint8) * 255
    if np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise ImageError(f"{source}: image contains NaN or infinite values")
        scale = 255.0 if a.size and float(a.max()) <= 1.0 else 1.0
        return np.clip(np.round(a * scale), 0, 255).astype(np.uint8)
    if np.issubdtype(a.dtype, np.integer):
        top = float(a.max()) if a.size else 0.0
        if a.min() < 0:
            raise ImageError(f"{source}: image has negative pixel values")
        if a.dtype.itemsize == 2:
            depth = 65535.0
        elif top <= 255:  # wide integers holding 8-bit data
            return a.astype(np.uint8)
        else:  # 16-bit data in a wider type (Pillow's 32-bit "I" mode), or full range
            depth = 65535.0 if top <= 65535 else float(np.iinfo(a.dtype).max)
        return np.round(a.astype(np.float64) * (255.0 / depth)).astype(np.uint8)
    raise ImageError(f"{source}: unsupported pixel type {a.dtype}")
