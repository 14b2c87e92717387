"""Languages: the bundled per-language LMs, ``Pipeline(lang=...)`` and ``auto``'s choice,
with the real bundled model and language models on lines rendered in the fonts that ship
with htrkit (the benchmarks measure CER with fonts no recipe trained on)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from htrkit import Pipeline
from htrkit.errors import ConfigError, InputError
from htrkit.languages import LANGUAGES, LanguageChooser, bundled, greedy_text
from htrkit.results import LineRegion, Page

ENGLISH = ["the weather was fine and we walked", "through the village with our friends",
           "which would have been much better"]  # fmt: skip
FRENCH = ["nous avons marché dans le village", "avec nos amis pendant toute la journée",
          "et les enfants étaient très contents"]  # fmt: skip


def rendered_page(lines: list[str], font: str = "kalam") -> Page:
    """The lines drawn one under another (each a region), as a page."""
    from htrkit.synth.fonts import load_fonts
    from htrkit.synth.renderer import Renderer, RenderOptions

    fonts = {f.name.split("-")[0]: f for f in load_fonts()}
    renderer = Renderer(RenderOptions(height=64))
    images = [renderer.render(text, fonts[font], np.random.default_rng(k))
              for k, text in enumerate(lines)]  # fmt: skip
    width = max(i.shape[1] for i in images)
    canvas = np.full((sum(i.shape[0] for i in images), width), 255, np.uint8)
    regions, y = [], 0
    for image in images:
        canvas[y : y + image.shape[0], : image.shape[1]] = image
        regions.append(LineRegion((0, y, image.shape[1], y + image.shape[0])))
        y += image.shape[0]
    return Page("page", canvas, regions)


@pytest.fixture(scope="module")
def auto():
    return Pipeline(lang="auto")


def test_every_language_ships_its_models():
    for lang in LANGUAGES:
        for what in ("lexicon", "word LM", "character LM"):
            assert bundled(lang, what).is_file(), (lang, what)


def test_the_character_models_tell_the_languages_apart():
    chooser = LanguageChooser()
    assert chooser.choose(["the house was empty when they arrived"]) == "en"
    assert chooser.choose(["la maison était vide quand ils sont arrivés"]) == "fr"
    assert chooser.choose(["das Haus war leer, als sie ankamen"]) == "de"
    assert chooser.choose(["1914 - 18", ""]) is None  # no letter: nothing to choose by
    scores = chooser.scores(["the house"])
    assert set(scores) == set(LANGUAGES) and scores["en"] > scores["fr"]


def spelt(text: str, chars: str, rng: np.random.Generator) -> np.ndarray:
    """Log probabilities whose best path spells ``text`` (blanks between letters, a letter
    held two frames now and then), with noise in the other classes."""
    lp = rng.normal(-8.0, 1.0, (3 * len(text) + 1, len(chars) + 1))
    t = 0
    for c in text:
        lp[t, 0] = 0.0
        lp[t + 1, chars.index(c) + 1] = 0.0
        lp[t + 2, chars.index(c) + 1 if rng.random() < 0.3 else 0] = 0.0
        t += 3
    lp[t, 0] = 0.0
    return lp


def test_choosing_from_the_network_outputs_chooses_as_from_the_texts():
    chooser = LanguageChooser()
    chars = "abcdefghijklmnopqrstuvwxyzäéèàüöß ,.'-0123456789"
    rng = np.random.default_rng(4)
    pages = [
        ["the house was empty when they arrived"],
        ["la maison était vide", "quand ils sont arrivés"],
        ["das haus war leer, als sie ankamen"],
        ["1914 - 18", ""],
        ["wo ist der bahnhof", "where is the station"],
    ]
    for lines in pages:
        outputs = [spelt(text, chars, rng) for text in lines]
        assert [greedy_text(lp, chars) for lp in outputs] == lines
        assert chooser.choose_greedy(outputs, chars) == chooser.choose(lines), lines
    assert [chooser.choose_greedy([spelt(t, chars, rng)], chars) for t in
            ("the house", "la maison", "das haus", "1914")] == ["en", "fr", "de", None]  # fmt: skip
    # an alphabet with a class of two characters: chosen from the texts, the same way
    two = ["ch", *"abdefghijklmnopqrstuvwxyz "]
    lp = np.full((4, len(two) + 1), -9.0)
    for t, k in enumerate([two.index("ch") + 1, 0, two.index("e") + 1, 0]):
        lp[t, k] = 0.0
    assert chooser.choose_greedy([lp], two) == chooser.choose(["che"])


@pytest.mark.parametrize(("lines", "lang"), [(ENGLISH, "en"), (FRENCH, "fr")])
def test_auto_picks_the_language_of_a_rendered_page(auto, lines, lang):
    result = auto(rendered_page(lines))
    assert result.lang == lang, result.text
    assert auto.describe()["lang"] == "auto"


def test_a_chosen_language_decodes_with_its_own_models(auto):
    page = rendered_page(ENGLISH)
    english = Pipeline(lang="en")
    assert english.decoder_options.lm == "en"
    assert english(page).lang == "en"
    # auto read the page in English: the same text as --lang en
    assert auto(page).text == english(page).text
    mixed = Pipeline(lang="mixed")
    assert mixed.decoder_options.lm == "default" and mixed(page).lang is None


def test_a_decoder_without_language_resources_reports_none():
    page = rendered_page(ENGLISH[:1])
    assert Pipeline(decoder="greedy", lang="auto")(page).lang is None
    # a language named by the user is reported even so
    assert Pipeline(decoder="greedy", lang="de")(page).lang == "de"


def test_word_level_decoders_get_the_language_word_model_and_lexicon():
    pipe = Pipeline(decoder="kenlm", decoder_options={"lm": "default"}, lang="fr")
    assert pipe.decoder_options.lm == "fr" and pipe.decoder.level == "word"
    lexicon = Pipeline(decoder="wordbeam", lang="de")
    assert lexicon.decoder_options.lexicon == "de"
    # a file the user names is theirs: never replaced
    own = Pipeline(decoder="kenlm", decoder_options={"lm": str(bundled("en", "word LM"))},
                   lang="fr")  # fmt: skip
    assert own.decoder_options.lm == str(bundled("en", "word LM"))


def test_a_bad_language_is_a_one_line_error():
    with pytest.raises(ConfigError, match="lang must be one of auto, mixed, en, fr, de, got 'xx'"):
        Pipeline(lang="xx")
    from htrkit.decoders.resources import resolve

    assert resolve("de", "character LM") == bundled("de", "character LM")
    with pytest.raises(InputError, match="no such file"):
        resolve("es", "character LM")


def test_greedy_text_collapses_repeats_and_drops_blanks():
    lp = np.log(np.full((6, 4), 0.01))
    for t, k in enumerate([1, 1, 0, 1, 3, 0]):
        lp[t, k] = 0.0
    assert greedy_text(lp, ["a", "b", "c"]) == "aac"
    assert greedy_text(np.zeros((0, 4)), ["a", "b", "c"]) == ""


def test_the_outputs_and_the_cli_report_the_language(auto, tmp_path):
    import io

    import cv2
    from conftest import run_cli

    from htrkit.plugins import registry

    result = auto(rendered_page(FRENCH))
    for fmt, needle in [("json", '"lang": "fr"'), ("alto", 'LANG="fr"'),
                        ("page", 'primaryLanguage="French"'), ("hocr", 'lang="fr"')]:  # fmt: skip
        stream = io.StringIO()
        registry("writer").create(fmt).write([result], stream)
        assert needle in stream.getvalue(), fmt
    cv2.imwrite(str(tmp_path / "page.png"), rendered_page(FRENCH).image)
    out = run_cli("run", tmp_path / "page.png", "--lang", "en", "-f", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["lang"] == "en"
    out = run_cli("run", tmp_path / "page.png", "--lang", "klingon")
    assert out.returncode == 2 and "lang must be one of" in out.stderr
    assert "Traceback" not in out.stderr


def test_eval_reads_a_group_as_one_page_and_reports_the_languages(tmp_path):
    """Stacking a group's lines into one page changes no line's text, and auto chooses
    once per group."""
    from collections import Counter

    from htrkit.datasets import Sample
    from htrkit.metrics.evaluation import predict

    page = rendered_page(ENGLISH + FRENCH)
    crops = [page.image[r.bbox[1] : r.bbox[3], : r.bbox[2]] for r in page.lines]
    groups = ["a"] * 3 + ["b"] * 3
    samples = [Sample(f"s{k}", "", g, c, "x") for k, (g, c) in enumerate(zip(groups, crops))]
    mixed = Pipeline(lang="mixed")
    alone = [mixed(Page(s.id, s.image, [LineRegion((0, 0, s.image.shape[1], s.image.shape[0]))]))
             for s in samples]  # fmt: skip
    assert [t for _, t in predict(mixed, samples)] == [r.text for r in alone]
    langs: Counter[str] = Counter()
    read = list(predict(Pipeline(lang="auto"), samples, languages=langs))
    assert [s.id for s, _ in read] == [s.id for s in samples]
    assert langs == Counter({"en": 1, "fr": 1})
    # lines of another kind of image are pages of their own
    colour = replace(samples[0], image=np.dstack([crops[0]] * 3))
    assert len(list(predict(mixed, [samples[1], colour]))) == 2
