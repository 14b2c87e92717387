"""Options of the built-in dataset readers (light: no heavy imports here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal


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

    group_by: Literal["page", "document"] = field(
        default="page",
        metadata={
            "help": "keep together in splits each page, or each document "
            "(pages whose file names share a document_pattern match)"
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
