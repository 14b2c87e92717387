"""The ONNX export and the onnxruntime backend: the same log-probabilities, texts and
character positions as torch, a cold start that never imports torch, and the binary form
of the language models' tables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ALPHABET, ROOT, SHARED, handwriting_like, run_cli

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

EXAMPLES = ROOT / "examples" / "images"
MODELS = ROOT / "htrkit" / "models"


#: ``htrkit`` with torch made unimportable: a run that imports it fails
WITHOUT_TORCH = (
    "import sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == 'torch' or name.startswith('torch.'):\n"
    "            raise ImportError('torch was imported')\n"
    "sys.meta_path.insert(0, Block())\n"
    "from htrkit.cli import main\n"
    "sys.argv = ['htrkit'] + sys.argv[1:]\n"
    "main()\n"
)


def run_without_torch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_TORCH, *args], capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def _random_model(tmp_path: Path, backbone: str, options: dict, height: int = 32) -> Path:
    from htrkit.modelfile import ModelConfig
    from htrkit.preprocess.chain import standard_steps
    from htrkit.recognizer import Recognizer

    config = ModelConfig(
        backbone=backbone,
        alphabet=ALPHABET,
        input_height=height,
        backbone_options={"height": height, **options},
        preprocess=standard_steps("line", height),
    )
    path = tmp_path / f"{backbone}.safetensors"
    recognizer = Recognizer.create(config, seed=1)
    if backbone == "ppocr":  # batch norms with statistics of their own, as after training
        import torch

        with torch.no_grad():
            for m in recognizer.module.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
    recognizer.save(path)
    return path


def _lines(n: int, height: int, seed: int = 0) -> list[np.ndarray]:
    """Ink-like line images of varied widths (padding must not change any line)."""
    rng = np.random.default_rng(seed)
    return [handwriting_like(int(rng.integers(40, 700)), height, seed + i) for i in range(n)]


@pytest.mark.parametrize(
    "backbone, options, height",
    [
        ("crnn-small", {"hidden": 32}, 32),
        ("crnn-vgg", {"hidden": 32}, 32),
        ("resnet-blstm", {"hidden": 32}, 32),
        ("ppocr", {"size": "tiny"}, 48),
        ("ppocr", {"size": "small"}, 48),
    ],
)
def test_every_builtin_backbone_exports_and_agrees(tmp_path, backbone, options, height):
    from htrkit.cache import sha256
    from htrkit.onnxmodel import OnnxRecognizer, export
    from htrkit.recognizer import Recognizer

    path = _random_model(tmp_path, backbone, options, height)
    torch_side = Recognizer.load(path)
    out = export(torch_side, tmp_path / "m.onnx", source_sha256=sha256(path))
    onnx_side = OnnxRecognizer.load(out, threads=1)
    assert onnx_side.config == torch_side.config
    assert onnx_side.source_sha256 == sha256(path)
    images = [torch_side.preprocess.run(im)[0] for im in _lines(7, height)]
    # one padded batch of all widths, and each line alone: the same frames and values
    for chunk in (images, images[:1], images[3:5]):
        a = torch_side.log_probs(chunk)
        b = onnx_side.log_probs(chunk)
        assert [x.shape for x in a] == [x.shape for x in b]
        assert max(float(np.abs(x - y).max()) for x, y in zip(a, b)) <= 1e-3


def _real_lines() -> list[tuple[str, np.ndarray]]:
    from htrkit.imageio import read_image

    found = [(p.name, read_image(p)[1]) for p in sorted(EXAMPLES.glob("*.png"))]
    labels = SHARED / "dhsd-words" / "labels.tsv"
    if labels.is_file():  # real handwriting: the first 60 DHSD words
        rows = labels.read_text(encoding="utf-8").splitlines()[1:61]
        for row in rows:
            name = row.split("\t")[0]
            found.append((name, read_image(labels.parent / name)[1]))
    return found


def test_bundled_onnx_files_are_exports_of_the_bundled_weights():
    """A retrained model without a fresh export would run the old network under auto."""
    from htrkit.cache import sha256
    from htrkit.onnxmodel import OnnxRecognizer

    for name in ("default", "digits"):
        onnx_side = OnnxRecognizer.load(MODELS / f"{name}.onnx")
        assert onnx_side.source_sha256 == sha256(MODELS / f"{name}.safetensors"), (
            f"htrkit/models/{name}.onnx is stale: htrkit model export {name} --overwrite"
        )


def test_backends_agree_on_real_lines():
    from htrkit.pipeline import Pipeline

    lines = _real_lines()
    torch_pipe = Pipeline(backend="torch", segmenter="whole")
    onnx_pipe = Pipeline(backend="onnx", segmenter="whole")
    assert onnx_pipe.recognizer.backend == "onnx" and torch_pipe.recognizer.backend == "torch"
    images = [im for _, im in lines]
    a = torch_pipe.recognizer.read(images)
    b = onnx_pipe.recognizer.read(images)
    worst = max(float(np.abs(x.log_probs - y.log_probs).max()) for x, y in zip(a, b))
    assert worst <= 1e-3
    for (name, _image), x, y in zip(lines, torch_pipe.batch(images), onnx_pipe.batch(images)):
        assert x.text == y.text, name
        xs = [(c.char, round(c.x0, 3), round(c.x1, 3)) for ln in x.lines for c in ln.chars]
        ys = [(c.char, round(c.x0, 3), round(c.x1, 3)) for ln in y.lines for c in ln.chars]
        assert xs == ys, name
    assert torch_pipe(EXAMPLES / "handwritten.png").text == "Handwriting is easy to read for htrkit"


def test_batches_run_side_by_side_read_as_one_after_the_other():
    """onnxruntime reads a batch in runs of a few lines; threads=2 makes two runs at a time
    (the widest first): every line's log-probabilities are exactly those of one thread."""
    from htrkit.onnxmodel import RUN_LINES, OnnxRecognizer

    images = [im for _, im in _real_lines()]
    while len(images) <= 2 * RUN_LINES:  # without ../shared: shorter cuts of the examples
        images += [im[:, : max(16, im.shape[1] * 2 // 3)] for im in images]
    one = OnnxRecognizer.load(MODELS / "default.onnx", threads=1)
    two = OnnxRecognizer.load(MODELS / "default.onnx", threads=2)
    a = one.read(images, batch_size=8)
    b = two.read(images, batch_size=8)
    assert not one._pool.started and two._pool.started  # it did run side by side
    assert len(a) == len(b) == len(images) > RUN_LINES
    for x, y in zip(a, b):
        assert np.array_equal(x.log_probs, y.log_probs)
        assert np.array_equal(x.frames_to_x([0, 3, 7]), y.frames_to_x([0, 3, 7]))


@pytest.mark.slow
def test_masks_are_products_in_the_exported_graph(tmp_path):
    """Padded columns are zeroed by a product, which keeps onnxruntime's blocked layout
    between convolutions (a Where cost the default network 1.12x): none is left in the
    backbone, in a fresh export of the default model and in the bundled file."""
    onnx = pytest.importorskip("onnx")
    from htrkit.onnxmodel import export
    from htrkit.recognizer import Recognizer

    fresh = export(Recognizer.load(MODELS / "default.safetensors"), tmp_path / "d.onnx")
    for path in (fresh, MODELS / "default.onnx"):
        graph = onnx.load(str(path)).graph
        wheres = [n.name for n in graph.node if n.op_type == "Where" and "/blocks" in n.name]
        muls = [n.name for n in graph.node if n.op_type == "Mul" and "/blocks" in n.name]
        assert not wheres and muls, path


def test_auto_picks_onnx_for_bundled_models_and_torch_without_an_onnx_form(tmp_path):
    from htrkit.pipeline import Pipeline

    assert Pipeline().recognizer.backend == "onnx"
    assert Pipeline(model="digits").recognizer.backend == "onnx"
    path = _random_model(tmp_path, "crnn-small", {"hidden": 32})
    assert Pipeline(model=path).recognizer.backend == "torch"  # auto never exports
    assert Pipeline(model=path, backend="onnx").recognizer.backend == "onnx"  # now cached
    assert Pipeline(model=path).recognizer.backend == "onnx"


def test_onnx_backend_exports_into_the_cache_once(tmp_path, monkeypatch):
    from htrkit.onnxmodel import onnx_form

    monkeypatch.setenv("HTRKIT_CACHE", str(tmp_path / "cache"))
    path = _random_model(tmp_path, "crnn-small", {"hidden": 32})
    first = onnx_form(path)
    cached = list((tmp_path / "cache" / "onnx").glob("*.onnx"))
    assert len(cached) == 1 and Path(first.source) == cached[0]
    stamp = cached[0].stat().st_mtime_ns
    again = onnx_form(path)
    assert Path(again.source) == cached[0] and cached[0].stat().st_mtime_ns == stamp
    # changed weights: a new export, never the stale one
    from htrkit.recognizer import Recognizer

    recognizer = Recognizer.load(path)
    import torch

    with torch.no_grad():
        next(recognizer.module.parameters()).add_(0.5)
    recognizer.save(path)
    second = Path(onnx_form(path).source)
    assert second != cached[0]
    # a damaged entry is written again
    second.write_bytes(b"not onnx")
    repaired = onnx_form(path)
    assert Path(repaired.source) == second
    image = repaired.preprocess.run(handwriting_like(height=32))[0]
    assert repaired.log_probs([image])[0].shape[0] > 0


def test_cli_export_run_and_info(tmp_path, model_path):
    out = tmp_path / "m.onnx"
    done = run_cli("model", "export", model_path, "-o", out)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and out.is_file()
    again = run_cli("model", "export", model_path, "-o", out)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        f"htrkit: error: {out}: exists; give --overwrite to replace it"
    ]
    assert run_cli("model", "export", model_path, "-o", out, "--overwrite").returncode == 0
    info = run_cli("model", "info", out)
    assert info.returncode == 0 and "ONNX" in info.stdout and "crnn-small" in info.stdout
    line = EXAMPLES / "handwritten.png"
    by_torch = run_cli("run", line, "-m", model_path, "--backend", "torch")
    by_onnx = run_cli("run", line, "-m", out)
    assert by_onnx.returncode == 0, by_onnx.stderr
    assert by_onnx.stdout == by_torch.stdout
    bad = run_cli("run", line, "-m", out, "--backend", "torch")
    assert bad.returncode == 2 and "ONNX file runs with the onnx backend" in bad.stderr


def test_int8_export_is_smaller_and_still_reads(tmp_path):
    """int8 is measured by benchmarks/collection_scale.py (not offered by the CLI: it loses
    CER); the export must still give a working file."""
    from htrkit.onnxmodel import OnnxRecognizer, export
    from htrkit.pipeline import Pipeline
    from htrkit.recognizer import Recognizer

    out = export(Recognizer.load(MODELS / "default.safetensors"), tmp_path / "q.onnx", int8=True)
    assert out.stat().st_size < 0.6 * (MODELS / "default.onnx").stat().st_size
    pipe = Pipeline(model=OnnxRecognizer.load(out, threads=1))
    text = pipe(EXAMPLES / "handwritten.png").text
    assert text.startswith("Handwriting is easy")
    assert "int8" in run_cli("model", "info", out).stdout


def test_bad_onnx_files_give_one_line_errors(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x08\x07garbage" * 10)
    # a valid ONNX graph that htrkit did not write
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    foreign = tmp_path / "foreign.onnx"
    onnx.save(helper.make_model(graph), foreign)
    for path, says in (
        (junk, "not a readable ONNX model"),
        (foreign, "has no htrkit configuration"),
        (tmp_path / "missing.onnx", "no such ONNX model file"),
    ):
        done = run_cli("run", EXAMPLES / "handwritten.png", "-m", path)
        assert done.returncode == 1, done.stderr  # a bad model file, as for safetensors
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0] and str(path) in lines[0]
    done = run_cli("model", "export", "default", "-o", tmp_path / "x.txt")
    assert done.returncode == 2 and "the file's name must end in .onnx" in done.stderr


def test_a_run_on_the_onnx_backend_never_imports_torch(tmp_path):
    """The cold start: greedy and the bundled character LM, with torch made unimportable."""
    line = EXAMPLES / "handwritten.png"
    for extra in ([], ["--decoder", "kenlm", "-O", "level=char"]):
        done = run_without_torch("run", str(line), *extra)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "Handwriting is easy to read for htrkit"


def test_lm_tables_binary_form(tmp_path, monkeypatch):
    from htrkit.lm import tables

    monkeypatch.setenv("HTRKIT_CACHE", str(tmp_path))
    arpa = tmp_path / "tiny.arpa"
    arpa.write_text(
        "\\data\\\nngram 1=5\nngram 2=3\n\n\\1-grams:\n-1.0\t<unk>\t0\n-0.5\t<s>\t-0.3\n"
        "-0.7\t</s>\t0\n-0.4\ta\t-0.2\n-0.6\tb\t-0.1\n\n\\2-grams:\n-0.2\t<s> a\n-0.3\ta b\n"
        "-0.25\tb </s>\n\n\\end\\\n",
        encoding="utf-8",
    )
    parsed = tables.read_arpa(arpa)
    first = tables.load_tables.__wrapped__(arpa)
    binary = list((tmp_path / "lm").glob("*.npz"))
    assert len(binary) == 1
    loaded = tables.load_tables.__wrapped__(arpa)  # from the binary form
    for t in (first, loaded):
        assert t.ids == parsed.ids and t.order == parsed.order
        for name in tables._ARRAYS:
            assert np.array_equal(getattr(t, name), getattr(parsed, name)), name
        assert t.logprob("b", ["a"]) == pytest.approx(-0.3)
        assert t.logprob("a", ["b"]) == pytest.approx(-0.1 - 0.4)
    # a damaged or inconsistent binary form is never used: the ARPA file is read again
    with np.load(binary[0]) as data:
        arrays = dict(data)
    arrays["slots"] = np.full_like(arrays["slots"], 7)  # out of range, and no empty slot
    np.savez(binary[0], **arrays)
    assert tables._read_binary(binary[0]) is None
    # an entry index past its order's records (its tag bits kept), empty slots left
    good = tables.read_arpa.__wrapped__(arpa)
    slots = good.slots.copy()
    used = np.flatnonzero(slots >= 0)[0]
    slots[used] |= (1 << int(good.slot_shift[2])) - 1
    arrays = {name: getattr(good, name) for name in tables._ARRAYS}
    arrays.update(slots=slots, order=np.array(good.order), vocabulary=np.frombuffer(
        json.dumps(list(good.ids)).encode(), dtype=np.uint8))  # fmt: skip
    np.savez(binary[0], **arrays)
    assert tables._read_binary(binary[0]) is None
    again = tables.load_tables.__wrapped__(arpa)
    assert again.logprob("b", ["a"]) == pytest.approx(-0.3)
    assert tables._read_binary(binary[0]) is not None  # rewritten
    binary[0].write_bytes(b"PK\x03\x04 truncated")
    assert tables._read_binary(binary[0]) is None


def _handwritten_page() -> np.ndarray:
    """Six lines in a handwriting font on a page (the learned segmenter cuts it)."""
    from htrkit.synth.fonts import BUNDLED_FONTS, load_fonts
    from htrkit.synth.renderer import Renderer, RenderOptions

    font = next(f for f in load_fonts([BUNDLED_FONTS]) if f.name.startswith("kalam"))
    renderer = Renderer(RenderOptions(size_min=36, size_max=36, noise=2, texture=4))
    page = np.full((1000, 900), 250, np.uint8)
    texts = ["a page of lines", "read by the learned", "segmenter on the", "onnx backend or",
             "on torch, which", "finds the same lines"]  # fmt: skip
    for i, text in enumerate(texts):
        line = renderer.render(text, font, np.random.default_rng(i))[:, :800]
        page[80 + 130 * i : 80 + 130 * i + line.shape[0], 50 : 50 + line.shape[1]] = line
    return page


def test_segmenter_backends_agree(tmp_path):
    from htrkit.cache import sha256
    from htrkit.plugins import registry
    from htrkit.segmenters.learned import BUNDLED, LearnedSegmenter
    from htrkit.segmenters.options import LearnedOptions

    by_onnx = registry("segmenter").create("learned")
    assert by_onnx.onnx is not None and by_onnx.net is None  # auto: the bundled export
    assert by_onnx.onnx.meta["htrkit.source_sha256"] == sha256(BUNDLED), (
        "htrkit/models/segmenter.onnx is stale: htrkit model export segmenter --overwrite"
    )
    by_torch = LearnedSegmenter(LearnedOptions(backend="torch"))
    pages = [_handwritten_page()]
    poilus = SHARED / "poilus-pages"
    if poilus.is_dir():  # and two real pages
        from htrkit.imageio import read_image

        pages += [read_image(p)[1] for p in sorted(poilus.glob("*.jpg"))[:2]]
    for page in pages:
        a, b = by_torch.probabilities(page), by_onnx.probabilities(page)
        assert a[2] == b[2]
        assert max(float(np.abs(a[i] - b[i]).max()) for i in (0, 1)) <= 1e-4
        found_a, found_b = by_torch.segment(page), by_onnx.segment(page)
        assert [r.bbox for r in found_a] == [r.bbox for r in found_b]
    assert len(by_onnx.segment(pages[0])) == 6
    # a model without an export beside it: onnx is refused, auto runs torch
    other = tmp_path / "seg.safetensors"
    other.write_bytes(BUNDLED.read_bytes())
    assert LearnedSegmenter(LearnedOptions(model=str(other))).onnx is None
    from htrkit.errors import InputError

    with pytest.raises(InputError, match="no ONNX export beside it"):
        LearnedSegmenter(LearnedOptions(model=str(other), backend="onnx"))
    done = run_cli("model", "export", other)
    assert done.returncode == 0, done.stderr
    assert LearnedSegmenter(LearnedOptions(model=str(other))).onnx is not None


def test_a_page_read_on_the_onnx_backend_never_imports_torch(tmp_path):
    from PIL import Image

    path = tmp_path / "page.png"
    Image.fromarray(_handwritten_page()).save(path)
    done = run_without_torch("run", str(path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 6 and lines[0].split()[0].lower() in ("a", "à")
