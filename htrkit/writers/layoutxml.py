"""The base of the writers of one layout XML document per page (``page``, ``alto``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TextIO

from htrkit.results import Result
from htrkit.writers.common import one_page, serialise
from htrkit.writers.filled import filled_original


class LayoutXmlWriter(ABC):
    """A writer of one layout XML document per page (``page``, ``alto``): the page's own
    input file filled in when it came from one of this format
    (:mod:`htrkit.writers.filled`), else a new document from :meth:`build`."""

    #: the format's name (``htrkit run -f``) and its name in :func:`filled_original`
    fmt = ""
    label = ""

    def __init__(self, options: object = None):
        self.options = options

    def write(self, results: Sequence[Result], stream: TextIO) -> None:
        result = one_page(results, self.fmt)
        if result is None:
            return
        filled = filled_original(result, self.label)
        if filled is not None:
            serialise(filled, stream, indent=False)
        else:
            serialise(self.build(result), stream)

    @abstractmethod
    def build(self, result: Result) -> ET.Element:
        """A new document for ``result``."""
