"""Preprocessors: known answers on synthetic images, and one contract for every registered one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import handwriting_like

from htrkit.plugins import PluginManager, registry
from htrkit.preprocess.chain import PreprocessChain
from htrkit.preprocess.enhance import shear


def create(name: str, **options):
    return registry("preprocessor").create(name, options)


def bars(height: int = 48, width: int = 200, every: int = 24) -> np.ndarray:
    """Upright strokes, 3 pixels wide, from row 6 to row height - 6."""
    image = np.full((height, width), 255, np.uint8)
    for x in range(20, width - 20, every):
        image[6 : height - 6, x : x + 3] = 20
    return image


def column_peak(image: np.ndarray) -> float:
    """The largest share of a column's rows that are ink: 1.0 for a vertical stroke."""
    ink = image < 128
    return ink.sum(axis=0).max() / ink.any(axis=1).sum()


# -- normalize-contrast -------------------------------------------------------------------


def test_contrast_stretch_maps_ink_to_black_and_paper_to_white():
    image = np.full((40, 100), 180, np.uint8)  # grey paper
    image[10:30, 10:20] = 100  # faint ink: 5% of the pixels
    out = create("normalize-contrast", low=1, high=90)(image)
    assert out.dtype == np.uint8
    assert out[20, 15] == 0
    assert out[0, 0] == 255


def test_contrast_stretch_is_linear_between_the_percentiles():
    image = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    out = create("normalize-contrast", low=0, high=100)(image)
    np.testing.assert_array_equal(out, image)
    out = create("normalize-contrast", low=25, high=75)(image)
    lo, hi = np.percentile(image, [25, 75])
    assert out[0, int(lo)] <= 1 and out[0, int(hi) + 1] == 255
    mid = int((lo + hi) / 2)
    assert abs(int(out[0, mid]) - 128) <= 2


def test_contrast_stretch_leaves_an_all_white_image_white():
    image = np.full((20, 50), 255, np.uint8)
    np.testing.assert_array_equal(create("normalize-contrast")(image), image)


def test_contrast_stretch_does_not_amplify_a_blank_page_into_noise():
    rng = np.random.default_rng(0)
    image = rng.integers(240, 246, (30, 60)).astype(np.uint8)
    out = create("normalize-contrast", min_range=32)(image)
    assert out.min() >= 255 - 8 * 8  # at most 255/32 gain on a spread of ~6


def test_contrast_options_are_checked():
    from htrkit.errors import OptionsError

    with pytest.raises(OptionsError, match="below"):
        create("normalize-contrast", low=90, high=10)


# -- deslant ------------------------------------------------------------------------------


@pytest.mark.parametrize("angle", [-25.0, -10.0, 15.0, 30.0])
def test_deslant_undoes_a_known_shear(angle):
    upright = bars()
    slanted = shear(upright, math.tan(math.radians(angle)))
    assert column_peak(slanted) < 0.5
    step = create("deslant", max_angle=45)
    estimated = math.degrees(math.atan(step.estimate(slanted)))
    assert abs(estimated + angle) <= 2
    out = step(slanted)
    assert column_peak(out) > 0.9


def test_deslant_leaves_upright_writing_alone():
    image = bars()
    step = create("deslant")
    assert step.estimate(image) == 0
    np.testing.assert_array_equal(step(image), image)


def test_deslant_inverse_maps_the_centre_line_back():
    image = bars(height=41)
    slanted = shear(image, math.tan(math.radians(20)))
    step = create("deslant")
    out = step(slanted)
    assert out.shape[1] > slanted.shape[1]
    # a stroke's centre-line x in the output maps back to its centre-line x in the input
    row = slanted.shape[0] // 2
    xs_in = np.flatnonzero(slanted[row] < 128)
    xs_out = np.flatnonzero(out[row] < 128)
    back = step.inverse_x(xs_out, slanted.shape, out.shape)
    assert abs(back.mean() - xs_in.mean()) < 1.5


def test_deslant_fills_the_new_columns_with_the_paper_tone():
    grey_paper = np.where(bars() < 128, 20, 190).astype(np.uint8)
    out = create("deslant")(shear(grey_paper, 0.4, fill=190))
    assert out[0, 0] == 190 and out[-1, -1] == 190


def test_deslant_max_angle_zero_is_identity():
    slanted = shear(bars(), 0.4)
    np.testing.assert_array_equal(create("deslant", max_angle=0)(slanted), slanted)


# -- binarize -----------------------------------------------------------------------------


def test_otsu_splits_a_bimodal_image():
    rng = np.random.default_rng(1)
    image = rng.normal(200, 8, (60, 120))
    truth = np.zeros(image.shape, bool)
    truth[20:40, 30:90] = True
    image[truth] = rng.normal(60, 8, truth.sum())
    image = np.clip(image, 0, 255).astype(np.uint8)
    out = create("binarize", method="otsu")(image)
    assert set(np.unique(out)) == {0, 255}
    np.testing.assert_array_equal(out == 0, truth)


def gradient_page() -> tuple[np.ndarray, np.ndarray]:
    """Paper lit from the right (grey 50 on the left, 250 on the right), ink 40 darker."""
    h, w = 60, 300
    paper = np.tile(np.linspace(50, 250, w), (h, 1))
    truth = np.zeros((h, w), bool)
    for x in range(10, w - 10, 20):
        truth[15:45, x : x + 3] = True
    image = np.where(truth, paper - 40, paper)
    return np.clip(image, 0, 255).astype(np.uint8), truth


