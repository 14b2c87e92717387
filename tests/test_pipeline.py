"""htrkit.Pipeline end to end, with a real (randomly initialised) model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, handwriting_like, run_cli
from PIL import Image

from htrkit import Page, Pipeline, Result
from htrkit.errors import ConfigError, ImageError, ModelError, OptionsError, UnknownComponentError


@pytest.fixture
def pipe(model_path):
    return Pipeline(model=model_path, batch_size=4)


def test_path_array_and_pil_agree(pipe, line_png):
    from_path = pipe(line_png)
    from_array = pipe(np.asarray(Image.open(line_png)))
    from_pil = pipe(Image.open(line_png))
    assert isinstance(from_path, Result)
    assert from_path.source == str(line_png) and from_array.source == "<array>"
    assert from_path.text == from_array.text == from_pil.text
    assert from_path.width == 240 and from_path.height == 48


def test_result_structure(pipe, line_png):
    result = pipe(line_png)
    (line,) = result.lines
    assert result.text == line.text and result.ok
    assert 0.0 <= line.confidence <= 1.0
    x0, y0, x1, y1 = line.bbox
    assert 0 <= x0 < x1 <= 240 and 0 <= y0 < y1 <= 48
    assert "".join(c.char for c in line.chars) == line.text
    for c in line.chars:
        assert x0 - 1 <= c.x0 < c.x1 <= x1 + 1
        assert 0.0 <= c.prob <= 1.0
    starts = [c.x0 for c in line.chars]
    assert starts == sorted(starts)
    d = result.to_dict()
    assert d["text"] == result.text and d["lines"][0]["chars"] == [
        {"char": c.char, "x0": c.x0, "x1": c.x1, "prob": c.prob, "frame": c.frame}
        for c in line.chars
    ]


def test_char_positions_map_to_the_input(model_path):
    """A character at frame f of the preprocessed line lands at the matching x on the page:
    the whole-image segmenter offset, the resize and the padding are all undone."""
    pipe = Pipeline(model=model_path, segmenter_options={"trim": False})
    image = handwriting_like(width=320, height=64)
    result = pipe(image)
    line = result.lines[0]
    # 64 px high -> 32 px: the scale is 2; pad 8 px; 4 px per frame.
    for c in line.chars:
        assert c.x0 == pytest.approx(max(c.frame * 4 - 8, 0) * 2)


def test_the_network_sees_the_line_preprocessed_once(model_path):
    # 320x64 -> resize to 32 high: 160 wide; pad 8 px each side: 176 (not 192, which a
    # second pass of the chain would give)
    pipe = Pipeline(model=model_path, segmenter_options={"trim": False})
    seen = []
    pipe.recognizer.module.register_forward_pre_hook(lambda m, args: seen.append(args[0].shape))
    pipe(handwriting_like(width=320, height=64))
    assert seen[0][-2:] == (32, 176)


def test_batch_goes_through_the_model_in_batches(model_path, tmp_path):
    pipe = Pipeline(model=model_path, batch_size=4)
    calls = []
    pipe.recognizer.module.register_forward_hook(lambda m, i, o: calls.append(o.shape[0]))
    images = [handwriting_like(width=120 + 37 * i, seed=i) for i in range(6)]
    batched = pipe.batch(images)
    assert calls == [4, 2]
    calls.clear()
    single = [pipe(im) for im in images]
    assert calls == [1] * 6
    for b, s in zip(batched, single):
        assert b.text == s.text
        assert b.lines[0].confidence == pytest.approx(s.lines[0].confidence, rel=1e-4)


def test_batch_collects_errors_and_finishes_the_rest(pipe, line_png, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    results = pipe.batch([line_png, bad, tmp_path / "missing.png", line_png], errors="collect")
    assert [r.ok for r in results] == [True, False, False, True]
    assert "notes.png: not an image" in results[1].error
    assert "missing.png: no such file" in results[2].error
    assert results[0].text == results[3].text
    with pytest.raises(ImageError, match="notes.png"):
        pipe.batch([line_png, bad])


def test_progress_callback_counts_inputs(pipe, line_png, tmp_path):
    seen = []
    pipe.batch([line_png, tmp_path / "gone.png", line_png], errors="collect", progress=seen.append)
    assert sum(seen) == 3


def test_loaded_callback_hands_over_each_page_once(pipe, line_png, tmp_path):
    """``loaded`` gets each good input's page as the pipeline read it (the CLI draws
    --overlay on it instead of loading the file again)."""
    import cv2

    pages = {}
    results = pipe.batch([line_png, tmp_path / "gone.png", line_png], errors="collect",
                         loaded=pages.__setitem__)  # fmt: skip
    assert sorted(pages) == [0, 2] and [r.ok for r in results] == [True, False, True]
    grey = cv2.imread(str(line_png), cv2.IMREAD_GRAYSCALE)
    assert np.array_equal(pages[0].image, grey) and pages[0].source == str(line_png)


def test_page_input_with_known_lines(pipe):
    from htrkit import LineRegion

    image = np.vstack([handwriting_like(seed=1), handwriting_like(seed=2)])
    regions = [LineRegion((0, 0, 240, 48), id="l1"), LineRegion((0, 48, 240, 96), id="l2")]
    result = pipe(Page("two-lines", image, regions))
    assert [line.id for line in result.lines] == ["l1", "l2"]
    assert result.text == "\n".join(line.text for line in result.lines)
    assert pipe(handwriting_like(seed=2)).text == result.lines[1].text


def test_beam_decoder_with_options(model_path, line_png):
    pipe = Pipeline(model=model_path, decoder="beam", decoder_options={"beam_width": 3})
    assert pipe.decoder.options.beam_width == 3
    assert pipe(line_png).ok


@dataclass(frozen=True)
class _TagOptions:
    tag: str = ""


class _Tag:
    """A postprocessor that appends its tag: the order of several shows in the text."""

    def __init__(self, options: _TagOptions):
        self.tag = options.tag

    def __call__(self, line):
        line.text += self.tag
        return line


def test_postprocessors_run_in_order(model_path):
    import types

    import htrkit
    from htrkit.plugins import get_plugin_manager, reset_plugin_manager
    from htrkit.specs import PostprocessorSpec

    @htrkit.hookimpl
    def htrkit_register_postprocessors():
        return [PostprocessorSpec("tag", _Tag, "append a tag", options=_TagOptions)]

    reset_plugin_manager()
    try:
        get_plugin_manager().register(
            types.SimpleNamespace(htrkit_register_postprocessors=htrkit_register_postprocessors),
            "test-tag",
        )
        image = handwriting_like()
        plain = Pipeline(model=model_path)(image).text
        for order in (["a", "b", "c"], ["c", "a", "b"]):
            stages = [("tag", {"tag": t}) for t in order] + ["collapse-whitespace"]
            pipe = Pipeline(model=model_path, postprocessors=stages)
            assert pipe(image).text == " ".join((plain + "".join(order)).split())
        # collapse-whitespace runs before a tag of spaces, which then stays
        stages = ["collapse-whitespace", ("tag", {"tag": "  "})]
        pipe = Pipeline(model=model_path, postprocessors=stages)
        assert pipe(image).text == " ".join(plain.split()) + "  "
    finally:
        reset_plugin_manager()


class _Upright:
    """A step that decides per image: a line marked as upside down (a black top-left
    pixel) is turned 180 degrees, any other passes through; each comes with its own map."""

    def __init__(self, options):
        self.options = options

    def __call__(self, image):
        return self.apply(image)[0]

    def apply(self, image):
        if image[0, 0] != 0:
            return image, lambda xs: np.asarray(xs, dtype=np.float64)
        width = image.shape[1]
        return image[::-1, ::-1].copy(), lambda xs: width - np.asarray(xs, dtype=np.float64)


@pytest.fixture
def upright_plugin():
    import types

    import htrkit
    from htrkit.plugins import get_plugin_manager, reset_plugin_manager
    from htrkit.specs import PreprocessorSpec

    @htrkit.hookimpl
    def htrkit_register_preprocessors():
        return [PreprocessorSpec("upright", _Upright, "turn marked lines upright")]

    reset_plugin_manager()
    get_plugin_manager().register(
        types.SimpleNamespace(htrkit_register_preprocessors=htrkit_register_preprocessors),
        "test-upright",
    )
    yield
    reset_plugin_manager()


def test_a_preprocessor_decides_per_image_and_maps_each_back(upright_plugin):

    line = ROOT / "examples" / "images" / "handwritten.png"
    upright = np.asarray(Image.open(line).convert("L")).copy()
    upright[0, 0], upright[-1, -1] = 255, 0
    width = upright.shape[1]
    turned = upright[::-1, ::-1].copy()  # its top-left pixel is now the black one
    pipe = Pipeline(preprocess=["upright"], segmenter_options={"trim": False})
    a, b = pipe.batch([upright, turned])
    assert a.text == b.text and len(a.lines[0].chars) > 20
    for c in a.lines[0].chars + b.lines[0].chars:
        assert c.x0 <= c.x1
    mirrored = sorted((width - c.x1, width - c.x0) for c in a.lines[0].chars)
    np.testing.assert_allclose(sorted((c.x0, c.x1) for c in b.lines[0].chars), mirrored)
    # without the step the turned line reads as something else: the step made them agree
    assert Pipeline(segmenter_options={"trim": False})(turned).text != b.text


def test_preprocess_steps_run_before_or_instead_of_the_models(model_path):
    from htrkit.preprocess.chain import standard_steps

    image = handwriting_like(width=300, height=60, seed=5)
    plain = Pipeline(model=model_path)
    # the model's own chain spelled out, instead of the recorded one: the same reading
    spelled = Pipeline(
        model=model_path, preprocess=standard_steps("line", 32), replace_preprocess=True
    )
    assert spelled.preprocess.names == ["grayscale", "resize-height", "pad"]
    assert spelled(image).to_dict() == plain(image).to_dict()
    # a step before the model's chain: binarising changes what the network sees
    binarised = Pipeline(model=model_path, preprocess=[("binarize", {"method": "otsu"})])
    assert binarised.preprocess.names == ["binarize", "grayscale", "resize-height", "pad"]
    described = binarised.describe()
    assert described["preprocess"][0]["name"] == "binarize"
    assert described["preprocess"][0]["options"]["method"] == "otsu"
    seen = []
    for pipe in (plain, binarised):
        pipe.recognizer.module.register_forward_pre_hook(lambda m, a: seen.append(a[0]))
        pipe(image)
    assert seen[0].shape == seen[1].shape and not np.array_equal(seen[0], seen[1])
    with pytest.raises(ConfigError, match="replace_preprocess needs the preprocess steps"):
        Pipeline(model=model_path, replace_preprocess=True)
    with pytest.raises(UnknownComponentError, match="did you mean 'deslant'"):
        Pipeline(model=model_path, preprocess=["deslnt"])
    with pytest.raises(OptionsError, match="binarize"):
        Pipeline(model=model_path, preprocess=[("binarize", {"metod": "otsu"})])
    # a replacement that does not end at the model's height is refused, naming it
    short = Pipeline(model=model_path, preprocess=["grayscale"], replace_preprocess=True)
    with pytest.raises(ModelError, match="model reads lines 32 px high"):
        short(image)


@pytest.mark.parametrize(
    "kwargs, error, needle",
    [
        ({"decoder": "beem"}, UnknownComponentError, "did you mean 'beam'"),
        ({"decoder_options": {"width": 3}, "decoder": "beam"}, OptionsError, "beam_width"),
        ({"segmenter": "lines"}, UnknownComponentError, r"available: .*auto, .*projection"),
        ({"postprocessors": ["upper"]}, UnknownComponentError, "unknown postprocessor"),
        # a TOML array cannot be a tuple: the error names the table form TOML can write
        ({"postprocessors": [["unicode", {}]]}, ConfigError, "a table with name and options"),
        ({"batch_size": 0}, ConfigError, "batch_size"),
    ],
)
def test_bad_configuration(model_path, kwargs, error, needle):
    with pytest.raises(error, match=needle):
        Pipeline(model=model_path, **kwargs)


def test_missing_default_model_is_explained(monkeypatch, tmp_path):
    from htrkit.plugins import reset_plugin_manager

    monkeypatch.setattr("htrkit.default_plugins.models.MODELS", tmp_path)  # none bundled
    reset_plugin_manager()
    with pytest.raises(ModelError, match="no default model is installed"):
        Pipeline()
    with pytest.raises(ModelError, match="no such model file"):
        Pipeline(model="nowhere/model.safetensors")


def test_from_config(model_path, tmp_path, line_png):
    import shutil

    shutil.copy(model_path, tmp_path / "m.safetensors")
    config = tmp_path / "pipeline.toml"
    config.write_text(
        'model = "m.safetensors"\ndecoder = "beam"\nbatch_size = 2\n'
        "[decoder_options]\nbeam_width = 5\n"
    )
    pipe = Pipeline.from_config(config)
    assert pipe.decoder_name == "beam" and pipe.decoder.options.beam_width == 5
    assert pipe.batch_size == 2
    same = Pipeline(model=model_path, decoder="beam", decoder_options={"beam_width": 5})
    assert pipe(line_png).text == same(line_png).text
    described = pipe.describe()
    assert described["decoder_options"] == {"beam_width": 5, "char_prune": 0.001}

    # an option's relative path to a file beside the configuration is taken from there,
    # as the model's is, whatever the working folder
    (tmp_path / "lms").mkdir()
    shutil.copy(ROOT / "htrkit" / "models" / "lm" / "en-lexicon.txt", tmp_path / "lms" / "w.txt")
    config.write_text(
        'model = "m.safetensors"\ndecoder = "wordbeam"\n[decoder_options]\nlexicon = "lms/w.txt"\n'
    )
    assert Pipeline.from_config(config).decoder_options.lexicon == str(tmp_path / "lms" / "w.txt")

    config.write_text('model = "m.safetensors"\ndecodr = "beam"\n')
    with pytest.raises(ConfigError, match="unknown key 'decodr'; did you mean 'decoder'"):
        Pipeline.from_config(config)
    config.write_text("model = \n")
    with pytest.raises(ConfigError, match="cannot read pipeline configuration"):
        Pipeline.from_config(config)


def test_the_default_model_reads_with_its_language_model_and_greedy_is_one_option_away():
    from htrkit import Pipeline

    line = Path(__file__).resolve().parent.parent / "examples" / "images" / "handwritten.png"
    pipe = Pipeline()
    assert pipe.decoder_name == "kenlm" and pipe.decoder_options.level == "char"
    assert Pipeline(decoder_options={"alpha": 0.3}).decoder_options.alpha == 0.3
    assert Pipeline(decoder="greedy").decoder_name == "greedy"
    assert Pipeline(model="digits").decoder_name == "greedy"  # it names no decoding
    # and its own postprocessing: a word read mostly in capitals comes out in capitals
    assert [p["name"] for p in pipe.describe()["postprocessors"]] == ["capitals"]
    assert Pipeline(postprocessors=[]).describe()["postprocessors"] == []
    assert Pipeline(model="digits").describe()["postprocessors"] == []
    assert pipe(line).text == "Handwriting is easy to read for htrkit"
    done = run_cli("run", line, "--decoder", "greedy", "-f", "json")
    assert done.returncode == 0 and "Handwriting" in done.stdout


def test_bad_decoding_metadata_is_a_one_line_model_error(tmp_path, model_path):
    from dataclasses import replace

    from htrkit import Pipeline
    from htrkit.errors import ModelError
    from htrkit.recognizer import Recognizer

    recognizer = Recognizer.load(model_path)
    for decoding, says in (
        ({"decoder": "nosuch"}, "decodes with 'nosuch', which is not installed"),
        ("kenlm", "decoding metadata must be"),
    ):
        meta = {**recognizer.config.metadata, "decoding": decoding}
        bad = Recognizer(recognizer.module, replace(recognizer.config, metadata=meta))
        with pytest.raises(ModelError, match=says):
            Pipeline(model=bad)
        assert Pipeline(model=bad, decoder="greedy").decoder_name == "greedy"


def test_a_device_that_is_not_there_is_a_usage_error():
    import torch

    line = Path(__file__).resolve().parent.parent / "examples" / "images" / "handwritten.png"
    cases = [("tpu", "device must be cpu, cuda or auto, got 'tpu'")]
    if not torch.cuda.is_available():
        cases.append(("cuda", "--device cuda: torch sees no CUDA device"))
    for device, says in cases:
        done = run_cli("run", line, "--device", device)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0]


def test_capitals_writes_a_word_read_mostly_in_capitals_in_capitals():
    from htrkit.plugins import registry
    from htrkit.results import CharResult, LineResult

    def line(text: str) -> LineResult:
        chars = [CharResult(c, 10.0 * i, 10.0 * i + 9, 0.9, i) for i, c in enumerate(text)]
        return LineResult(text, 0.9, (0, 0, 10 * len(text), 30), chars=chars)

    capitals = registry("postprocessor").create("capitals")
    out = capitals(line("Mr BiLEL of PaRIS, née STRAße, by BAnQ and iPhone ok"))
    # BAnQ (3 capitals of 4) and STRAße (4 of 6) are under the share: left alone
    assert out.text == "Mr BILEL of PARIS, née STRAße, by BAnQ and iPhone ok"
    assert [c.char for c in out.chars] == list(out.text)  # positions kept
    assert [c.x0 for c in out.chars] == [10.0 * i for i in range(len(out.text))]
    same = line("Le café, MAISON Dupont")
    assert capitals(same) is same
    strict = registry("postprocessor").create("capitals", {"share": 0.9})
    assert strict(line("BiLEL")).text == "BiLEL"
