"""Input loaders: files to pages."""

import re as _re
from pathlib import Path as _Path

#: ``scans.pdf#page=3``, ``scan.tif#page=2``: one page of a multi-page file as an input
PAGE_REF = _re.compile(r"^(?P<path>.+)#page=(?P<page>[1-9]\d{0,5})$")


def split_ref(source: str) -> tuple[_Path, int | None]:
    """``(Path("scans.pdf"), 2)`` for ``"scans.pdf#page=3"`` (a 0-based page), or the
    path alone (``None``) for anything else, a file whose name ends so included."""
    match = PAGE_REF.match(source)
    if match and not _Path(source).exists():
        return _Path(match["path"]), int(match["page"]) - 1
    return _Path(source), None


def page_refs(path: _Path, count: int) -> list[str]:
    """The inputs a file of ``count`` pages stands for: itself, or one per page."""
    return [str(path)] if count == 1 else [f"{path}#page={n}" for n in range(1, count + 1)]