def test_sauvola_follows_uneven_lighting_where_otsu_fails():
    image, truth = gradient_page()

    def error(out):
        return np.mean((out == 0) != truth)

    otsu = create("binarize", method="otsu")(image)
    sauvola = create("binarize", method="sauvola", window=25, k=0.2)(image)
    assert error(otsu) > 0.2  # the dark half of the paper becomes ink
    assert error(sauvola) < 0.03
    assert set(np.unique(sauvola)) == {0, 255}


@pytest.mark.parametrize("method", ["otsu", "sauvola"])
def test_binarize_keeps_a_white_page_white(method):
    image = np.full((30, 40), 250, np.uint8)
    assert (create("binarize", method=method)(image) == 255).all()


# -- resize-fixed -------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(60, 400), (100, 50), (32, 128), (5, 700), (300, 3)])
def test_resize_fixed_output_is_exactly_the_box(shape):
    image = handwriting_like(shape[1], shape[0]) if min(shape) > 20 else np.zeros(shape, np.uint8)
    out = create("resize-fixed")(image)
    assert out.shape == (32, 128) and out.dtype == np.uint8
    assert create("resize-fixed", height=64, width=256)(image).shape == (64, 256)


def test_resize_fixed_keeps_the_aspect_ratio_and_pads_white():
    image = np.zeros((40, 80), np.uint8)  # half as tall as wide: 32 x 64 in the box
    out = create("resize-fixed")(image)
    assert (out[:, :64] == 0).all() and (out[:, 64:] == 255).all()
    out = create("resize-fixed", align="center")(image)
    assert (out[:, 32:96] == 0).all() and (out[:, :32] == 255).all()
    tall = np.zeros((160, 80), np.uint8)  # 32 x 16
    out = create("resize-fixed")(tall)
    assert (out[:, :16] == 0).all() and (out[:, 16:] == 255).all()


@pytest.mark.parametrize("align", ["left", "center"])
def test_resize_fixed_inverse_x(align):
    step = create("resize-fixed", align=align)
    in_shape, out_shape = (40, 80), (32, 128)
    left = 0 if align == "left" else 32
    xs = np.array([left, left + 32, left + 64])
    np.testing.assert_allclose(step.inverse_x(xs, in_shape, out_shape), [0, 40, 80])
    # the padding maps to the input's edges
    np.testing.assert_allclose(step.inverse_x(np.array([0, 128]), in_shape, out_shape), [0, 80])


def test_resize_fixed_in_a_chain_maps_positions_back():
    chain = PreprocessChain([create("deslant"), create("resize-fixed")])
    image = shear(bars(height=48, width=300), 0.3)
    out, to_input = chain.run(image)
    assert out.shape == (32, 128)
    xs = to_input(np.array([0.0, 128.0]))
    assert 0 <= xs[0] <= xs[1] <= image.shape[1]


# -- every registered preprocessor ---------------------------------------------------------

NEW = ["normalize-contrast", "deslant", "binarize", "resize-fixed"]

# The contract covers every installed preprocessor, third-party ones included.
PREPROCESSORS = PluginManager().registry("preprocessor")


@pytest.mark.parametrize("name", PREPROCESSORS.names())
def test_preprocessor_contract(name):
    step = PREPROCESSORS.create(name)
    image = shear(handwriting_like(260, 48, seed=3), 0.25)
    original = image.copy()
    out = step(image)
    np.testing.assert_array_equal(image, original)  # input untouched
    assert out.dtype == np.uint8 and out.ndim == 2 and min(out.shape) > 0
    np.testing.assert_array_equal(step(image), out)  # deterministic
    inverse = getattr(step, "inverse_x", None)
    if inverse is not None:
        xs = inverse(np.array([0.0, float(out.shape[1])]), image.shape, out.shape)
        assert (xs >= 0).all() and (xs <= image.shape[1]).all()
        assert xs[0] <= xs[1]


@pytest.mark.parametrize("name", NEW)
def test_new_preprocessors_accept_rgb(name):
    grey = handwriting_like(200, 40, seed=5)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    out_rgb = create(name)(rgb)
    assert out_rgb.ndim == 2 and out_rgb.dtype == np.uint8
    np.testing.assert_array_equal(out_rgb, create(name)(grey))


@pytest.mark.parametrize("name", NEW)
def test_new_preprocessors_survive_blank_and_tiny_images(name):
    for image in (np.full((30, 80), 255, np.uint8), np.zeros((1, 1), np.uint8)):
        out = create(name)(image)
        assert out.dtype == np.uint8 and out.ndim == 2


def test_docs_describe_every_builtin_preprocessor_and_the_example_runs(monkeypatch):
    import re

    from conftest import ROOT

    text = (ROOT / "docs" / "training-data.md").read_text(encoding="utf-8")
    section = text.split("## Preprocessors", 1)[1].split("## Augmentation", 1)[0]
    builtin = PluginManager(entry_points=False).registry("preprocessor")
    for name in builtin.names():
        assert f"| `{name}` |" in section, name
    printed = []
    monkeypatch.setattr("builtins.print", lambda *a, **k: printed.append(a))
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    exec(compile(code, "docs/training-data.md", "exec"), {})
    shape, xs = printed[0]
    assert shape == (32, 128)
    np.testing.assert_allclose(xs, [0, 300])
