"""Reading images: clear one-line errors for bad inputs, exact pixels for good ones."""

from __future__ import annotations

import io
import re
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from htrkit.errors import ImageError, InputError
from htrkit.imageio import MAX_IMAGE_PIXELS, as_uint8, check_size, max_image_pixels, read_image
from htrkit.loaders.image import ImageLoader
from htrkit.results import Page

# -- helpers ---------------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def crafted_png(width: int, height: int, *, bit_depth: int = 8, color: int = 0, idat=b"") -> bytes:
    """A PNG with a valid IHDR (correct CRC) for any width and height."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(idat))
        + png_chunk(b"IEND", b"")
    )


def encode(im: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def noise(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_error(path: Path) -> str:
    """Read ``path``, expecting a one-line ImageError that names the file."""
    with pytest.raises(ImageError) as info:
        read_image(path)
    message = str(info.value)
    assert str(path) in message
    assert "\n" not in message
    assert isinstance(info.value, InputError)
    return message


@pytest.fixture(autouse=True)
def default_limit(monkeypatch):
    monkeypatch.delenv("HTRKIT_MAX_IMAGE_PIXELS", raising=False)


# -- files that must be refused --------------------------------------------------------


def test_missing_file(tmp_path):
    assert "no such file" in read_error(tmp_path / "nope.png")


def test_directory(tmp_path):
    folder = tmp_path / "scans.png"
    folder.mkdir()
    assert "is a directory" in read_error(folder)


def test_empty_file(tmp_path):
    assert "file is empty" in read_error(write(tmp_path, "empty.png", b""))


def test_text_file_named_png(tmp_path):
    path = write(tmp_path, "x.png", b"id\ttext\nline 1\thello world\n")
    assert "not an image" in read_error(path)


def test_png_signature_only(tmp_path):
    path = write(tmp_path, "sig.png", b"\x89PNG\r\n\x1a\n")
    assert "not an image" in read_error(path)


def test_png_cut_inside_header(tmp_path):
    data = encode(Image.fromarray(noise((32, 32))), "PNG")
    path = write(tmp_path, "cut.png", data[:20])
    assert "cannot read image header" in read_error(path)


@pytest.mark.parametrize(
    ("name", "fmt", "shape"),
    [("cut.png", "PNG", (64, 64)), ("cut.jpg", "JPEG", (64, 64, 3)), ("cut.tif", "TIFF", (64, 64))],
)
def test_truncated_image(tmp_path, name, fmt, shape):
    data = encode(Image.fromarray(noise(shape)), fmt)
    # the full file reads, so it is the cut that fails
    assert read_image(write(tmp_path, "whole" + name[3:], data))[1].shape == shape
    path = write(tmp_path, name, data[: len(data) // 2])
    assert "corrupt or truncated" in read_error(path)


def test_garbage_after_png_header(tmp_path):
    data = encode(Image.fromarray(noise((64, 64))), "PNG")
    start = data.index(b"IDAT") + 4
    path = write(tmp_path, "garbage.png", data[:start] + noise(4000, seed=1).tobytes())
    assert "corrupt or truncated" in read_error(path)


def test_corrupt_png_pixel_data(tmp_path):
    data = bytearray(encode(Image.fromarray(noise((64, 64))), "PNG"))
    start = data.index(b"IDAT") + 4
    data[start + 100 : start + 400] = noise(300, seed=2).tobytes()
    assert "corrupt or truncated" in read_error(write(tmp_path, "corrupt.png", bytes(data)))


def test_garbage_after_jpeg_header(tmp_path):
    data = encode(Image.fromarray(noise((64, 64, 3))), "JPEG")
    scan = data.index(b"\xff\xda")  # start of scan
    path = write(tmp_path, "garbage.jpg", data[:scan] + noise(2000, seed=3).tobytes())
    read_error(path)


@pytest.mark.parametrize(("width", "height"), [(0, 10), (10, 0), (0, 0)])
def test_zero_sized_png(tmp_path, width, height):
    path = write(tmp_path, "zero.png", crafted_png(width, height))
    message = read_error(path)
    assert "zero size" in message
    assert f"({width}x{height})" in message


def test_pixel_limit_from_environment(tmp_path, monkeypatch):
    path = write(tmp_path, "page.png", encode(Image.fromarray(noise((30, 40))), "PNG"))
    monkeypatch.setenv("HTRKIT_MAX_IMAGE_PIXELS", "1200")
    assert read_image(path)[1].shape == (30, 40)  # exactly at the limit is allowed
    monkeypatch.setenv("HTRKIT_MAX_IMAGE_PIXELS", "1199")
    message = read_error(path)
    assert "40x30 = 1,200 pixels" in message
    assert "limit of 1,199" in message
    assert "HTRKIT_MAX_IMAGE_PIXELS" in message


def refuse_decoding(monkeypatch):
    """Make any pixel decoding fail the test, so that a refusal must come from the header."""

    def load(self):
        raise AssertionError(f"decoded the pixels of a {self.size} image")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def test_large_bilevel_png_refused_from_header(tmp_path, monkeypatch):
    # A real, valid 20000x20000 bilevel PNG: 50 MB of pixel data compressed to ~50 kB. Pillow
    # would need 400 MB to hold it decoded.
    row = b"\x00" + b"\xff" * (20000 // 8)
    path = write(tmp_path, "big.png", crafted_png(20000, 20000, bit_depth=1, idat=row * 20000))
    assert path.stat().st_size < 1_000_000
    refuse_decoding(monkeypatch)
    message = read_error(path)
    assert "20000x20000 = 400,000,000 pixels" in message
    assert f"limit of {MAX_IMAGE_PIXELS:,}" in message


def test_huge_header_does_not_exhaust_memory(tmp_path, monkeypatch):
    # 10 gigapixels claimed by a 60-byte file: refused at once, nothing allocated
    path = write(tmp_path, "bomb.png", crafted_png(100_000, 100_000))
    refuse_decoding(monkeypatch)
    tracemalloc.start()
    try:
        message = read_error(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # bytes: far from the 1.25 GB a 10-gigapixel bilevel image holds
    assert "100000x100000" in message and "over the limit" in message


def test_raised_limit_overrides_pillow_limit(tmp_path, monkeypatch):
    # HTRKIT_MAX_IMAGE_PIXELS alone decides: Pillow's own bomb limit must not refuse an
    # image that htrkit's limit allows, and must be left as it was.
    path = write(tmp_path, "page.png", encode(Image.fromarray(noise((100, 100))), "PNG"))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    monkeypatch.setenv("HTRKIT_MAX_IMAGE_PIXELS", "1000000")
    assert read_image(path)[1].shape == (100, 100)
    assert Image.MAX_IMAGE_PIXELS == 1000
    read_error(tmp_path / "missing.png")
    assert Image.MAX_IMAGE_PIXELS == 1000


def test_max_image_pixels(monkeypatch):
    assert max_image_pixels() == MAX_IMAGE_PIXELS == 120_000_000
    monkeypatch.setenv("HTRKIT_MAX_IMAGE_PIXELS", "")
    assert max_image_pixels() == MAX_IMAGE_PIXELS
    monkeypatch.setenv("HTRKIT_MAX_IMAGE_PIXELS", "5000")
    assert max_image_pixels() == 5000
    monkeypatch.setenv("HTRKIT_MAX_IMAGE_PIXELS", "lots")
    with pytest.raises(ImageError, match="HTRKIT_MAX_IMAGE_PIXELS='lots' is not an integer"):
        max_image_pixels()


def test_check_size():
    check_size(1, 1, "a.png")
    check_size(10_000, 12_000, "a.png")  # exactly the default limit
    with pytest.raises(ImageError, match=r"^a\.png: image has zero size \(0x5\)$"):
        check_size(0, 5, "a.png")
    with pytest.raises(ImageError, match=r"^a\.png: image has zero size \(5x-1\)$"):
        check_size(5, -1, "a.png")
    with pytest.raises(ImageError, match=r"^a\.png: image is 10001x12000 = 120,012,000 pixels"):
        check_size(10_001, 12_000, "a.png")


# -- arrays ----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(0, 10), (10, 0), (0, 10, 3), (0, 0)])
def test_zero_sized_array(shape):
    with pytest.raises(ImageError, match=r"^line\.png: image has zero size"):
        as_uint8(np.zeros(shape, np.uint8), "line.png")


@pytest.mark.parametrize("shape", [(5,), (2, 3, 5), (2, 3, 3, 1), ()])
def test_bad_array_shape(shape):
    with pytest.raises(ImageError, match=r"^<array>: expected an image array of shape HxW"):
        as_uint8(np.zeros(shape, np.uint8), "<array>")


def test_array_over_pixel_limit(monkeypatch):
    monkeypatch.setenv("HTRKIT_MAX_IMAGE_PIXELS", "99")
    with pytest.raises(ImageError, match=r"^array: image is 10x10 = 100 pixels, over"):
        as_uint8(np.zeros((10, 10), np.uint8))


def test_float_array_in_unit_range():
    a = np.array([[0.0, 0.5, 1.0], [0.25, 0.002, 0.998]], np.float32)
    out = as_uint8(a)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[0, 128, 255], [64, 1, 254]])


def test_float_array_in_byte_range():
    a = np.array([[0.0, 2.0, 127.4, 127.6, 255.0, 300.0]], np.float64)
    np.testing.assert_array_equal(as_uint8(a), [[0, 2, 127, 128, 255, 255]])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_float_array_not_finite(bad):
    with pytest.raises(ImageError, match="NaN or infinite"):
        as_uint8(np.array([[0.5, bad]]), "x")


def test_bool_array():
    out = as_uint8(np.array([[True, False], [False, True]]))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[255, 0], [0, 255]])


def test_integer_arrays():
    np.testing.assert_array_equal(as_uint8(np.array([[0, 200, 255]], np.int64)), [[0, 200, 255]])
    u16 = np.array([[0, 257, 65535, 32768]], np.uint16)
    np.testing.assert_array_equal(as_uint8(u16), [[0, 1, 255, 128]])
    # 16-bit data held in 32 bits, as Pillow's "I" mode holds it
    i32 = np.array([[0, 1000, 65535]], np.int32)
    np.testing.assert_array_equal(as_uint8(i32), [[0, 4, 255]])
    with pytest.raises(ImageError, match="negative pixel values"):
        as_uint8(np.array([[-1, 5]], np.int16), "x")


def test_unsupported_dtype():
    with pytest.raises(ImageError, match="unsupported pixel type"):
        as_uint8(np.zeros((2, 2), np.complex64), "x")


def test_uint8_arrays_pass_through():
    grey = noise((4, 5))
    np.testing.assert_array_equal(as_uint8(grey), grey)
    np.testing.assert_array_equal(as_uint8(grey[:, :, None]), grey)  # HxWx1 -> HxW
    rgb = noise((4, 5, 3))
    out = as_uint8(rgb[:, ::-1])  # a non-contiguous view
    np.testing.assert_array_equal(out, rgb[:, ::-1])
    assert out.flags.c_contiguous


def test_rgba_array_composited_over_white():
    rgba = np.array([[[0, 0, 0, 255], [0, 0, 0, 0], [200, 100, 0, 128]]], np.uint8)
    out = as_uint8(rgba)
    assert out.shape == (1, 3, 3)
    # 128/255 of the colour plus 127/255 of white
    np.testing.assert_array_equal(out, [[[0, 0, 0], [255, 255, 255], [227, 177, 127]]])


# -- files that must read, with the right pixels ----------------------------------------


def roundtrip(tmp_path: Path, name: str, im: Image.Image, **kwargs) -> np.ndarray:
    path = tmp_path / name
    im.save(path, **kwargs)
    source, array = read_image(path)
    assert source == str(path)
    assert array.dtype == np.uint8
    assert array.flags.c_contiguous
    return array


def test_grey_png_exact(tmp_path):
    grey = noise((7, 9))
    np.testing.assert_array_equal(roundtrip(tmp_path, "g.png", Image.fromarray(grey)), grey)


def test_rgb_stays_rgb(tmp_path):
    rgb = noise((6, 5, 3))
    out = roundtrip(tmp_path, "rgb.png", Image.fromarray(rgb, "RGB"))
    assert out.shape == (6, 5, 3)
    np.testing.assert_array_equal(out, rgb)


@pytest.mark.parametrize("name", ["16.png", "16.tif"])
def test_16_bit_grey_scaled_to_8_bits(tmp_path, name):
    values = np.array([[0, 65535, 32896, 1000], [257, 128, 65000, 12345]], np.uint16)
    im = Image.fromarray(values)
    assert im.mode == "I;16"
    with Image.open(io.BytesIO(encode(im, "PNG" if name.endswith("png") else "TIFF"))) as back:
        assert back.mode == "I;16"  # the file really is 16-bit
    out = roundtrip(tmp_path, name, im)
    expected = np.round(values.astype(np.float64) * 255 / 65535).astype(np.uint8)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(out, [[0, 255, 128, 4], [1, 0, 253, 48]])


def test_dark_16_bit_image_is_not_read_as_8_bit(tmp_path):
    # a 16-bit scan whose values all fit in a byte is still 16-bit: near black
    values = np.array([[0, 100, 255]], np.uint16)
    out = roundtrip(tmp_path, "dark.png", Image.fromarray(values))
    np.testing.assert_array_equal(out, [[0, 0, 1]])


def test_32_bit_integer_tiff(tmp_path):
    values = np.array([[0, 65535, 32896]], np.int32)
    im = Image.fromarray(values)
    assert im.mode == "I"
    np.testing.assert_array_equal(roundtrip(tmp_path, "i.tif", im), [[0, 255, 128]])


def test_rgba_transparent_background_black_strokes(tmp_path):
    rgba = np.zeros((4, 6, 4), np.uint8)  # fully transparent black canvas
    rgba[1:3, 2:4] = [0, 0, 0, 255]  # an opaque black stroke
    rgba[0, 0] = [0, 0, 0, 128]  # a half-transparent edge
    out = roundtrip(tmp_path, "strokes.png", Image.fromarray(rgba, "RGBA"))
    assert out.shape == (4, 6, 3)
    expected = np.full((4, 6, 3), 255, np.uint8)
    expected[1:3, 2:4] = 0
    expected[0, 0] = 127
    np.testing.assert_array_equal(out, expected)


def test_la_grey_with_alpha(tmp_path):
    la = np.array([[[0, 255], [0, 0], [100, 128], [200, 255]]], np.uint8)
    out = roundtrip(tmp_path, "la.png", Image.fromarray(la, "LA"))
    assert out.shape == (1, 4)
    np.testing.assert_array_equal(out, [[0, 255, 177, 200]])


def palette_image() -> Image.Image:
    im = Image.new("P", (4, 1))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
    im.putdata([0, 1, 2, 3])
    return im


def test_palette_png(tmp_path):
    out = roundtrip(tmp_path, "p.png", palette_image())
    np.testing.assert_array_equal(out, [[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]])


def test_palette_png_with_transparency(tmp_path):
    out = roundtrip(tmp_path, "pt.png", palette_image(), transparency=1)
    # the transparent entry (green) becomes white paper
    np.testing.assert_array_equal(out, [[[255, 0, 0], [255, 255, 255], [0, 0, 255], [10, 20, 30]]])


def test_grey_png_with_transparent_value(tmp_path):
    grey = np.array([[0, 50, 200]], np.uint8)
    out = roundtrip(tmp_path, "lt.png", Image.fromarray(grey), transparency=50)
    np.testing.assert_array_equal(out, [[0, 255, 200]])


def test_cmyk_jpeg(tmp_path):
    cmyk = Image.new("CMYK", (16, 8), (0, 0, 0, 0))  # no ink: white
    cmyk.paste((0, 0, 0, 255), (0, 0, 8, 8))  # full black in the left half
    out = roundtrip(tmp_path, "cmyk.jpg", cmyk, quality=100)
    assert out.shape == (8, 16, 3)
    assert out[:, :6].max() <= 8
    assert out[:, 10:].min() >= 247


def test_bilevel(tmp_path):
    bits = np.array([[True, False, True], [False, False, True]])
    im = Image.fromarray(bits)
    assert im.mode == "1"
    out = roundtrip(tmp_path, "b.png", im)
    np.testing.assert_array_equal(out, [[255, 0, 255], [0, 0, 255]])
    np.testing.assert_array_equal(roundtrip(tmp_path, "b.tif", im, compression="group4"), out)


def test_exif_rotated_jpeg(tmp_path):
    stored = np.full((16, 32), 255, np.uint8)  # 32 wide, 16 high
    stored[:, :16] = 0  # black left half
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    out = roundtrip(tmp_path, "rot.jpg", Image.fromarray(stored), exif=exif, quality=100)
    assert out.shape == (32, 16)
    # turned clockwise, the left half becomes the top half
    assert out[:14].max() <= 8
    assert out[18:].min() >= 247
    # and without the tag, it is not rotated
    plain = roundtrip(tmp_path, "plain.jpg", Image.fromarray(stored), quality=100)
    assert plain.shape == (16, 32)


def test_first_frame_of_gif(tmp_path):
    frames = [Image.fromarray(np.full((3, 3), v, np.uint8)) for v in (0, 255)]
    out = roundtrip(tmp_path, "anim.gif", frames[0], save_all=True, append_images=frames[1:])
    np.testing.assert_array_equal(out, np.zeros((3, 3, 3), np.uint8))


def test_image_loader(tmp_path):
    grey = noise((5, 7))
    path = tmp_path / "page.png"
    Image.fromarray(grey).save(path)
    page = ImageLoader().load(path)
    assert isinstance(page, Page)
    assert page.source == str(path)
    assert (page.height, page.width) == (5, 7)
    np.testing.assert_array_equal(page.image, grey)


def test_image_loader_from_registry(tmp_path):
    from htrkit.plugins import registry

    spec = registry("loader").get("image")
    assert {".png", ".jpg", ".tif"} <= set(spec.suffixes)
    loader = spec.create()
    with pytest.raises(ImageError, match=r"empty\.png: file is empty"):
        loader.load(write(tmp_path, "empty.png", b""))
    rgb = noise((3, 4, 3))
    Image.fromarray(rgb).save(tmp_path / "ok.png")
    np.testing.assert_array_equal(loader.load(tmp_path / "ok.png").image, rgb)


def test_a_bad_pixel_value_names_the_file(tmp_path):
    from htrkit.imageio import read_image

    path = tmp_path / "negative.tif"
    Image.fromarray(np.array([[-5, 3], [1, 2]], dtype=np.int32), mode="I").save(path)
    with pytest.raises(ImageError, match=f"^{re.escape(str(path))}: image has negative pixel"):
        read_image(path)


def test_a_pipe_or_a_device_is_not_an_image(tmp_path):
    import os

    from htrkit.imageio import read_image

    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(ImageError, match="not a regular file"):
            read_image(path)
