"""Write a synthetic dataset: ``<id>.png`` + ``<id>.gt.txt`` pairs and ``manifest.tsv``.

The layout is kraken's and ocropy's, which htrkit's ``gt-pairs`` dataset reader reads.
Line ``i`` is drawn from its own generator seeded with ``(seed, i)``, so a dataset is the
same on every run and machine, and a larger ``n`` extends a smaller one.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from htrkit.errors import InputError
from htrkit.synth.corpus import TextSource
from htrkit.synth.fonts import Font
from htrkit.synth.renderer import Renderer

#: texts drawn per line before giving up on finding one that some font can render
MAX_TRIES = 50


@dataclass
class SynthReport:
    """What a run wrote and what it had to leave out."""

    written: int = 0
    per_font: Counter[str] = field(default_factory=Counter)
    #: texts that no font could render, and the characters that were missing
    skipped: int = 0
    missing_chars: Counter[str] = field(default_factory=Counter)
    #: texts the first chosen font could not render, drawn with another font
    refonted: int = 0
    #: fonts that draw lower-case letters as capitals (used only for text without them)
    caps_only: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "per_font": dict(sorted(self.per_font.items())),
            "skipped_for_coverage": self.skipped,
            "missing_chars": dict(self.missing_chars.most_common()),
            "redrawn_with_another_font": self.refonted,
            "caps_only_fonts": self.caps_only,
            "seconds": round(self.seconds, 2),
            "lines_per_second": round(self.written / self.seconds, 1) if self.seconds else None,
        }


def choose(
    text: str, fonts: Sequence[Font], rng: np.random.Generator, report: SynthReport
) -> Font | None:
    """A random font that can draw ``text``: the first pick, else another that can, else None."""
    font = fonts[int(rng.integers(len(fonts)))]
    if font.covers(text):
        return font
    able = [f for f in fonts if f.covers(text)]
    if able:
        report.refonted += 1
        return able[int(rng.integers(len(able)))]
    report.skipped += 1
    missing = set.intersection(*(f.missing(text) for f in fonts))
    report.missing_chars.update(missing)
    return None


def render_line(
    i: int,
    seed: int,
    source: TextSource,
    fonts: Sequence[Font],
    renderer: Renderer,
    report: SynthReport,
    min_words: int,
    max_words: int,
) -> tuple[str, Font, np.ndarray]:
    """Line ``i``: its text, its font and its image."""
    rng = np.random.default_rng([seed, i])
    for _ in range(MAX_TRIES):
        text = source.sample(rng, min_words, max_words)
        font = choose(text, fonts, rng, report)
        if font is not None:
            return text, font, renderer.render(text, font, rng)
    chars = "".join(c for c, _ in report.missing_chars.most_common(10))
    raise InputError(
        f"no font can render the corpus text: {MAX_TRIES} texts in a row had characters "
        f"that no font has (most often: {chars!r}); add fonts or clean the corpus"
    )


def generate(
    out_dir: str | Path,
    n: int,
    source: TextSource,
    fonts: Sequence[Font],
    renderer: Renderer | None = None,
    *,
    seed: int = 0,
    min_words: int = 1,
    max_words: int = 6,
    prefix: str = "synth",
    progress: Callable[[int], None] = lambda k: None,
) -> SynthReport:
    """Render ``n`` lines into ``out_dir`` and write its ``manifest.tsv``."""
    import cv2

    from htrkit.atomic import write_text

    if not fonts:
        raise InputError("no fonts to render with")
    if not 1 <= min_words <= max_words:
        raise InputError(f"need 1 <= min-words <= max-words, got {min_words} and {max_words}")
    renderer = renderer or Renderer()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = SynthReport(per_font=Counter({f.name: 0 for f in fonts}))
    report.caps_only = [f.name for f in fonts if f.caps_only]
    start = time.perf_counter()
    width = max(6, len(str(n - 1)))
    rows = ["id\ttext\tfont\n"]  # the manifest, written last: it is there when all is
    for i in range(n):
        text, font, image = render_line(
            i, seed, source, fonts, renderer, report, min_words, max_words
        )
        name = f"{prefix}_{i:0{width}d}"
        if not cv2.imwrite(str(out / f"{name}.png"), image):
            raise InputError(f"{out / name}.png: cannot write the image")
        (out / f"{name}.gt.txt").write_text(text + "\n", encoding="utf-8")
        rows.append(f"{name}\t{text}\t{font.name}\n")
        report.written += 1
        report.per_font[font.name] += 1
        progress(1)
    write_text(out / "manifest.tsv", "".join(rows))
    report.seconds = time.perf_counter() - start
    return report
