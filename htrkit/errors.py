"""The htrkit exception hierarchy.

Every error that htrkit raises on purpose derives from :class:`HtrkitError`. The CLI prints
such errors as a single line on stderr; anything else is a bug and keeps its traceback
(``HTRKIT_DEBUG=1`` shows the traceback for every error).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def suggest(
    name: str, choices: Iterable[str], *, canonical: Mapping[str, str] | None = None
) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest of ``choices``, or ``""``: the
    hint every unknown-name error ends with. ``canonical`` maps an alias among the choices
    to the name it stands for, which the hint names too (``'none' (another name of
    'whole')``)."""
    from rapidfuzz import fuzz, process

    match = process.extractOne(name, list(choices), scorer=fuzz.ratio, score_cutoff=60)
    if not match:
        return ""
    main = (canonical or {}).get(match[0], match[0])
    also = f" (another name of {main!r})" if main != match[0] else ""
    return f"; did you mean {match[0]!r}{also}?"


class HtrkitError(Exception):
    """Base class for every error htrkit raises on purpose."""

    exit_code = 1


class PluginError(HtrkitError):
    """A plugin failed to load, registered something invalid, or clashes with another."""


class UnknownComponentError(HtrkitError, LookupError):
    """A component name (decoder, metric, ...) is not registered."""

    exit_code = 2


class OptionsError(HtrkitError, ValueError):
    """Component options are unknown, of the wrong type or out of range."""

    exit_code = 2


class InputError(HtrkitError):
    """An input (image, page, ground-truth file) is missing, unreadable or invalid."""


class ImageError(InputError):
    """An image cannot be decoded, is empty, or is larger than the pixel limit."""


class OutputError(HtrkitError):
    """An output (result, model, checkpoint, cache) cannot be written: a full disk, a
    file-size limit, a folder that cannot be written to."""


class ModelError(HtrkitError):
    """A model file is missing, malformed or does not match its configuration."""


class NotFoundError(HtrkitError):
    """A model, language model, lexicon or other resource that a command names is not
    there: bad usage (exit status 2), as nothing can be read without it."""

    exit_code = 2


class ModelNotFoundError(NotFoundError, ModelError):
    """No model file at the path given, and no installed model of that name."""


class ResourceNotFoundError(NotFoundError, InputError):
    """A file that a component's options name (an LM, a lexicon, a segmenter model) is not
    there."""


class ConfigError(HtrkitError, ValueError):
    """A pipeline or training configuration file is invalid."""

    exit_code = 2
