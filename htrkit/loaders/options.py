"""Options of the built-in loaders (kept apart so that listing them needs no numpy)."""

from __future__ import annotations

from dataclasses import dataclass

from htrkit.options import option


@dataclass(frozen=True)
class PdfOptions:
    dpi: int = option(300, "resolution the pages are rendered at", min=36, max=1200)
