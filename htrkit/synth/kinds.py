"""What real crops hold besides running text: block capitals (letter-spaced, or one letter
per box as on forms), digits, dates and amounts, and a printed label or a rule beside the
handwriting.

Each kind is a text generator plus, where needed, a way of drawing it. The ``synth``
dataset reader picks one with its ``kind`` option:

- ``text``: spans of the corpus, as :class:`~htrkit.synth.renderer.Renderer` draws them;
- ``capitals``: one to three corpus words in capitals (names, places), drawn with wide
  letter spacing half of the time and one letter per box a quarter of the time;
- ``numbers``: dates in English, French and German styles, amounts with currency
  signs, phone numbers, reference numbers and plain digit strings;
- ``form``: a field of a form: a printed label (``Name:``, ``Date de naissance``, ...)
  left of handwritten capitals, a date or words, on a rule or dotted line. The label is
  printed, not written, so it is *not* part of the text: a recogniser learns to read the
  handwriting and leave the form's print out.

Every draw is seeded by the caller's generator, so a dataset is the same on every run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from htrkit.synth.corpus import TextSource
from htrkit.synth.fonts import Font
from htrkit.synth.renderer import Renderer

KINDS = ("text", "capitals", "numbers", "form")

MONTHS = {
    "en": "January February March April May June July August September October November "
    "December".split(),
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre "
    "décembre".split(),
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November "
    "Dezember".split(),
}

LABELS = (
    "Name:", "Surname", "First name", "Nom :", "Prénom", "Name", "Vorname:", "Address",
    "Adresse :", "Anschrift", "Date:", "Date of birth", "Né le", "Geburtsdatum", "Place",
    "Lieu :", "Ort", "Signature", "Unterschrift", "Occupation", "Profession :", "Beruf",
    "Tel.", "No.", "N°", "Amount", "Montant :", "Betrag", "City", "Ville", "Stadt", "Ref.",
)  # fmt: skip


# -- texts ------------------------------------------------------------------------------


def capitals_text(source: TextSource, rng: np.random.Generator) -> str:
    """One to three corpus words in capitals, preferring capitalised words (names)."""
    words: list[str] = []
    for _ in range(40):
        word = source.sample(rng, 1, 1).strip(".,;:!?()[]\"'«»“”")
        if word.isalpha() and (word[0].isupper() or rng.random() < 0.05):
            words.append(word)
            if len(words) >= int(rng.integers(1, 4)):
                break
    return " ".join(words).upper() or "NAME"


def number_text(rng: np.random.Generator) -> str:
    """A date, an amount, a phone or reference number, or plain digits."""
    day, month, year = (
        int(rng.integers(1, 29)),
        int(rng.integers(1, 13)),
        int(rng.integers(1700, 2030)),
    )
    lang = ("en", "fr", "de")[int(rng.integers(3))]
    name = MONTHS[lang][month - 1]
    choice = int(rng.integers(12))
    if choice == 0:
        return f"{day:02d}/{month:02d}/{year}"
    if choice == 1:
        return (
            f"{day}.{month}.{year}"
            if rng.random() < 0.5
            else f"{day:02d}.{month:02d}.{year % 100:02d}"
        )
    if choice == 2:
        return f"{year}-{month:02d}-{day:02d}"
    if choice == 3:
        if lang == "en":
            return f"{name} {day}, {year}" if rng.random() < 0.5 else f"{day} {name} {year}"
        return f"{day} {name} {year}" if lang == "fr" else f"{day}. {name} {year}"
    if choice in (4, 5):
        units, cents = int(10 ** rng.uniform(0, 5)), int(rng.integers(100))
        grouped = f"{units:,}"
        style = int(rng.integers(5))
        if style == 0:
            return f"${grouped}.{cents:02d}"
        if style == 1:
            return f"£{grouped}.{cents:02d}" if rng.random() < 0.5 else f"£{units}"
        if style == 2:
            return f"{grouped.replace(',', '.')},{cents:02d} €"
        if style == 3:
            return (
                f"{grouped.replace(',', ' ')},{cents:02d} F"
                if rng.random() < 0.5
                else f"{units} fr."
            )
        return f"{units},{cents:02d} DM" if rng.random() < 0.5 else f"€ {units}"
    if choice == 6:
        parts = [f"{int(rng.integers(100)):02d}" for _ in range(5)]
        return (
            " ".join(parts)
            if rng.random() < 0.5
            else f"+{int(rng.integers(1, 50))} " + " ".join(parts[1:])
        )
    if choice == 7:
        prefix = ("No.", "N°", "Nr.", "#", "Ref.", "n°")[int(rng.integers(6))]
        return f"{prefix} {int(10 ** rng.uniform(0, 5))}"
    if choice == 8:
        return (
            f"{int(rng.integers(1, 32))}/{int(rng.integers(1, 13))}"
            if rng.random() < 0.5
            else f"{year}"
        )
    if choice == 9:
        unit = ("km", "kg", "m", "h", "%", "cm")[int(rng.integers(6))]
        return f"{int(rng.integers(0, 10000))} {unit}"
    digits = int(rng.integers(1, 12))
    return "".join(str(int(d)) for d in rng.integers(0, 10, digits))


# -- drawing ----------------------------------------------------------------------------


def paper_tone(image: np.ndarray) -> float:
    return float(np.percentile(image, 90))


def print_font(size: int):
    """A printed face: DejaVu Sans where the system has it, else Pillow's own."""
    from PIL import ImageFont

    for path in (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    ):
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _printed(text: str, height: float) -> np.ndarray:
    """Coverage (0..255) of ``text`` in print, about ``height`` pixels high."""
    from PIL import Image, ImageDraw

    font = print_font(max(8, int(height)))
    left, top, right, bottom = font.getbbox(text)
    canvas = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(canvas).text((2 - left, 2 - top), text, font=font, fill=255)
    return np.asarray(canvas)


