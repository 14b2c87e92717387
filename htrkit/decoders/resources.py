"""Files the decoders read: a lexicon or a language model, named by path or, for those
that ship with htrkit, by name: ``default`` (or ``mixed``: built from all the training
text) or a language, ``en``, ``fr`` or ``de`` (:mod:`htrkit.languages`)."""

from __future__ import annotations

from pathlib import Path

from htrkit.errors import ConfigError, ResourceNotFoundError
from htrkit.languages import LANGUAGES
from htrkit.languages import bundled as language_file
from htrkit.models import FOLDER as _MODELS

#: what ``default`` names, per kind of file (built by ``examples/recipes/build_default_lm.py``)
BUNDLED = {
    "lexicon": _MODELS / "default-lexicon.txt",
    "word LM": _MODELS / "default-words.arpa.gz",
    "character LM": _MODELS / "default-chars.arpa.gz",
}


def resolve(path: str, what: str) -> Path:
    """The file ``path`` names (``what`` is ``"lexicon"``, ``"word LM"`` or
    ``"character LM"``), or a one-line error saying why there is none."""
    if not path:
        raise ConfigError(f"no {what} given: name a file or 'default'")
    if path in ("default", "mixed") or path in LANGUAGES:
        bundled = BUNDLED.get(what) if path in ("default", "mixed") else language_file(path, what)
        if bundled is None or not bundled.is_file():
            raise ResourceNotFoundError(f"htrkit ships no {path} {what} in this installation")
        return bundled
    where = Path(path).expanduser()
    if where.is_dir():
        raise ConfigError(f"{what} {path!r}: is a folder; name the file")
    if not where.is_file():
        raise ResourceNotFoundError(f"{what} {path!r}: no such file")
    return where
