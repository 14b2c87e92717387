"""Built-in postprocessors: Unicode normalisation, whitespace clean-up, and words read
mostly in capitals written in capitals."""

from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass, replace
from typing import Literal

from htrkit.options import option
from htrkit.postprocess.fields import strip_field_label
from htrkit.results import CharResult, LineResult


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
    word_gap: float = option(
        1.8, "in a run of capitals written apart, two letters more than this many times the "
        "run's median step apart have a word gap between them, read or not (0: spaces as "
        "read)", min=0.0, max=10.0,
    )  # fmt: skip
    letter_gap: float = option(
        1.2, "... and a space read between two letters at most this many times the median "
        "step apart is a letter gap, and goes", min=0.0, max=10.0,
    )  # fmt: skip
    min_run: int = option(4, "fewest letters in a run of capitals that is re-spaced", min=3)
    field_labels: bool = option(
        True, "leave out a form's printed field label read before a name in capitals "
        "(PRENOM BILEL -> BILEL; htrkit.postprocess.fields)",
    )  # fmt: skip
    min_pitch: float = option(
        4.0, "only a run whose letters are at least this many network frames apart (its "
        "median) is re-spaced: letters written apart, not ordinary writing", min=1.0,
    )  # fmt: skip


class Capitals:
    """A word read mostly in capitals (``BiLEL``) comes out in capitals (``BILEL``): names
    and places written in block letters are read with a stray lower-case letter where a
    capital and its small form look alike (i/I, o/O, s/S). Character positions are kept.

    Block capitals are often written apart, or one to a box, which the network reads as
    spaces inside a word (``C H A R L ES``) or as no space between words (``LANDEDUNION``).
    In a run of words all in capitals, the spaces are placed again from where the letters
    are (:func:`respace_capitals`): where the gap is a word gap, not where the network put
    a space. And the printed label of a form's field, read before the name written in it
    (``PRENOM BILEL``), is left out (:mod:`htrkit.postprocess.fields`)."""

    def __init__(self, options: CapitalsOptions | None = None):
        self.options = options or CapitalsOptions()

    def __call__(self, line: LineResult) -> LineResult:
        o = self.options
        if o.field_labels:
            line = strip_field_label(line)
        if o.word_gap > 0:
            line = respace_capitals(line, o.word_gap, o.letter_gap, o.min_run, o.min_pitch)
        return self._upper(line)

    def _upper(self, line: LineResult) -> LineResult:
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


def _in_capitals(word: str) -> bool:
    """A word of a run of capitals: capital letters only, or one letter (a capital read
    as its small form, ``C H A R l ES``)."""
    return word.isalpha() and (word.isupper() or len(word) == 1)


def respace_capitals(
    line: LineResult,
    word_gap: float = 1.8,
    letter_gap: float = 1.2,
    min_run: int = 4,
    min_pitch: float = 4.0,
) -> LineResult:
    """``line`` with the spaces of each run of capitals written apart placed from the
    letters' frame positions (where the network saw each one): two letters more than
    ``word_gap`` times the run's median step apart get a space between them, and a space
    read between two letters at most ``letter_gap`` times the median step apart goes; in
    between, the space stays as read.

    A run is a stretch of words made only of capital letters, or of one letter (``J.`` or
    ``DUPONT,`` end one), with at least ``min_run`` letters and a capital, whose letters are
    ``min_pitch`` frames apart or more (the median step): block capitals, often written
    apart or boxed. Ordinary writing, at one to three frames a letter, keeps the spaces the
    network read (its frame positions are too coarse to tell a word gap). A line whose
    characters do not spell its text, or a run whose letters do not go left to right, is
    left as it is.
    """
    chars = line.chars
    if not chars or "".join(c.char for c in chars) != line.text:
        return line
    words = list(re.finditer(r"\S+", line.text))
    runs: list[list[re.Match]] = []
    for i, word in enumerate(words):
        if not _in_capitals(word.group()):
            continue
        if runs and runs[-1][-1] is words[i - 1]:
            runs[-1].append(word)
        else:
            runs.append([word])
    keep = [True] * len(chars)  # which characters stay
    spaces: dict[int, CharResult] = {}  # a space to put before character i
    for run in runs:
        letters = [i for w in run for i in range(w.start(), w.end())]
        if len(letters) < min_run or not any(line.text[i].isupper() for i in letters):
            continue
        steps = [chars[b].frame - chars[a].frame for a, b in zip(letters, letters[1:])]
        pitch = statistics.median(steps)
        if min(steps) <= 0 or pitch < min_pitch:
            continue
        for (a, b), step in zip(zip(letters, letters[1:]), steps):
            if b > a + 1 and step <= letter_gap * pitch:  # a letter gap: its space goes
                for i in range(a + 1, b):
                    keep[i] = False
            elif b == a + 1 and step > word_gap * pitch:  # a word gap with no space read
                left, right = chars[a], chars[b]
                x0, x1 = sorted((left.x1, right.x0))
                spaces[b] = CharResult(" ", x0, x1, 1.0, left.frame + 1)
    out = []
    for i, c in enumerate(chars):
        if i in spaces:
            out.append(spaces[i])
        if keep[i]:
            out.append(c)
    text = "".join(c.char for c in out)
    if text == line.text:
        return line
    return replace(line, text=text, chars=out)
