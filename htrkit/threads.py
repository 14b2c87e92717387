"""The cores a process may use, and the thread pools htrkit runs work on.

:class:`LazyPool` is a thread pool made on first use, safe to share between threads, and
safe across ``fork``: a forked child inherits a pool object whose threads did not come
with it (its work would wait for ever), so a pool made in another process is dropped and
made again. The decoding pool and the onnx backend's side-by-side runs use it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: cgroup v2's CPU limit of this process's container ("max" or "QUOTA PERIOD")
CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def _quota_cores(path: Path | None = None) -> int | None:
    """The cores a cgroup v2 CPU quota allows (rounded up), or ``None`` without one."""
    try:
        quota, period = (path or CPU_MAX).read_text(encoding="ascii").split()[:2]
        if quota == "max":
            return None
        return max(1, -(-int(quota) // int(period)))
    except (OSError, ValueError, ZeroDivisionError):
        return None


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity, bounded by a container's CPU
    quota (a container limited to 2 CPUs on a 64-core host gets 2)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    quota = _quota_cores()
    return max(1, min(cores, quota) if quota else cores)


class LazyPool:
    """``threads`` worker threads (named ``name``), started on the first :meth:`map`."""

    def __init__(self, threads: int, name: str):
        self.threads = max(1, threads)
        self.name = name
        self._executor: ThreadPoolExecutor | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``fn`` of each item on the pool's threads, in order (the first error raised)."""
        return list(self._get().map(fn, items))

    def _get(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None or self._pid != os.getpid():
                # made here, or inherited through fork without its threads: a new one
                self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix=self.name)
                self._pid = os.getpid()
            return self._executor

    @property
    def started(self) -> bool:
        """Whether this process has the pool's threads (tests, and :meth:`close`)."""
        return self._executor is not None and self._pid == os.getpid()

    def close(self) -> None:
        """Stop the threads (a later :meth:`map` starts them again)."""
        with self._lock:
            if self._executor is not None and self._pid == os.getpid():
                self._executor.shutdown()
            self._executor = None

    def __getstate__(self) -> dict[str, Any]:  # threads and locks do not travel
        return {"threads": self.threads, "name": self.name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["threads"], state["name"])  # type: ignore[misc]
