"""Atomic file writes: a temporary file in the same folder, renamed over the target, so a
reader (or a rerun after a crash) sees the old file or the whole new one, never a part.
Every file htrkit writes goes through here or the same pattern (models, checkpoints,
caches, outputs)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from htrkit.errors import OutputError

#: the prefix of the temporary files (a folder job removes stale ones of a killed run)
PARTIAL = ".htrkit-partial-"


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str], mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; once the block ends without an error, it is
    renamed to ``path`` (with ``mode``: mkstemp makes 0600). On an error it is removed."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{PARTIAL}{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write it: {exc.strerror or exc}") from None
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk (ENOSPC), a size limit (EFBIG), ...
        raise OutputError(f"{path}: cannot write it: {exc.strerror or exc}") from None
    except Exception as exc:
        reason = _io_failure(exc)
        if reason is None:
            raise
        raise OutputError(f"{path}: cannot write it: {reason}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _io_failure(exc: Exception) -> str | None:
    """The reason, when ``exc`` is a library's wrapping of a failed write (safetensors
    reports ``I/O error: No space left on device (os error 28)``); else ``None``."""
    text = str(exc)
    if "I/O error" in text and "os error" in text:
        return text.split("I/O error:", 1)[1].split("(os error")[0].strip()
    return None


def remove_partials(folder: Path) -> None:
    """Remove the temporary files a killed writer left in ``folder``."""
    for stale in Path(folder).glob(f"{PARTIAL}*"):
        stale.unlink(missing_ok=True)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    with replacing(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def check_output(path: Path, overwrite: bool, option: str = "-o") -> None:
    """Refuse, in one line and before any work is done, an output file ``path`` that is a
    folder, exists without ``overwrite``, or cannot be made because one of the folders
    above it is a file. Missing folders are allowed (the writer creates them)."""
    from htrkit.errors import ConfigError

    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{option} {path}: is a folder; give a file name")
    if path.exists() and not overwrite:
        raise ConfigError(f"{path}: exists; give --overwrite to replace it")
    check_parents(path, option)


def check_parents(path: Path, option: str = "-o") -> None:
    """Refuse an output ``path`` whose nearest existing folder above is a file."""
    from htrkit.errors import ConfigError

    for parent in Path(path).parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"{option} {path}: {parent} is a file, not a folder")
            break


def check_target(path: Path, suffix: str, overwrite: bool, option: str = "-o") -> None:
    """Refuse, in one line, an output ``path`` that does not end in ``suffix``, exists
    without ``overwrite``, or has no folder to go in: before any work is done."""
    from htrkit.errors import ConfigError

    if path.suffix != suffix:
        raise ConfigError(f"{option} {path}: the file's name must end in {suffix}")
    if path.exists() and not overwrite:
        raise ConfigError(f"{path}: exists; give --overwrite to replace it")
    if not path.parent.is_dir():
        raise ConfigError(f"{option} {path}: no such directory {path.parent}")
