"""Backbone contract tests (every installed backbone) and checks of the built-in ones.

The contract: ``module(images, widths)`` maps ``[B, 1, H, W]`` right-padded images to
``[B, T, classes]`` logits with ``T == output_lengths(W)``; padding does not change an
item's frames; the weights survive a model file; CTC gradients reach every parameter.
Run with ``-s`` to see each backbone's parameter count.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from htrkit.errors import OptionsError
from htrkit.modelfile import ModelConfig
from htrkit.plugins import PluginManager, reset_plugin_manager
from htrkit.recognizer import Recognizer

# The contract covers every installed backbone, third-party ones included.
BACKBONES = PluginManager().registry("backbone")
BUILTIN = set(PluginManager(entry_points=False).registry("backbone").names())
ALPHABET = list("abcdefghij")
NUM_CLASSES = len(ALPHABET) + 1


def contract_params(xfail: dict[str, str] | None = None) -> list:
    marks = {n: pytest.mark.xfail(strict=True, reason=r) for n, r in (xfail or {}).items()}
    return [pytest.param(n, marks=marks.get(n, ())) for n in BACKBONES.names()]


def small_options(name: str, **changes) -> dict:
    """Default options with the LSTMs shrunk (for the options named like the built-ins')."""
    fields = {f.name for f in dataclasses.fields(BACKBONES.get(name).options)}
    small = {k: 16 for k in ("hidden", "hidden2") if k in fields}
    return {**small, **{k: v for k, v in changes.items() if k in fields}}


def build(name: str, options: dict | None = None, seed: int = 0) -> tuple[torch.nn.Module, int]:
    """The backbone and its input height."""
    spec = BACKBONES.get(name)
    validated = spec.validate(options or {})
    torch.manual_seed(seed)
    return spec.create(validated, NUM_CLASSES), getattr(validated, "height", 32)


def as_trained(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give batch norms non-trivial statistics, as training would (fresh ones are identities
    on zeros, which would hide padding that leaks through them)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                    m.bias.copy_(torch.rand(n, generator=g) - 0.5)
    return module.eval()


def padded_batch(widths: list[int], height: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(len(widths), 1, height, max(widths))
    for i, w in enumerate(widths):
        x[i, :, :, :w] = torch.rand(1, height, w, generator=g)
    return x


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# -- the contract, as checks on a module --------------------------------------------------


def check_frames(module: torch.nn.Module, height: int) -> None:
    """``output_lengths`` counts the frames the network really gives, for every width."""
    widths = torch.arange(16, 801)
    lengths = module.output_lengths(widths)
    assert lengths.dtype == torch.long and lengths.shape == widths.shape
    assert (lengths > 0).all(), "fewer than 1 frame for some width >= 16"
    assert (lengths.diff() >= 0).all(), "output_lengths must not decrease with width"
    with torch.inference_mode():
        for w in (16, 17, 30, 63, 101):
            out = module.eval()(torch.rand(1, 1, height, w))
            assert out.shape == (1, int(module.output_lengths(torch.tensor([w]))), NUM_CLASSES)


def check_padding(module: torch.nn.Module, height: int) -> None:
    """A line gives the same logits alone, with its width, and right-padded in a batch."""
    as_trained(module)
    widths = [101, 67, 42, 16]
    x = padded_batch(widths, height)
    with torch.inference_mode():
        batched = module(x, torch.tensor(widths))
        assert batched.shape[:2] == (4, int(module.output_lengths(torch.tensor([101]))))
        for i, w in enumerate(widths):
            alone = x[i : i + 1, :, :, :w]
            frames = int(module.output_lengths(torch.tensor([w])))
            expected = module(alone, torch.tensor([w]))[0, :frames]
            torch.testing.assert_close(module(alone)[0, :frames], expected)
            torch.testing.assert_close(batched[i, :frames], expected, atol=1e-5, rtol=1e-5)


def check_training(module: torch.nn.Module, height: int) -> None:
    """CTC gradients reach every parameter, and a few AdamW steps lower the loss."""
    torch.manual_seed(0)
    module.train()
    widths = torch.tensor([96, 80, 64, 72])
    x = padded_batch(widths.tolist(), height, seed=1)
    targets = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 0], [8, 9, 0, 0], [10, 1, 2, 0]])
    target_lengths = torch.tensor([4, 3, 2, 3])
    frames = module.output_lengths(widths)
    optimiser = torch.optim.AdamW(module.parameters(), lr=3e-3)
    losses = []
    for step in range(8):
        lp = module(x, widths).log_softmax(-1).transpose(0, 1)  # [T, B, C]
        loss = torch.nn.functional.ctc_loss(lp, targets, frames, target_lengths)
        optimiser.zero_grad()
        loss.backward()
        if step == 0:
            stuck = [
                k
                for k, p in module.named_parameters()
                if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)
            ]
            assert not stuck, f"no gradient reaches {stuck[:3]}"
        optimiser.step()
        losses.append(loss.item())
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0], losses


