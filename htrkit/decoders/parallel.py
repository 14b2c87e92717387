"""Decoding many lines on several threads at once.

A decoder whose :meth:`decode` may run on several threads at the same time says so with a
method ``concurrent(alphabet) -> bool`` (the KenLM decoder does when its compiled search,
which releases the GIL, reads the alphabet). The pipeline hands a batch's lines to a
:class:`DecodingPool`, which decodes them on its threads when every decoder of the batch
says so, and one after the other otherwise (a plugin decoder need not be thread-safe). The
decodings are the same either way, in the same order: each line's search is independent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from htrkit.alphabet import Alphabet
from htrkit.threads import LazyPool, available_cores

__all__ = ["DecodingPool", "available_cores", "is_concurrent"]


def is_concurrent(decoder: Any, alphabet: Alphabet) -> bool:
    """Whether ``decoder`` may decode lines of ``alphabet`` on several threads at once."""
    concurrent = getattr(decoder, "concurrent", None)
    return bool(concurrent(alphabet)) if callable(concurrent) else False


class DecodingPool:
    """Decodes lines on ``threads`` threads (0: one per core), made on first use."""

    def __init__(self, threads: int = 0):
        self.threads = threads or available_cores()
        self._pool = LazyPool(self.threads, "htrkit-decode")

    def decode(self, work: Sequence[tuple[Any, np.ndarray]], alphabet: Alphabet) -> list[Any]:
        """Each ``(decoder, log_probs)`` decoded, in order."""
        decoders = {id(d): d for d, _ in work}.values()
        together = all(is_concurrent(d, alphabet) for d in decoders)
        if not together:
            return [decoder.decode(lp, alphabet) for decoder, lp in work]
        return self.map(lambda item: item[0].decode(item[1], alphabet), work)

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``fn`` of each item, in order, on the threads when there are several items
        (``fn`` must be safe to call on several threads at once). The items go to the
        threads in runs of several (eight runs a thread), not one by one: handing one
        over costs about 8 us, a run of them 0.7 us an item (measured)."""
        if self.threads < 2 or len(items) < 2:
            return [fn(item) for item in items]
        size = max(1, -(-len(items) // (8 * self.threads)))
        runs = [items[start : start + size] for start in range(0, len(items), size)]
        done = self._pool.map(lambda run: [fn(item) for item in run], runs)
        return [result for run in done for result in run]

    @property
    def started(self) -> bool:
        """Whether the threads run (lines went to them) in this process."""
        return self._pool.started

    def close(self) -> None:
        """Stop the threads (a later :meth:`decode` starts them again)."""
        self._pool.close()
