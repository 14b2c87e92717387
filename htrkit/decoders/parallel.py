"""Decoding many lines on several threads at once.

A decoder whose :meth:`decode` may run on several threads at the same time says so with a
method ``concurrent(alphabet) -> bool`` (the KenLM decoder does when its compiled search,
which releases the GIL, reads the alphabet). The pipeline hands a batch's lines to a
:class:`DecodingPool`, which decodes them on its threads when every decoder of the batch
says so, and one after the other otherwise (a plugin decoder need not be thread-safe). The
decodings are the same either way, in the same order: each line's search is independent.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from htrkit.alphabet import Alphabet


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def is_concurrent(decoder: Any, alphabet: Alphabet) -> bool:
    """Whether ``decoder`` may decode lines of ``alphabet`` on several threads at once."""
    concurrent = getattr(decoder, "concurrent", None)
    return bool(concurrent(alphabet)) if callable(concurrent) else False


class DecodingPool:
    """Decodes lines on ``threads`` threads (0: one per core), made on first use."""

    def __init__(self, threads: int = 0):
        self.threads = threads or available_cores()
        self._executor: ThreadPoolExecutor | None = None

    def decode(self, work: Sequence[tuple[Any, np.ndarray]], alphabet: Alphabet) -> list[Any]:
        """Each ``(decoder, log_probs)`` decoded, in order."""
        decoders = {id(d): d for d, _ in work}.values()
        together = all(is_concurrent(d, alphabet) for d in decoders)
        if self.threads < 2 or len(work) < 2 or not together:
            return [decoder.decode(lp, alphabet) for decoder, lp in work]
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="htrkit-decode")
        return list(self._executor.map(lambda item: item[0].decode(item[1], alphabet), work))

    def close(self) -> None:
        """Stop the threads (a later :meth:`decode` starts them again)."""
        if self._executor is not None:
            self._executor.shutdown()
            self._executor = None

    def __getstate__(self) -> dict[str, Any]:  # threads do not travel (a copied pipeline)
        return {"threads": self.threads, "_executor": None}
