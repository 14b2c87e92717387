"""Property-based fuzzing of every reader of untrusted input (issue #26): images, ALTO and
PAGE files, tables, training and pipeline configurations, model files, ARPA files and the
web API's bodies. Each generated case ends in a result or in one of htrkit's own errors
(``HtrkitError``), with a one-line message, never an internal exception or a hang.

In CI the examples are derandomised (a fixed seed) and bounded (``FUZZ_EXAMPLES``, 40 per
reader); ``HTRKIT_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz.py`` runs longer,
and prints how many cases each reader met.
"""

from __future__ import annotations

import json
import os
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from htrkit.errors import HtrkitError  # noqa: E402

EXAMPLES = int(os.environ.get("HTRKIT_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: a hang guard per case, not a speed target
SECONDS = 20.0
COUNTS: dict[str, int] = {}


def ends_cleanly(reader: str, call) -> object:
    """Run ``call``: a value, or an HtrkitError with a one-line message; bounded in time."""
    COUNTS[reader] = COUNTS.get(reader, 0) + 1
    start = time.monotonic()
    try:
        return call()
    except HtrkitError as exc:
        message = str(exc)
        assert message and "\n" not in message.strip(), (reader, message)
        return exc
    finally:
        assert time.monotonic() - start < SECONDS, f"{reader}: a case took too long"


def teardown_module() -> None:
    if EXAMPLES > 40:
        print("\nfuzz cases per reader:", json.dumps(COUNTS))


# -- images --------------------------------------------------------------------------------


def _png(width: int, height: int, body: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


@FUZZ
@given(
    kind=st.sampled_from(["random", "png-header", "png-truncated"]),
    data=st.binary(max_size=2048),
    width=st.integers(0, 2**31 - 1),
    height=st.integers(0, 2**31 - 1),
)
def test_images(kind, data, width, height):
    from htrkit.imageio import decode_image

    if kind == "png-header":
        data = _png(width, height, zlib.compress(data))
    elif kind == "png-truncated":
        data = _png(min(width, 64) or 1, min(height, 64) or 1, zlib.compress(b"\0" * 4096))[
            : len(data) % 200 + 8
        ]
    result = ends_cleanly("image", lambda: decode_image(data, "fuzz.png"))
    if isinstance(result, np.ndarray):
        assert result.dtype == np.uint8 and result.ndim in (2, 3)


# -- ALTO and PAGE ---------------------------------------------------------------------------

ALTO = """<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Description>
<sourceImageInformation><fileName>{image}</fileName></sourceImageInformation></Description>
<Layout><Page WIDTH="{w}" HEIGHT="{h}"><PrintSpace><TextBlock ID="b">
<TextLine ID="l1" BASELINE="{baseline}" HPOS="{x}" VPOS="{y}" WIDTH="{lw}" HEIGHT="{lh}">
<Shape><Polygon POINTS="{points}"/></Shape><String CONTENT="{text}"/></TextLine>
</TextBlock></PrintSpace></Page></Layout></alto>"""

numbers = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "x", "1e400", "-0", "3,4"]),
)


@FUZZ
@given(
    image=st.sampled_from(["page.png", "../page.png", "/etc/passwd", "", "missing.png"]),
    coords=st.lists(numbers, min_size=10, max_size=10),
    points=st.text(alphabet="0123456789 ,.-e", max_size=60),
    text=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40),
    mutate=st.integers(0, 400),
)
def test_alto_pages(tmp_path_factory, image, coords, points, text, mutate):
    from xml.sax.saxutils import quoteattr

    from htrkit.datasets import DatasetReport, read_dataset

    folder = tmp_path_factory.mktemp("alto")
    Image_save(folder / "page.png")
    w, h, x, y, lw, lh, *base = coords
    xml = ALTO.format(image=image, w=w, h=h, x=x, y=y, lw=lw, lh=lh, points=points,
                      baseline=" ".join(base), text=quoteattr(text)[1:-1])  # fmt: skip
    raw = xml.encode("utf-8")
    if mutate < len(raw) and mutate % 3 == 0:  # a cut or a flipped byte
        raw = raw[:mutate] if mutate % 2 else raw[:mutate] + b"\xff" + raw[mutate + 1 :]
    (folder / "page.xml").write_bytes(raw)

    def read():
        samples = list(read_dataset(folder, "alto", report=DatasetReport()))
        for s in samples:
            assert s.image.ndim == 2 and s.image.shape[0] > 0 and s.image.size < 10**7
        return samples

    ends_cleanly("alto", read)


def Image_save(path: Path) -> None:
    from PIL import Image

    Image.fromarray(np.full((60, 80), 200, np.uint8)).save(path)


# -- tables ----------------------------------------------------------------------------------


