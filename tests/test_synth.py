"""Synthetic handwriting: fonts and coverage, rendering, the dataset writer and the CLI.

Only the fonts bundled with htrkit are used, except in the tests marked ``shared``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SHARED, run_cli

from htrkit.errors import InputError
from htrkit.synth.corpus import TextSource
from htrkit.synth.dataset import SynthReport, choose, generate
from htrkit.synth.fonts import BUNDLED_FONTS, Font, load_font, load_fonts
from htrkit.synth.renderer import Renderer, RenderOptions

ACCENTED = "Où était Ärger, façade « 1914 » – ñ ß œ €?"
RUNNING_TEXT = (
    "The quick brown fox jumps over the lazy dog while the cat sleeps on a warm mat.\n"
    "Handwriting recognition turns images of written lines into text that can be searched.\n"
)


@pytest.fixture(scope="module")
def fonts() -> list[Font]:
    return load_fonts()


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(RUNNING_TEXT, encoding="utf-8")
    return path


def test_bundled_fonts_are_small_licensed_and_cover_accented_latin(fonts):
    assert len(fonts) == 3
    total = sum(f.path.stat().st_size for f in fonts)
    assert total < 500_000
    for font in fonts:
        assert font.covers(ACCENTED), (font.name, font.missing(ACCENTED))
        assert not font.caps_only
        licence = BUNDLED_FONTS / f"{font.name}.LICENSE"
        assert "SIL Open Font License" in licence.read_text(encoding="utf-8")
    readme = (BUNDLED_FONTS / "README.md").read_text(encoding="utf-8")
    assert all(f.path.name in readme for f in fonts)


def test_coverage_refuses_a_character_the_font_lacks(fonts):
    font = fonts[0]
    assert font.missing("abc 中文") == {"中", "文"}
    assert not font.covers("日")
    assert font.covers("  tabs\tand spaces  ")  # white space is the renderer's business


def test_coverage_refuses_glyphs_without_ink(fonts):
    # U+200B ZERO WIDTH SPACE is in kalam's character map, but draws nothing
    kalam = next(f for f in fonts if f.name == "kalam")
    assert 0x200B in kalam.codepoints
    assert kalam.missing("a\u200bb") == {"\u200b"}


def test_choose_redraws_with_another_font_or_skips(fonts):
    latin_only = Font(fonts[0].path, range(32, 127), name="ascii")
    pool = [latin_only, fonts[1]]
    report = SynthReport()
    picked = [choose("façade", pool, np.random.default_rng(s), report) for s in range(20)]
    assert {f.name for f in picked} == {fonts[1].name}
    assert 0 < report.refonted < 20 and report.skipped == 0
    assert choose("a 中 b", pool, np.random.default_rng(0), report) is None
    assert report.skipped == 1 and report.missing_chars == {"中": 1}


def test_rendering_is_deterministic_and_inked(fonts):
    renderer = Renderer()
    a = renderer.render("Hello world", fonts[1], np.random.default_rng(5))
    b = renderer.render("Hello world", fonts[1], np.random.default_rng(5))
    c = renderer.render("Hello world", fonts[1], np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)
    assert a.dtype == np.uint8 and a.ndim == 2
    # dark ink on light paper, cropped to the ink with a margin
    assert (a < 128).sum() > 200
    assert np.median(a) > 170
    h, w = a.shape
    assert w > 3 * h
    edges = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    assert (edges > 120).mean() > 0.95


def test_longer_text_is_wider(fonts):
    options = RenderOptions(size_min=40, size_max=40, slant=0, spacing=0, spacing_jitter=0)
    renderer = Renderer(options)
    short = renderer.render("word", fonts[2], np.random.default_rng(0))
    long = renderer.render("word " * 6, fonts[2], np.random.default_rng(0))
    assert long.shape[1] > 4 * short.shape[1]


def test_height_option_scales_lines(fonts):
    image = Renderer(RenderOptions(height=32)).render("abc", fonts[0], np.random.default_rng(1))
    assert image.shape[0] == 32


def test_render_options_are_checked():
    from htrkit.errors import OptionsError
    from htrkit.options import validate_options

    with pytest.raises(OptionsError, match="size_min"):
        validate_options(RenderOptions, {"size_min": 80, "size_max": 40}, what="synth")


def test_text_source_takes_spans_of_running_text(corpus):
    source = TextSource.from_files([corpus])
    assert not source.words
    lines = [ln.split() for ln in RUNNING_TEXT.splitlines()]
    rng = np.random.default_rng(0)
    for _ in range(50):
        words = source.sample(rng, 2, 4).split(" ")
        assert 2 <= len(words) <= 4
        # consecutive words of one line
        assert any(line[i : i + len(words)] == words for line in lines for i in range(len(line)))


def test_text_source_reads_word_lists_and_normalises_space(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("alpha\n  beta \n\ngamma\ndelta\n", encoding="utf-8")
    source = TextSource.from_files([path])
    assert source.words == ["alpha", "beta", "gamma", "delta"]
    text = source.sample(np.random.default_rng(0), 3, 3)
    assert len(text.split(" ")) == 3 and "  " not in text


def test_text_source_errors(tmp_path):
    with pytest.raises(InputError, match="no such corpus"):
        TextSource.from_files([tmp_path / "missing.txt"])
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(InputError, match="empty"):
        TextSource.from_files([empty])


def test_generate_writes_pairs_that_the_gt_pairs_reader_reads(tmp_path, corpus, fonts):
    out = tmp_path / "synth"
    report = generate(out, 8, TextSource.from_files([corpus]), fonts, seed=1, max_words=4)
    assert report.written == 8 and sum(report.per_font.values()) == 8
    rows = (out / "manifest.tsv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "id\ttext\tfont" and len(rows) == 9
    names = {f.name for f in fonts}
    for row in rows[1:]:
        name, text, font = row.split("\t")
        assert (out / f"{name}.png").is_file() and font in names
        assert (out / f"{name}.gt.txt").read_text(encoding="utf-8").strip() == text
    from htrkit.datasets import read_dataset

    samples = list(read_dataset(out, "gt-pairs"))
    assert len(samples) == 8
    texts = {row.split("\t")[0]: row.split("\t")[1] for row in rows[1:]}
    for sample in samples:
        assert sample.text == texts[sample.id.removesuffix(".png")]


def test_generate_is_reproducible_and_extends(tmp_path, corpus, fonts):
    source = TextSource.from_files([corpus])
    generate(tmp_path / "a", 3, source, fonts, seed=4)
    generate(tmp_path / "b", 5, source, fonts, seed=4)
    for i in range(3):
        name = f"synth_{i:06d}.png"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_generate_gives_up_when_no_font_can_render_the_corpus(tmp_path, fonts):
    path = tmp_path / "cjk.txt"
    path.write_text("中文 日本語 한국어 中文 日本語 한국어\n", encoding="utf-8")
    with pytest.raises(InputError, match="no font can render"):
        generate(tmp_path / "out", 2, TextSource.from_files([path]), fonts)


def test_load_font_reports_a_bad_file(tmp_path):
    bad = tmp_path / "bad.ttf"
    bad.write_bytes(b"not a font")
    with pytest.raises(InputError, match="cannot read font"):
        load_font(bad)
    with pytest.raises(InputError, match="no such font"):
        load_fonts([tmp_path / "nowhere"])


def test_cli_writes_n_pairs_and_a_manifest(tmp_path, corpus):
    out = tmp_path / "out"
    args = ["data", "synth", "--n", "6", "-o", out, "--corpus", corpus, "--seed", "3"]
    result = run_cli(*args, "--max-words", "3", "-O", "slant=5")
    assert result.returncode == 0, result.stderr
    assert "wrote 6 lines" in result.stdout
    assert "skipped for coverage" in result.stdout
    assert len(list(out.glob("*.png"))) == 6 and len(list(out.glob("*.gt.txt"))) == 6
    rows = (out / "manifest.tsv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 7
    for row in rows[1:]:
        name, text, _ = row.split("\t")
        assert 1 <= len(text.split()) <= 3
        assert (out / f"{name}.gt.txt").read_text(encoding="utf-8").strip() == text


def test_cli_needs_a_corpus(tmp_path):
    result = run_cli("data", "synth", "--n", "2", "-o", tmp_path / "out")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("htrkit: error: give a text to render with --corpus")


def test_cli_writes_only_inside_its_folder_and_replaces_a_run_whole(tmp_path, corpus):
    out, victim = tmp_path / "out", tmp_path / "victim_000000.gt.txt"
    victim.write_text("KEEP")
    base = ["data", "synth", "-o", out, "--corpus", corpus]
    result = run_cli(*base, "--n", "2", "--prefix", "../victim")
    assert result.returncode == 2 and "--prefix '../victim'" in result.stderr
    assert victim.read_text() == "KEEP" and not out.exists()
    result = run_cli(*base, "--n", "2", "--min-words", "5", "--max-words", "2")
    assert result.returncode == 2 and "--min-words 5 is more than --max-words 2" in result.stderr
    assert run_cli(*base, "--n", "5").returncode == 0
    assert run_cli(*base, "--n", "3").returncode == 2  # an earlier run: --overwrite
    assert run_cli(*base, "--n", "3", "--overwrite").returncode == 0
    assert len(list(out.glob("*.png"))) == 3 and len(list(out.glob("*.gt.txt"))) == 3
    assert len((out / "manifest.tsv").read_text().splitlines()) == 4
    # another prefix: the earlier run still goes whole, as its manifest names it
    assert run_cli(*base, "--n", "2", "--prefix", "other", "--overwrite").returncode == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.tsv", "other_000000.gt.txt", "other_000000.png", "other_000001.gt.txt",
        "other_000001.png",
    ]  # fmt: skip


def test_cli_rejects_an_unknown_renderer_option(tmp_path, corpus):
    result = run_cli(
        "data", "synth", "--n", "1", "-o", tmp_path / "o", "--corpus", corpus, "-O", "slnat=3"
    )
    assert result.returncode == 2
    assert "slant" in result.stderr


# -- with the fonts in ../shared/data ------------------------------------------------------

SHARED_FONTS = SHARED / "fonts"
needs_shared = pytest.mark.skipif(not SHARED_FONTS.is_dir(), reason="needs ../shared/data")


@pytest.mark.shared
@needs_shared
def test_fonts_that_draw_capitals_for_lower_case_refuse_lower_case():
    humor = load_font(SHARED_FONTS / "Humor-Sans.ttf")
    assert humor.caps_only
    assert humor.missing("Hello") == {"e", "l", "o"}
    assert humor.covers("HELLO 42")
    assert not load_font(SHARED_FONTS / "caveat-latin-400-normal.woff2").caps_only


@pytest.mark.shared
@needs_shared
def test_every_shared_font_renders(tmp_path):
    fonts = load_fonts([SHARED_FONTS])
    renderer = Renderer()
    for i, font in enumerate(fonts):
        text = "HAND 1914" if font.caps_only else "Handwriting 1914"
        assert font.covers(text), (font.name, font.missing(text))
        image = renderer.render(text, font, np.random.default_rng(i))
        assert (image < 128).sum() > 100, font.name


# -- the docs stay true ------------------------------------------------------------------


def test_synthetic_docs_examples_run_and_list_every_option(monkeypatch):
    import dataclasses
    import re

    from conftest import ROOT

    text = (ROOT / "docs" / "synthetic.md").read_text(encoding="utf-8")
    printed = []
    monkeypatch.setattr("builtins.print", lambda *a, **k: printed.append(a))
    for code in re.findall(r"```python\n(.*?)```", text, re.S):
        exec(compile(code, "docs/synthetic.md", "exec"), {})
    assert printed[0] == ({"中"},)
    for f in dataclasses.fields(RenderOptions):
        assert f"`{f.name}`" in text, f.name
    help_text = run_cli("data", "synth", "--help").stdout
    for flag in re.findall(r"^\| `(--[a-z-]+|-[a-zA-Z])", text, re.M):
        assert flag in help_text, flag


def test_synth_kinds_capitals_numbers_and_form_fields(tmp_path):
    from htrkit.datasets import read_dataset
    from htrkit.synth.kinds import LABELS

    corpus = tmp_path / "corpus.txt"
    corpus.write_text(
        "Marie Curie was born in Warsaw and moved to Paris in 1891 with her sister Bronisława.\n"
        "Johann Sebastian Bach wrote music in Leipzig for the church of Saint Thomas.\n",
        encoding="utf-8",
    )

    def draw(kind, n=12):
        options = {"n": n, "kind": kind, "seed": 5}
        return list(read_dataset(corpus, "synth", options))

    capitals = draw("capitals")
    assert all(s.text == s.text.upper() and s.text.strip() for s in capitals)
    assert len({s.text for s in capitals}) > 4
    numbers = draw("numbers")
    assert all(any(c.isdigit() for c in s.text) for s in numbers)
    forms = draw("form", 20)
    # the printed label is in the image, never in the text
    assert not any(label.rstrip(":").strip() in s.text for s in forms for label in LABELS)
    for samples in (capitals, numbers, forms):
        for s in samples:
            assert s.image.dtype == np.uint8 and s.image.ndim == 2
            assert (s.image < 128).any() and np.median(s.image) > 150  # ink on paper
    # the same seed draws the same lines
    again = draw("form", 20)
    assert [s.text for s in again] == [s.text for s in forms]
    np.testing.assert_array_equal(again[3].image, forms[3].image)


def test_form_fields_add_a_printed_label_to_the_left():
    from htrkit.synth.kinds import add_label_and_rule

    line = np.full((60, 200), 235, np.uint8)
    line[20:40, 20:180] = 30
    out = add_label_and_rule(line, np.random.default_rng(1), "Name:", rule=False)
    assert out.shape[0] == 60 and out.shape[1] > 200
    np.testing.assert_array_equal(out[:, -200:], line)  # the handwriting is untouched
    assert (out[:, : out.shape[1] - 200] < 128).any()  # print on the left
    ruled = add_label_and_rule(line, np.random.default_rng(1), None, rule=True)
    assert ruled.shape == line.shape
    assert ((ruled < line).sum(axis=1) > 100).any()  # a rule across the line


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [("height", 100000, "<= 1024"), ("margin", 1000, "<= 4"), ("size_max", 1000000, "<= 512")],
)
def test_render_sizes_are_bounded(key, value, says):
    # --height 100000 asked OpenCV for 35 GB, margin=1000 numpy for 43.8 GiB
    from htrkit.errors import OptionsError
    from htrkit.options import validate_options
    from htrkit.synth.renderer import RenderOptions

    with pytest.raises(OptionsError, match=f"option '{key}' .* must be {says}"):
        validate_options(RenderOptions, {key: value}, what="synth renderer")