def boxed_capitals(
    text: str, font: Font, rng: np.random.Generator, cells: tuple[float, float] = (0.9, 1.4)
) -> np.ndarray:
    """Capitals one per box, as in the comb fields of forms (a space is an empty box):
    ink coverage, the boxes printed lighter than the writing. A box is ``cells`` times the
    letters' size wide (drawn uniformly in that range)."""
    from PIL import Image, ImageDraw

    size = int(rng.integers(30, 56))
    pil = font.pil(size)
    cell = int(size * rng.uniform(*cells))
    height = int(size * rng.uniform(1.2, 1.6))
    margin = size // 3
    width = cell * len(text) + 2 * margin
    canvas = Image.new("L", (width, height + 2 * margin), 0)
    draw = ImageDraw.Draw(canvas)
    box_ink = int(rng.integers(90, 200))
    comb = rng.random() < 0.4  # ticks and a bottom line only, not closed boxes
    for k, ch in enumerate(text):
        x0 = margin + k * cell
        if comb:
            draw.line([(x0, margin + height * 0.6), (x0, margin + height)], fill=box_ink)
        else:
            draw.rectangle([x0, margin, x0 + cell, margin + height], outline=box_ink)
        if ch != " ":
            dx = rng.normal(0, 0.05 * cell)
            dy = rng.normal(0, 0.04 * size)
            draw.text(
                (x0 + cell / 2 + dx, margin + height * 0.82 + dy),
                ch,
                font=pil,
                fill=255,
                anchor="ms",
            )
    if comb:
        x_end = margin + len(text) * cell
        draw.line([(x_end, margin + height * 0.6), (x_end, margin + height)], fill=box_ink)
        draw.line([(margin, margin + height), (x_end, margin + height)], fill=box_ink)
    return np.asarray(canvas)


def compose(mask: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Ink coverage over paper, with the renderer's tones and noise."""
    return Renderer()._compose(mask, rng, size)  # same paper as every kind


def add_label_and_rule(
    image: np.ndarray, rng: np.random.Generator, label: str | None, rule: bool
) -> np.ndarray:
    """A printed ``label`` to the left of a handwritten line image and/or a rule (solid or
    dotted) under it, in a darker tone than the paper."""
    h, w = image.shape
    paper = paper_tone(image)
    out = image.astype(np.float32)
    if rule:
        y = int(h * rng.uniform(0.72, 0.95))
        tone = rng.uniform(40, 170)
        thick = 1 + int(rng.random() < 0.3)
        if rng.random() < 0.35:  # dotted, as on printed forms
            step = int(rng.integers(3, 7))
            cols = np.arange(w) % step < max(1, step // 2)
            out[y : y + thick, cols] = np.minimum(out[y : y + thick, cols], tone)
        else:
            out[y : y + thick, :] = np.minimum(out[y : y + thick, :], tone)
    if label:
        glyphs = _printed(label, h * rng.uniform(0.25, 0.45)).astype(np.float32) / 255
        lh, lw = glyphs.shape
        gap = int(h * rng.uniform(0.1, 0.8))
        strip = np.full((h, lw + gap), paper, np.float32)
        top = int(np.clip(h * rng.uniform(0.35, 0.65) - lh / 2, 0, max(h - lh, 0)))
        lh = min(lh, h - top)
        tone = rng.uniform(0, 80)
        region = strip[top : top + lh, :lw]
        strip[top : top + lh, :lw] = region * (1 - glyphs[:lh]) + tone * glyphs[:lh]
        out = np.concatenate([strip, out], axis=1)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def draw(
    kind: str,
    source: TextSource,
    fonts: Sequence[Font],
    renderer: Renderer,
    rng: np.random.Generator,
    choose,  # (text, rng) -> Font | None
) -> tuple[str, np.ndarray] | None:
    """One sample of ``kind``: its text and grey image, or None if no font can draw it."""
    if kind == "capitals" or (kind == "form" and rng.random() < 0.5):
        text = capitals_text(source, rng)
    elif kind == "numbers" or kind == "form" and rng.random() < 0.5:
        text = number_text(rng)
    else:
        text = source.sample(rng, 1, 4)
    font = choose(text, rng)
    if font is None:
        return None
    if kind == "capitals" and rng.random() < 0.25:
        image = compose(boxed_capitals(text, font, rng), rng, 40)
    else:
        spaced = kind == "capitals" and rng.random() < 0.5
        image = (spaced_renderer(renderer, rng) if spaced else renderer).render(text, font, rng)
    if kind == "form":
        label = LABELS[int(rng.integers(len(LABELS)))] if rng.random() < 0.8 else None
        image = add_label_and_rule(image, rng, label, rule=label is None or rng.random() < 0.6)
    elif rng.random() < 0.1:  # a rule under any line now and then
        image = add_label_and_rule(image, rng, None, rule=True)
    return text, image


def spaced_renderer(renderer: Renderer, rng: np.random.Generator) -> Renderer:
    """The renderer with wide letter spacing (letters apart, words further apart)."""
    from dataclasses import replace

    o = renderer.options
    wide = rng.uniform(0.4, 1.2)
    return Renderer(replace(o, spacing=wide, joined=0.0, word_gap=wide * rng.uniform(1.0, 2.0)))


__all__ = ["KINDS", "capitals_text", "draw", "number_text", "add_label_and_rule"]
