"""The contract of every component kind, checked on every registered component.

Each kind's contract is written once, in :mod:`htrkit.components` (the protocol its spec
record names, ``spec.protocol``). These tests build every registered component of every
kind with its default options, as a user naming it would, and check that it keeps the
contract: the methods are there, the results have the promised types and shapes, and bad
input ends in one of htrkit's own one-line errors. A plugin installed in the environment is
checked too (the suite itself runs with ``HTRKIT_LOAD_PLUGINS=""``, so only when named).
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from conftest import handwriting_like

from htrkit import components
from htrkit.errors import HtrkitError
from htrkit.plugins import PluginManager
from htrkit.specs import SPEC_TYPES

MANAGER = PluginManager()


#: options for the components whose defaults are not enough to build them
NEEDS = {("decoder", "pattern"): {"pattern": "[a-e ]*[0-9]*"}}


def build(kind: str, spec):
    """The component with its defaults, as a user naming it would get it; one whose
    defaults are not enough must refuse in one line, and is then built with ``NEEDS``."""
    try:
        return spec.create()
    except HtrkitError as exc:
        one_line_error(exc)
        if (kind, spec.name) not in NEEDS:
            pytest.skip(f"{kind} {spec.name!r} needs options: {exc}")
        return spec.create(NEEDS[kind, spec.name])


def every(kind: str):
    return [pytest.param(spec, id=spec.name) for spec in MANAGER.registry(kind)]


def one_line_error(exc: BaseException) -> str:
    message = str(exc)
    assert isinstance(exc, HtrkitError), f"{type(exc).__name__}: {message}"
    assert message and "\n" not in message, message
    return message


def test_every_kind_names_its_protocol_and_the_docs_list_it():
    """One source: the spec record carries its protocol; the plugin docs are generated
    from it, so every kind is documented and no kind is left out of these tests."""
    from docgen import protocols_table

    table = protocols_table()
    for kind, spec_type in SPEC_TYPES.items():
        assert spec_type.protocol.__doc__, kind
        assert f"| {kind} | `{spec_type.call}` |" in table
    tested = {name.removeprefix("test_").split("_")[0] for name in globals()}
    assert set(SPEC_TYPES) <= tested  # each kind has its test below


# -- load ---------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", every("loader"))
def test_loader_contract(spec, tmp_path):
    loader = build("loader", spec)
    assert isinstance(loader, components.Loader)
    suffix = spec.suffixes[0] if spec.suffixes else ".dat"
    missing = tmp_path / f"missing{suffix}"
    with pytest.raises(HtrkitError) as info:
        loader.load(missing)
    assert str(missing) in one_line_error(info.value)
    garbage = tmp_path / f"garbage{suffix}"
    garbage.write_bytes(b"\x00\x01 not a real file of this kind \xff" * 8)
    with pytest.raises(HtrkitError) as info:
        loader.load(garbage)
    assert str(garbage) in one_line_error(info.value)


def test_loader_contract_on_real_files(tmp_path):
    from PIL import Image

    from htrkit import Page

    for suffix in (".png", ".jpg", ".tif", ".webp"):
        path = tmp_path / f"page{suffix}"
        Image.fromarray(handwriting_like()).save(path)
        page = MANAGER.registry("loader").create("image").load(path)
        assert isinstance(page, Page) and page.image.dtype == np.uint8
        assert (page.width, page.height) == (240, 48) and page.source == str(path)


# -- datasets -----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", every("dataset"))
def test_dataset_reader_contract(spec, tmp_path):
    from htrkit.datasets import DatasetReport

    reader = build("dataset", spec)
    assert isinstance(reader, components.DatasetReader)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert reader.detect(empty) in (False, True)  # cheap, and never raises
    assert reader.detect(tmp_path / "nowhere") is False
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"\xff\xfe<not<xml or a table\x00")
    with pytest.raises(HtrkitError) as info:
        list(reader.samples(garbage, DatasetReport(), False))
    one_line_error(info.value)


# -- preprocess ---------------------------------------------------------------------------


@pytest.mark.parametrize("spec", every("preprocessor"))
def test_preprocessor_contract(spec):
    from htrkit.preprocess.chain import PreprocessChain

    step = build("preprocessor", spec)
    assert isinstance(step, components.Preprocessor)
    grey = handwriting_like(width=200, height=40)
    for image in (grey, np.stack([grey] * 3, axis=2)):
        out, to_input = PreprocessChain([step], [spec.name]).run(image.copy())
        assert isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.ndim in (2, 3)
        assert out.shape[0] > 0 and out.shape[1] > 0
        xs = to_input(np.array([0.0, out.shape[1] / 2, out.shape[1]]))
        assert xs.shape == (3,) and np.isfinite(xs).all()
        assert (xs >= -1).all() and (xs <= image.shape[1] + 1).all(), xs
        assert np.array_equal(step(image.copy()), out)  # __call__ and apply agree


# -- segment ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", every("segmenter"))
def test_segmenter_contract(spec):
    from htrkit import LineRegion

    segmenter = build("segmenter", spec)
    assert isinstance(segmenter, components.Segmenter)
    page = np.full((400, 300), 255, np.uint8)
    for row in range(3):
        page[60 + 110 * row : 108 + 110 * row, 20:260] = handwriting_like(240, 48, seed=row)
    for image in (page, np.full((120, 160), 255, np.uint8), np.stack([page] * 3, axis=2)):
        height, width = image.shape[:2]
        regions = segmenter.segment(image)
        assert isinstance(regions, list)
        for region in regions:
            assert isinstance(region, LineRegion)
            x0, y0, x1, y1 = region.bbox
            assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, region.bbox
            for x, y in region.polygon + region.baseline:
                assert -1 <= x <= width + 1 and -1 <= y <= height + 1, (x, y)
    assert segmenter.segment(page), "three lines of ink, none found"


# -- model --------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", every("backbone"))
def test_backbone_contract(spec):
    import torch

    options = spec.validate()
    height = getattr(options, "height", 32)
    module = spec.create(options, 7).eval()
    widths = torch.tensor([96, 64])
    images = torch.zeros(2, 1, height, 96)
    images[1, :, :, :64] = torch.rand(1, height, 64)
    with torch.inference_mode():
        logits = module(images, widths)
    assert logits.shape[0] == 2 and logits.shape[2] == 7
    lengths = module.output_lengths(widths)
    assert lengths.dtype == torch.long and lengths.tolist()[0] == logits.shape[1]
    assert 0 < lengths.tolist()[1] <= lengths.tolist()[0]


@pytest.mark.parametrize("spec", every("model"))
def test_model_contract(spec):
    from htrkit.recognizer import Recognizer

    path = spec.create()
    recognizer = Recognizer.load(path)
    assert recognizer.alphabet.chars and recognizer.config.input_height > 0


# -- decode -------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", every("decoder"))
def test_decoder_contract(spec):
    from htrkit import Alphabet, Decoding

    alphabet = Alphabet(list("abcde 0123"))
    decoder = build("decoder", spec)
    assert isinstance(decoder, components.Decoder)
    rng = np.random.default_rng(0)
    for frames in (0, 1, 40):
        logits = rng.normal(size=(frames, len(alphabet) + 1)) * 3
        lp = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
        result = decoder.decode(lp, alphabet)
        assert isinstance(result, Decoding)
        assert 0.0 <= result.confidence <= 1.0
        if result.chars:
            assert "".join(c.char for c in result.chars) == result.text
            for c in result.chars:
                assert 0 <= c.start < c.end <= frames and 0.0 <= c.prob <= 1.0


# -- postprocess --------------------------------------------------------------------------


@pytest.mark.parametrize("spec", every("postprocessor"))
def test_postprocessor_contract(spec):
    from htrkit import CharResult, LineResult

    post = build("postprocessor", spec)
    assert isinstance(post, components.Postprocessor)
    text = "  Cafe\u0301  au   lait "
    chars = [CharResult(c, float(i), float(i + 1), 0.9, i) for i, c in enumerate(text)]
    line = LineResult(text, 0.8, (0, 0, len(text), 10), chars=chars)
    out = post(line)
    assert isinstance(out, LineResult) and isinstance(out.text, str)
    assert out.bbox == line.bbox
    if out.chars:
        assert "".join(c.char for c in out.chars) == out.text


# -- evaluate and write -------------------------------------------------------------------


@pytest.mark.parametrize("spec", every("metric"))
def test_metric_contract(spec):
    metric = build("metric", spec)
    assert isinstance(metric, components.Metric)
    num, den = metric.statistics("cat sat", "cut sat")
    assert all(isinstance(v, (int, float)) for v in (num, den)) and den >= 0
    same = metric.corpus(["a b", "c"], ["a b", "c"])
    worst = metric.corpus(["xyz"], ["a b"])
    assert same != worst
    assert (same > worst) == bool(metric.higher_is_better)


@pytest.mark.parametrize("spec", every("writer"))
def test_writer_contract(spec):
    from htrkit import CharResult, LineResult, Result

    writer = build("writer", spec)
    assert isinstance(writer, components.Writer)
    chars = [CharResult(c, 10.0 + 5 * i, 15.0 + 5 * i, 0.9, i) for i, c in enumerate("a <b>&")]
    line = LineResult("a <b>&", 0.9, (10, 5, 50, 25), [(10, 5), (50, 5), (50, 25), (10, 25)],
                      [(10, 22), (50, 22)], chars)  # fmt: skip
    results = [Result("page.png", 60, 30, [line]), Result("empty.png", 60, 30, [])]
    for batch in ([results[0]], results[1:]) if spec.per_input else (results,):
        stream = io.StringIO()
        writer.write(batch, stream)
        written = stream.getvalue()
        assert written if batch[0].lines else True
        if spec.suffix == ".json":
            json.loads(written)
        elif spec.suffix in (".xml", ".hocr"):
            root = ET.fromstring(written)
            values = [v for e in root.iter() for v in (e.text or "", *e.attrib.values())]
            assert {"a", "<b>&"} <= set(values) or not batch[0].lines  # words, escaped
        elif batch[0].lines:
            assert "a <b>&" in written


# -- command line -------------------------------------------------------------------------


def test_command_contract():
    """Every command a plugin adds (built-ins included) has help, and ``--help`` works for
    each without importing torch."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom htrkit.cli import build_app\n"
        "import typer\napp = build_app()\ncommand = typer.main.get_command(app)\n"
        "bad = []\nfor name, sub in command.commands.items():\n"
        "    r = CliRunner().invoke(app, [name, '--help'])\n"
        "    if r.exit_code or not (sub.help or '').strip(): bad.append(name)\n"
        "print(bad, 'torch' in sys.modules, len(command.commands))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    bad, torch_loaded, count = out.stdout.rsplit(" ", 2)
    assert bad == "[]" and torch_loaded == "False" and int(count) >= 10, out.stdout
