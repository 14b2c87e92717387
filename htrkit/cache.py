"""Where htrkit keeps what it derives from files once and reuses across runs: ONNX exports
of model files (:mod:`htrkit.onnxmodel`) and language models' tables in binary form
(:mod:`htrkit.lm.tables`). Entries are named by the SHA-256 of the file they come from, so
a changed file never meets a stale entry. ``$HTRKIT_CACHE`` sets the folder (default
``$XDG_CACHE_HOME/htrkit``, else ``~/.cache/htrkit``); deleting it is always safe."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache folder (not created here)."""
    if os.environ.get("HTRKIT_CACHE"):
        return Path(os.environ["HTRKIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "htrkit"


def sha256(path: str | os.PathLike[str]) -> str:
    """The hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
