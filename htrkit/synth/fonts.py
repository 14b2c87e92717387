"""Handwriting fonts and the characters each of them can draw."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from htrkit.errors import InputError

#: the fonts shipped with htrkit (OFL; see README.md there)
BUNDLED_FONTS = Path(__file__).parent / "fonts"
FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
_FONTSOURCE_SUFFIX = "-latin-400-normal"


class Font:
    """A font file with its character map.

    A character counts as covered when the font maps it to a glyph and that glyph has ink
    (some fonts map characters to empty boxes). Whitespace is always covered: the renderer
    spaces words itself. A font that draws lower-case letters as capitals
    (:attr:`caps_only`) does not cover lower-case letters, or the image would not match
    its text.
    """

    def __init__(self, path: Path, codepoints: Iterable[int], name: str | None = None):
        self.path = Path(path)
        self.name = name or self.path.stem.replace(_FONTSOURCE_SUFFIX, "")
        self.codepoints = frozenset(codepoints)
        self._inked: dict[str, bool] = {}
        self._caps_only: bool | None = None

    def __repr__(self) -> str:
        return f"Font({self.name!r}, {len(self.codepoints)} characters)"

    def pil(self, size: int):
        """The Pillow font at ``size`` pixels (cached)."""
        return _pil_font(str(self.path), int(size))

    def _has_ink(self, ch: str) -> bool:
        inked = self._inked.get(ch)
        if inked is None:
            box = self.pil(48).getbbox(ch)
            inked = self._inked[ch] = box[2] > box[0] and box[3] > box[1]
        return inked

    @property
    def caps_only(self) -> bool:
        """Whether the font draws lower-case letters as capitals (like Humor Sans)."""
        if self._caps_only is None:
            self._caps_only = _draws_capitals_for_lower_case(self)
        return self._caps_only

    def missing(self, text: str) -> set[str]:
        """The characters of ``text`` this font cannot draw."""
        chars = {c for c in text if not c.isspace()}
        missing = {c for c in chars if ord(c) not in self.codepoints or not self._has_ink(c)}
        if self.caps_only:
            missing |= {c for c in chars if c.islower() and c.upper() != c}
        return missing

    def covers(self, text: str) -> bool:
        return not self.missing(text)


@lru_cache(maxsize=512)
def _pil_font(path: str, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)


_CASE_PAIRS = "abdeghnqr"  # letters whose lower-case shape differs from the capital


def _draws_capitals_for_lower_case(font: Font) -> bool:
    """Compare each of a few lower-case glyphs with its capital, both scaled to a square:
    in ordinary fonts they overlap little (median IoU 0.1-0.5), in capitals-only fonts
    they are the same letter (0.6-0.8)."""
    import cv2
    import numpy as np

    letters = [c for c in _CASE_PAIRS if {ord(c), ord(c.upper())} <= font.codepoints]
    if len(letters) < 5:
        return False
    pil = font.pil(64)

    def shape(ch: str) -> np.ndarray:
        m = pil.getmask(ch)
        a = np.array(m, dtype=np.uint8).reshape(m.size[1], m.size[0])
        if a.size == 0:
            return np.zeros((32, 32), bool)
        return cv2.resize(a, (32, 32), interpolation=cv2.INTER_AREA) > 64

    ious = []
    for c in letters:
        lo, up = shape(c), shape(c.upper())
        ious.append((lo & up).sum() / max((lo | up).sum(), 1))
    return float(np.median(ious)) > 0.55


def load_font(path: Path) -> Font:
    """Read a font's character map (fontTools; woff2 needs brotli)."""
    from fontTools.ttLib import TTFont, TTLibError

    quiet = logging.getLogger("fontTools")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # some fonts have harmless table quirks
    try:
        with TTFont(str(path), lazy=True, fontNumber=0) as tt:
            cmap = tt.getBestCmap() or {}
    except (TTLibError, OSError, ImportError, AssertionError, KeyError) as exc:
        raise InputError(f"{path}: cannot read font: {exc}") from None
    finally:
        quiet.setLevel(level)
    if not cmap:
        raise InputError(f"{path}: the font maps no characters")
    return Font(path, cmap)


def find_fonts(paths: Sequence[str | Path]) -> list[Path]:
    """Font files in ``paths`` (files, or folders searched recursively), sorted."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(f for f in p.rglob("*") if f.suffix.lower() in FONT_SUFFIXES))
        elif p.is_file():
            found.append(p)
        else:
            raise InputError(f"{p}: no such font file or folder")
    if not found:
        where = ", ".join(map(str, paths))
        raise InputError(f"no font files ({', '.join(FONT_SUFFIXES)}) in {where}")
    return found


def load_fonts(paths: Sequence[str | Path] = ()) -> list[Font]:
    """The fonts in ``paths``, or the bundled fonts when ``paths`` is empty.

    Fonts are named by file stem; a second font with the same name gets its folder added.
    """
    fonts = [load_font(p) for p in find_fonts(paths or [BUNDLED_FONTS])]
    seen: set[str] = set()
    for font in fonts:
        if font.name in seen:
            font.name = f"{font.path.parent.name}/{font.name}"
        seen.add(font.name)
    return fonts
