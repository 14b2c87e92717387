"""Training-time augmentation: deterministic, varied, ink-preserving, each transform alive."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import handwriting_like

from htrkit.options import validate_options
from htrkit.training.augment import TRANSFORMS, Augmenter, AugmentOptions


def line(width: int = 300, height: int = 48, seed: int = 0) -> np.ndarray:
    return handwriting_like(width, height, seed)


def only(name: str, **strength) -> AugmentOptions:
    """Options with every transform off except ``name``, which always runs."""
    off = {f"{t}_p": 0.0 for t in TRANSFORMS}
    return AugmentOptions(**{**off, f"{name}_p": 1.0, **strength})


def ink(image: np.ndarray) -> int:
    return int((image < 128).sum())


def test_same_seed_same_output():
    image = line()
    a = Augmenter(AugmentOptions())(image, np.random.default_rng(7))
    b = Augmenter(AugmentOptions())(image, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_own_generator_is_seeded():
    image = line()
    first = [Augmenter(seed=3)(image) for _ in range(2)]
    np.testing.assert_array_equal(first[0], first[1])


def test_different_seeds_vary():
    image = line()
    outs = {
        Augmenter(AugmentOptions())(image, np.random.default_rng(s)).tobytes() for s in range(8)
    }
    assert len(outs) >= 7


@pytest.mark.parametrize(
    "options", [AugmentOptions(enabled=False), AugmentOptions(probability=0.0)]
)
def test_disabled_is_identity(options):
    image = line()
    out = Augmenter(options)(image, np.random.default_rng(0))
    np.testing.assert_array_equal(out, image)
    assert out is not image


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("shape", [(48, 300), (32, 128), (64, 900)])
def test_dtype_shape_and_ink_preserved(seed, shape):
    image = line(shape[1], shape[0], seed)
    original = image.copy()
    rng = np.random.default_rng(seed)
    out = Augmenter(AugmentOptions(affine_p=1, elastic_p=0.5, thickness_p=0.5))(image, rng)
    np.testing.assert_array_equal(image, original)  # input untouched
    assert out.dtype == np.uint8 and out.shape == image.shape
    assert ink(image) / 3 < ink(out) < ink(image) * 3
    # the ink stays much darker than the paper
    ink_share = 100 * ink(image) / image.size
    assert np.percentile(out, ink_share / 2) + 80 < np.median(out)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_each_transform_changes_the_image(name):
    image = line()
    for seed in range(5):
        out = Augmenter(only(name))(image, np.random.default_rng(seed))
        assert out.shape == image.shape and out.dtype == np.uint8
        assert np.abs(out.astype(int) - image).sum() > 0.002 * 255 * image.size, seed
        assert ink(image) / 3 < ink(out) < ink(image) * 3


def test_affine_keeps_ink_inside_the_image():
    image = np.full((32, 128), 255, np.uint8)
    image[2:30, 1:127:6] = 0  # writing from edge to edge
    options = only("affine", rotation=5, shear=30, scale=0.3)
    for seed in range(20):
        out = Augmenter(options)(image, np.random.default_rng(seed))
        assert ink(out) > 0.5 * ink(image), seed


def test_augment_options_validate_from_a_config_dict():
    options = validate_options(
        AugmentOptions, {"noise_p": "0.5", "rotation": "3"}, what="augmentation"
    )
    assert options.noise_p == 0.5 and options.rotation == 3.0
    from htrkit.errors import OptionsError

    with pytest.raises(OptionsError):
        validate_options(AugmentOptions, {"noise_p": 2}, what="augmentation")
    with pytest.raises(OptionsError):
        validate_options(AugmentOptions, {"rotaton": 2}, what="augmentation")


def test_every_transform_has_a_probability_option():
    names = {f.name for f in dataclasses.fields(AugmentOptions)}
    assert {f"{t}_p" for t in TRANSFORMS} <= names


def test_rejects_colour_images():
    with pytest.raises(ValueError, match="grey"):
        Augmenter()(np.zeros((10, 10, 3), np.uint8))


def test_docs_list_every_option_and_the_example_runs(monkeypatch):
    import re

    from conftest import ROOT

    text = (ROOT / "docs" / "training-data.md").read_text(encoding="utf-8")
    section = text.split("## Augmentation", 1)[1]
    for f in dataclasses.fields(AugmentOptions):
        default = f.default if not isinstance(f.default, bool) else str(f.default).lower()
        assert f"| `{f.name}` | {default} |" in section, f.name
    printed = []
    monkeypatch.setattr("builtins.print", lambda *a, **k: printed.append(a))
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    exec(compile(code, "docs/training-data.md", "exec"), {})
    assert printed == [((32, 200), np.dtype("uint8"))]


def test_crop_keeps_the_height_and_moves_the_margins():
    image = line()
    outs = [
        Augmenter(only("affine", affine_p=0.0, crop_p=1.0))(image, np.random.default_rng(s))
        for s in range(12)
    ]
    assert all(o.shape[0] == image.shape[0] and o.dtype == np.uint8 for o in outs)
    widths = {o.shape[1] for o in outs}
    assert len(widths) > 6  # trimmed to the ink, widened, rescaled: widths vary
    # a looser crop shrinks the writing, a tighter one enlarges it or cuts some ink off
    inks = [ink(o) / ink(image) for o in outs]
    assert min(inks) < 0.9 and max(inks) > 1.05
    assert all(0.2 < r < 3 for r in inks)


def test_neighbours_put_ink_only_at_the_top_and_bottom():
    image = np.full((48, 300), 230, np.uint8)
    image[18:30, 40:260] = 20  # this line's ink, in its middle rows
    neighbour = np.full((48, 300), 240, np.uint8)
    neighbour[:, ::9] = 0  # ink in every row of the other line
    options = only("affine", affine_p=0.0, neighbours_p=1.0)
    seen_top = seen_bottom = False
    for seed in range(10):
        out = Augmenter(options)(image, np.random.default_rng(seed), neighbour)
        assert out.shape == image.shape
        np.testing.assert_array_equal(out[18:30, 40:260], image[18:30, 40:260])
        # a strip is at most neighbours (0.25) of the height
        assert (out[13:35] == image[13:35]).all()
        seen_top |= bool((out[:12] < 100).any())
        seen_bottom |= bool((out[36:] < 100).any())
    assert seen_top and seen_bottom
    # without a neighbour (or with neighbours_p = 0) nothing changes
    np.testing.assert_array_equal(Augmenter(options)(image, np.random.default_rng(0)), image)
