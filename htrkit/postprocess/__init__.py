"""Built-in postprocessors: Unicode normalisation, whitespace clean-up, and words read
mostly in capitals written in capitals."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Literal

from htrkit.options import option
from htrkit.results import LineResult


@dataclass(frozen=True)
class UnicodeOptions:
    form: Literal["NFC", "NFD", "NFKC", "NFKD"] = option("NFC", "Unicode normal form")


class UnicodeNormalize:
    """Bring each line to one Unicode normal form (characters kept only if unchanged)."""

    def __init__(self, options: UnicodeOptions):
        self.form = options.form

    def __call__(self, line: LineResult) -> LineResult:
        text = unicodedata.normalize(self.form, line.text)
        return line if text == line.text else replace(line, text=text, chars=[])


class CollapseWhitespace:
    """Strip each line and collapse runs of spaces to one."""

    def __init__(self, options: object = None):
        pass

    def __call__(self, line: LineResult) -> LineResult:
        text = re.sub(r"\s+", " ", line.text).strip()
        if text == line.text:
            return line
        chars: list = []
        for c in line.chars:
            if not c.char.isspace():
                chars.append(c)
            elif chars and not chars[-1].char.isspace():
                chars.append(replace(c, char=" "))
        while chars and chars[-1].char.isspace():
            chars.pop()
        if "".join(c.char for c in chars) != text:
            chars = []
        return replace(line, text=text, chars=chars)


@dataclass(frozen=True)
class CapitalsOptions:
    # 0.8 and 4: an acronym with one small letter (BAnQ, 3 of 4) is left alone, a name
    # with one stray small letter (BiLEL, 4 of 5; TRAWiNG) is written in capitals
    share: float = option(
        0.8, "a word whose letters are at least this share capitals is all capitals",
        min=0.5, max=1.0,
    )  # fmt: skip
    min_letters: int = option(4, "shortest word this applies to, in letters", min=2, max=100)


class Capitals:
    """A word read mostly in capitals (``BiLEL``) comes out in capitals (``BILEL``): names
    and places written in block letters are read with a stray lower-case letter where a
    capital and its small form look alike (i/I, o/O, s/S). Character positions are kept."""

    def __init__(self, options: CapitalsOptions | None = None):
        self.options = options or CapitalsOptions()

    def __call__(self, line: LineResult) -> LineResult:
        o = self.options
        text = list(line.text)
        for match in re.finditer(r"\S+", line.text):
            letters = [c for c in match.group() if c.isalpha()]
            upper = sum(c.isupper() for c in letters)
            if len(letters) < o.min_letters or upper == len(letters):
                continue
            if upper / len(letters) >= o.share:
                for i in range(match.start(), match.end()):
                    capital = text[i].upper()
                    if len(capital) == 1:  # ß stays ß (its capital is two letters)
                        text[i] = capital
        new = "".join(text)
        if new == line.text:
            return line
        chars = line.chars
        if "".join(c.char for c in chars) == line.text:
            chars = [replace(c, char=ch) for c, ch in zip(chars, new)]
        else:
            chars = []
        return replace(line, text=new, chars=chars)