@FUZZ
@given(
    rows=st.lists(
        st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12),
                 max_size=4),
        max_size=6,
    ),
    delimiter=st.sampled_from(["\t", ",", ";"]),
)  # fmt: skip
def test_tables(tmp_path_factory, rows, delimiter):
    from htrkit.datasets import DatasetReport, read_dataset

    folder = tmp_path_factory.mktemp("table")
    Image_save(folder / "a.png")
    content = "\n".join(delimiter.join(r) for r in [["image", "text"], ["a.png", "ok"], *rows])
    (folder / "labels.tsv").write_text(content, encoding="utf-8")
    ends_cleanly(
        "table",
        lambda: list(read_dataset(folder / "labels.tsv", "table", report=DatasetReport())),
    )


# -- configurations ----------------------------------------------------------------------------

scalars = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=10),
)


@FUZZ
@given(
    key=st.sampled_from(["epochs", "batch_size", "lr", "threads", "num_workers", "schedule",
                         "precision", "device", "max_minutes", "warmup_steps", "nonsense"]),
    value=scalars,
)  # fmt: skip
def test_training_configs(key, value):
    from htrkit.training.config import from_dict

    ends_cleanly("training config", lambda: from_dict({"data": {"train": [{"path": "x"}]},
                                                       "train": {key: value}}))  # fmt: skip


@FUZZ
@given(
    key=st.sampled_from(["decoder", "batch_size", "segmenter", "backend", "min_confidence",
                         "threads", "device", "decoder_options", "segmenter_options",
                         "postprocessors", "preprocess", "loader"]),
    value=st.one_of(scalars, st.dictionaries(st.text(max_size=8), scalars, max_size=3)),
)  # fmt: skip
def test_pipeline_configs(model_path, key, value):
    from htrkit import Pipeline

    ends_cleanly("pipeline config", lambda: Pipeline(model=model_path, **{key: value}))


@FUZZ
@given(text=st.text(max_size=200))
def test_pipeline_config_files(tmp_path_factory, model_path, text):
    from htrkit import Pipeline

    path = tmp_path_factory.mktemp("pipe") / "pipe.toml"
    path.write_text(f'model = "{model_path}"\n' + text, encoding="utf-8")
    ends_cleanly("pipeline config", lambda: Pipeline.from_config(path))


# -- model files -------------------------------------------------------------------------------


@FUZZ
@given(
    change=st.sampled_from(["backbone", "alphabet", "input_height", "backbone_options",
                            "preprocess", "format_version", "header", "bytes"]),
    value=st.one_of(scalars, st.lists(st.text(max_size=3), max_size=5),
                    st.dictionaries(st.sampled_from(["height", "hidden", "x"]), scalars,
                                    max_size=2)),
    cut=st.integers(0, 5000),
)  # fmt: skip
def test_model_files(tmp_path_factory, model_path, change, value, cut):
    from htrkit.recognizer import Recognizer

    raw = bytearray(model_path.read_bytes())
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    if change == "bytes":
        data = bytes(raw[: cut % len(raw)])
    elif change == "header":
        data = struct.pack("<Q", cut) + bytes(raw[8:])
    else:
        config = json.loads(header["__metadata__"]["htrkit.config"])
        config[change] = value
        header["__metadata__"]["htrkit.config"] = json.dumps(config)
        text = json.dumps(header).encode()
        data = struct.pack("<Q", len(text)) + text + bytes(raw[8 + n :])
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    path.write_bytes(data)
    ends_cleanly("model file", lambda: Recognizer.load(path))


# -- ARPA files ----------------------------------------------------------------------------------


@FUZZ
@given(
    lines=st.lists(st.text(alphabet="-0123456789.\t <>/sa", max_size=20), max_size=8),
    order=st.integers(1, 3),
)
def test_arpa_files(tmp_path_factory, lines, order):
    from htrkit.lm.tables import read_arpa

    counts = "".join(f"ngram {k}={len(lines)}\n" for k in range(1, order + 1))
    sections = "".join(f"\\{k}-grams:\n" + "\n".join(lines) + "\n\n" for k in range(1, order + 1))
    path = tmp_path_factory.mktemp("arpa") / "lm.arpa"
    path.write_text(f"\\data\\\n{counts}\n{sections}\\end\\\n", encoding="utf-8")
    ends_cleanly("arpa", lambda: read_arpa.__wrapped__(path))


# -- the web API ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    from starlette.testclient import TestClient

    from htrkit.web.app import Settings, create_app

    app = create_app(Settings(max_upload_bytes=200_000, max_pixels=1_000_000))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                     max_leaves=8).map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries({"image": st.text(max_size=40), "mode": st.text(max_size=8),
                               "decoder": st.sampled_from(["greedy", "kenlm", "x", "auto"]),
                               "options": scalars}).map(lambda v: json.dumps(v).encode()),
    ),
    kind=st.sampled_from(["application/json", "multipart/form-data; boundary=x", "text/plain"]),
)  # fmt: skip
def test_web_bodies(client, body, kind):
    COUNTS["web"] = COUNTS.get("web", 0) + 1
    r = client.post("/api/recognize", content=body, headers={"content-type": kind})
    assert r.status_code in (200, 400, 413, 415, 503), (r.status_code, r.text[:200])
    assert "error" in r.json() or r.status_code == 200
