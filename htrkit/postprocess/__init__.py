"""Built-in postprocessors: Unicode normalisation and whitespace clean-up."""

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
