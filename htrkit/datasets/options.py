"""Options of the built-in dataset readers (light: no heavy imports here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from htrkit.options import option


def _check_regex(name: str, pattern: str | None) -> None:
    if pattern is None:
        return
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"option {name!r} is not a valid regular expression: {exc}") from None


@dataclass(frozen=True)
class PageOptions:
    """Options of the page-layout readers (``alto`` and ``page``)."""

    group_by: Literal["page", "document", "folder"] = option(
        "page",
        "keep together in splits each page, each document (pages whose file "
        "names share a document_pattern match) or each folder (the pages of one "
        "sub-folder, as HTR-United repositories keep one manuscript per folder)",
    )
    document_pattern: str | None = option(
        None,
        "regex searched in the page file name giving its document "
        r"(group 1 if any), e.g. '^(?:imp_|oldbatch_)?wikitexte_\d+' for Copiste",
    )
    line_types: tuple[str, ...] = option(
        (),
        "keep only lines of these types (ALTO TAGREFS labels, PAGE "
        "'structure {type:...}'), e.g. DefaultLine,HeadingLine; empty keeps all",
    )
    exclude_pattern: str | None = option(
        None,
        "regex searched in each line's text; matching lines are left out "
        r"(e.g. '(?i)wiki\s*texte' for Copiste's page-reference lines)",
    )
    allow_outside: bool = option(
        False,
        "read page images outside the dataset folder (an absolute or '../' fileName); "
        "refused by default",
    )
    straighten: bool = option(
        True,
        "straighten each line along its baseline where the writing climbs "
        "(htrkit.geometry.straighten_line); false cuts each line from its box as it is",
    )

    def __post_init__(self) -> None:
        _check_regex("document_pattern", self.document_pattern)
        _check_regex("exclude_pattern", self.exclude_pattern)
        if self.group_by == "document" and not self.document_pattern:
            raise ValueError("group_by='document' needs a document_pattern")


@dataclass(frozen=True)
class IamOptions:
    level: Literal["words", "lines"] = option("lines", "read ascii/words.txt or ascii/lines.txt")
    skip_err: bool = option(False, "leave out rows whose segmentation result is 'err'")


@dataclass(frozen=True)
class TableOptions:
    delimiter: Literal["auto", "comma", "tab", "semicolon"] = option(
        "auto", "column separator; auto tells tab from comma"
    )
    header: bool | None = option(None, "whether the first row names the columns; none guesses")
    image_column: str | None = option(None, "column of image paths (by header name)")
    text_column: str | None = option(None, "column of transcriptions (by header name)")
    group_column: str | None = option(
        None, "column kept together in splits; default 'writer' or 'group' if any"
    )
    image_dir: str | None = option(
        None, "folder the image paths are relative to (default: the table's)"
    )
    drop_labels: tuple[str, ...] = option(
        ("UNREADABLE",), "labels meaning 'no transcription' (any case), left out"
    )
    allow_outside: bool = option(
        False,
        "read images outside the image folder (absolute or '../' paths); refused by default",
    )


@dataclass(frozen=True)
class FolderLabelsOptions:
    separator: str | None = option(
        "_",
        "a numeric suffix after this separator is not part of the label "
        "('abc_2.png' reads 'abc'); empty or none keeps the whole file stem",
    )
    group_by: Literal["file", "label"] = option(
        "file", "keep together in splits each file, or all files of one label"
    )


@dataclass(frozen=True)
class GtPairsOptions:
    group_by: Literal["folder", "file"] = option(
        "folder", "keep together in splits each folder, or each line image"
    )


@dataclass(frozen=True)
class SynthOptions:
    """Options of the ``synth`` reader: lines rendered on the fly from a corpus file."""

    n: int = option(1000, "lines to render", min=1)
    fonts: tuple[str, ...] = option(
        (),
        "font files or folders, relative to the corpus file's folder unless "
        "absolute; empty uses the fonts bundled with htrkit",
    )
    seed: int = option(0, "the same seed renders the same lines")
    min_words: int = option(1, "fewest words per line", min=1)
    max_words: int = option(6, "most words per line", min=1)
    charset: str = option(
        "",
        "draw only texts made of these characters (others are replaced by "
        "another draw); empty allows any",
    )
    render: Any = option("renderer options (docs/synthetic.md), e.g. {slant = 20}", factory=dict)
    kind: Literal["text", "capitals", "numbers", "form"] = option(
        "text",
        "what to draw: corpus text; capitals (letter-spaced or boxed); numbers "
        "(dates, amounts, digits); form (a printed label, not transcribed, and a rule "
        "beside handwriting)",
    )

    def __post_init__(self) -> None:
        if self.min_words > self.max_words:
            raise ValueError(f"min_words ({self.min_words}) exceeds max_words ({self.max_words})")


@dataclass(frozen=True)
class DigitsOptions:
    """Options of the ``digits`` reader: MNIST-style arrays in a ``.npz`` file."""

    images_key: str = option("images", "array of [N, H, W] images")
    labels_key: str = option("labels", "array of N digit labels")
    strings: int = option(
        0,
        "compose this many digit strings from the images (0: one sample per image, unchanged)",
        min=0,
    )
    min_digits: int = option(1, "fewest digits per string", min=1)
    max_digits: int = option(6, "most digits per string", min=1)
    blocks: int = option(
        20,
        "images are cut into this many groups by index; a string takes all its "
        "digits from one, so no image is on both sides of a split",
        min=1,
    )
    seed: int = option(0, "the same seed composes the same strings")
    invert: Literal["auto", "yes", "no"] = option(
        "auto",
        "turn light-on-dark digits (MNIST) into dark ink on paper; auto "
        "decides from the border pixels",
    )

    def __post_init__(self) -> None:
        if self.min_digits > self.max_digits:
            raise ValueError(
                f"min_digits ({self.min_digits}) exceeds max_digits ({self.max_digits})"
            )
