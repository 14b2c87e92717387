"""Options of the built-in dataset readers (light: no heavy imports here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal


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

    group_by: Literal["page", "document", "folder"] = field(
        default="page",
        metadata={
            "help": "keep together in splits each page, each document (pages whose file "
            "names share a document_pattern match) or each folder (the pages of one "
            "sub-folder, as HTR-United repositories keep one manuscript per folder)"
        },
    )
    document_pattern: str | None = field(
        default=None,
        metadata={
            "help": "regex searched in the page file name giving its document "
            r"(group 1 if any), e.g. '^(?:imp_|oldbatch_)?wikitexte_\d+' for Copiste"
        },
    )
    line_types: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "keep only lines of these types (ALTO TAGREFS labels, PAGE "
            "'structure {type:...}'), e.g. DefaultLine,HeadingLine; empty keeps all"
        },
    )
    exclude_pattern: str | None = field(
        default=None,
        metadata={
            "help": "regex searched in each line's text; matching lines are left out "
            r"(e.g. '(?i)wiki\s*texte' for Copiste's page-reference lines)"
        },
    )

    def __post_init__(self) -> None:
        _check_regex("document_pattern", self.document_pattern)
        _check_regex("exclude_pattern", self.exclude_pattern)
        if self.group_by == "document" and not self.document_pattern:
            raise ValueError("group_by='document' needs a document_pattern")


@dataclass(frozen=True)
class IamOptions:
    level: Literal["words", "lines"] = field(
        default="lines", metadata={"help": "read ascii/words.txt or ascii/lines.txt"}
    )
    skip_err: bool = field(
        default=False,
        metadata={"help": "leave out rows whose segmentation result is 'err'"},
    )


@dataclass(frozen=True)
class TableOptions:
    delimiter: Literal["auto", "comma", "tab", "semicolon"] = field(
        default="auto", metadata={"help": "column separator; auto tells tab from comma"}
    )
    header: bool | None = field(
        default=None, metadata={"help": "whether the first row names the columns; none guesses"}
    )
    image_column: str | None = field(
        default=None, metadata={"help": "column of image paths (by header name)"}
    )
    text_column: str | None = field(
        default=None, metadata={"help": "column of transcriptions (by header name)"}
    )
    group_column: str | None = field(
        default=None,
        metadata={"help": "column kept together in splits; default 'writer' or 'group' if any"},
    )
    image_dir: str | None = field(
        default=None,
        metadata={"help": "folder the image paths are relative to (default: the table's)"},
    )
    drop_labels: tuple[str, ...] = field(
        default=("UNREADABLE",),
        metadata={"help": "labels meaning 'no transcription' (any case), left out"},
    )


@dataclass(frozen=True)
class FolderLabelsOptions:
    separator: str | None = field(
        default="_",
        metadata={
            "help": "a numeric suffix after this separator is not part of the label "
            "('abc_2.png' reads 'abc'); empty or none keeps the whole file stem"
        },
    )
    group_by: Literal["file", "label"] = field(
        default="file",
        metadata={"help": "keep together in splits each file, or all files of one label"},
    )


@dataclass(frozen=True)
class GtPairsOptions:
    group_by: Literal["folder", "file"] = field(
        default="folder",
        metadata={"help": "keep together in splits each folder, or each line image"},
    )


@dataclass(frozen=True)
class SynthOptions:
    """Options of the ``synth`` reader: lines rendered on the fly from a corpus file."""

    n: int = field(default=1000, metadata={"help": "lines to render", "min": 1})
    fonts: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "font files or folders, relative to the corpus file's folder unless "
            "absolute; empty uses the fonts bundled with htrkit"
        },
    )
    seed: int = field(default=0, metadata={"help": "the same seed renders the same lines"})
    min_words: int = field(default=1, metadata={"help": "fewest words per line", "min": 1})
    max_words: int = field(default=6, metadata={"help": "most words per line", "min": 1})
    charset: str = field(
        default="",
        metadata={
            "help": "draw only texts made of these characters (others are replaced by "
            "another draw); empty allows any"
        },
    )
    render: Any = field(
        default_factory=dict,
        metadata={"help": "renderer options (docs/synthetic.md), e.g. {slant = 20}"},
    )
    kind: Literal["text", "capitals", "numbers", "form"] = field(
        default="text",
        metadata={
            "help": "what to draw: corpus text; capitals (letter-spaced or boxed); numbers "
            "(dates, amounts, digits); form (a printed label, not transcribed, and a rule "
            "beside handwriting)"
        },
    )

    def __post_init__(self) -> None:
        if self.min_words > self.max_words:
            raise ValueError(f"min_words ({self.min_words}) exceeds max_words ({self.max_words})")


@dataclass(frozen=True)
class DigitsOptions:
    """Options of the ``digits`` reader: MNIST-style arrays in a ``.npz`` file."""

    images_key: str = field(default="images", metadata={"help": "array of [N, H, W] images"})
    labels_key: str = field(default="labels", metadata={"help": "array of N digit labels"})
    strings: int = field(
        default=0,
        metadata={
            "help": "compose this many digit strings from the images (0: one sample per "
            "image, unchanged)",
            "min": 0,
        },
    )
    min_digits: int = field(default=1, metadata={"help": "fewest digits per string", "min": 1})
    max_digits: int = field(default=6, metadata={"help": "most digits per string", "min": 1})
    blocks: int = field(
        default=20,
        metadata={
            "help": "images are cut into this many groups by index; a string takes all its "
            "digits from one, so no image is on both sides of a split",
            "min": 1,
        },
    )
    seed: int = field(default=0, metadata={"help": "the same seed composes the same strings"})
    invert: Literal["auto", "yes", "no"] = field(
        default="auto",
        metadata={
            "help": "turn light-on-dark digits (MNIST) into dark ink on paper; auto "
            "decides from the border pixels"
        },
    )

    def __post_init__(self) -> None:
        if self.min_digits > self.max_digits:
            raise ValueError(
                f"min_digits ({self.min_digits}) exceeds max_digits ({self.max_digits})"
            )