# -- every installed backbone ------------------------------------------------------------


def test_builtins_are_registered():
    assert {"crnn-small", "crnn-vgg", "resnet-blstm", "ppocr"} <= BUILTIN <= set(BACKBONES.names())


@pytest.mark.parametrize("name", BACKBONES.names())
class TestBackboneContract:
    def test_forward_with_default_options(self, name):
        module, height = build(name)
        print(f"\n{name}: {n_params(module):,} parameters with {NUM_CLASSES} classes")
        widths = torch.tensor([160, 97])
        with torch.inference_mode():
            out = module.eval()(padded_batch(widths.tolist(), height), widths)
        frames = int(module.output_lengths(widths[:1]))
        assert out.shape == (2, frames, NUM_CLASSES)
        assert out.dtype == torch.float32 and torch.isfinite(out).all()

    def test_output_lengths(self, name):
        check_frames(*build(name, small_options(name)))

    def test_model_file_round_trip(self, name, tmp_path, monkeypatch):
        if name not in BUILTIN:  # let the model file find the third-party backbone
            monkeypatch.delenv("HTRKIT_LOAD_PLUGINS", raising=False)
            reset_plugin_manager()
        options = small_options(name)
        height = getattr(BACKBONES.get(name).validate(options), "height", 32)
        config = ModelConfig(name, ALPHABET, height, backbone_options=options)
        recognizer = Recognizer.create(config, seed=0)
        as_trained(recognizer.module)  # buffers must travel too
        path = recognizer.save(tmp_path / "model.safetensors")
        loaded = Recognizer.load(path)
        assert loaded.config == recognizer.config
        rng = np.random.default_rng(0)
        images = [rng.integers(0, 256, (height, w), dtype=np.uint8) for w in (90, 41)]
        for a, b in zip(recognizer.log_probs(images), loaded.log_probs(images)):
            assert a.shape[1] == NUM_CLASSES
            np.testing.assert_array_equal(a, b)

    def test_training_steps_reduce_ctc_loss(self, name):
        check_training(*build(name, small_options(name, dropout=0.0)))


@pytest.mark.parametrize("name", contract_params())
def test_right_padding_does_not_change_results(name):
    check_padding(*build(name, small_options(name)))


def test_docs_example_backbone():
    """The plugin example in docs/backbones.md meets the contract."""
    text = (Path(__file__).parent.parent / "docs" / "backbones.md").read_text()
    code = re.search(r"<!-- file: htrkit_tiny.py -->\n```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "docs/backbones.md", "exec"), namespace)
    (spec,) = namespace["htrkit_register_backbones"]()
    for check in (check_frames, check_padding, check_training):
        options = spec.validate({"hidden": 16})
        torch.manual_seed(0)
        check(spec.create(options, NUM_CLASSES), options.height)


# -- the built-in backbones --------------------------------------------------------------

# With 80 classes (79 characters + blank, as for IAM); docs/backbones.md quotes these.
PARAMETERS = {
    "crnn-small": 1_313_840,
    "crnn-vgg": 8_745_808,
    "resnet-blstm": 2_687_760,
    "ppocr": 550_372,  # size tiny
}


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_builtin_parameter_counts(name):
    module = BACKBONES.create(name, {}, 80)
    assert n_params(module) == PARAMETERS[name]


@pytest.mark.parametrize(
    ("name", "height", "frames"),
    [
        ("crnn-vgg", 32, 23),  # W // 4 - 1
        ("crnn-vgg", 48, 23),
        ("crnn-vgg", 64, 23),
        ("resnet-blstm", 16, 25),  # ceil(W / 4)
        ("resnet-blstm", 32, 25),
        ("resnet-blstm", 64, 25),
        ("resnet-blstm", 96, 25),
        ("ppocr", 16, 12),  # (W + 3) // 8
        ("ppocr", 32, 12),
        ("ppocr", 48, 12),
        ("ppocr", 64, 12),
    ],
)
def test_valid_heights(name, height, frames):
    module, _ = build(name, small_options(name, height=height))
    with torch.inference_mode():
        out = module.eval()(torch.rand(2, 1, height, 99), torch.tensor([99, 50]))
    assert out.shape == (2, frames, NUM_CLASSES)


@pytest.mark.parametrize(
    ("name", "height", "message"),
    [
        ("crnn-vgg", 16, "must be >= 32"),
        ("crnn-vgg", 40, "height must be a multiple of 16 and at least 32, got 40"),
        ("resnet-blstm", 8, "must be >= 16"),
        ("resnet-blstm", 24, "height must be a multiple of 16, got 24"),
        ("ppocr", 8, "must be >= 16"),
        ("ppocr", 40, "height must be a multiple of 16, got 40"),
    ],
)
def test_invalid_heights(name, height, message):
    with pytest.raises(OptionsError, match=message):
        BACKBONES.get(name).validate({"height": height})
