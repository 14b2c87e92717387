"""``auto``: a line or word image is read whole; a page is cut into lines.

An image is a single line when it is wide for its height (``line_aspect``) or low
(``line_height``); its margins are trimmed as ``whole`` does (``trim``, ``margin``).
Anything else is a page and goes to the ``learned`` segmenter, the one that measured best
on real pages (``docs/pages.md``: line F1 on unseen Copiste and Poilus pages).
"""

from __future__ import annotations

import numpy as np

from htrkit.results import LineRegion
from htrkit.segmenters.learned import LearnedSegmenter
from htrkit.segmenters.options import AutoOptions, LearnedOptions, WholeImageOptions
from htrkit.segmenters.whole import WholeImageSegmenter


class AutoSegmenter:
    def __init__(self, options: AutoOptions | None = None):
        self.options = options or AutoOptions()
        self.whole = WholeImageSegmenter(WholeImageOptions(self.options.trim, self.options.margin))
        self._page: LearnedSegmenter | None = None
        self._threads = 0

    @property
    def page(self) -> LearnedSegmenter:
        """The page segmenter, its network loaded with the first page (a pipeline that only
        reads lines never loads it)."""
        if self._page is None:
            self._page = LearnedSegmenter(LearnedOptions(), threads=self._threads)
        return self._page

    def limit_threads(self, threads: int) -> None:
        """The page segmenter's threads (see :class:`LearnedSegmenter`)."""
        self._threads = threads
        if self._page is not None:
            self._page.limit_threads(threads)

    def is_line(self, image: np.ndarray) -> bool:
        h, w = image.shape[:2]
        return h <= self.options.line_height or w >= self.options.line_aspect * h

    def segment(self, image: np.ndarray) -> list[LineRegion]:
        return (self.whole if self.is_line(image) else self.page).segment(image)
