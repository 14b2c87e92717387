"""What a request may ask of ``htrkit serve``: the modes, the decoders the page offers and
the whitelist of their options (no option that names a file, no custom regular expression),
and the decoding of uploaded images."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

#: mode -> (which model setting, segmenter and its options, fixed decoder or None). A
#: drawing is trimmed to its ink with a margin in proportion to its height, so that it
#: stands in the line as the training data did: MNIST digits fill 20 of 28 rows
#: (``htrkit/models/digits.md``), lines fill most of theirs.
MODES: dict[str, tuple[str, str, dict[str, Any], tuple[str, dict[str, Any]] | None]] = {
    "digit": ("digit_model", "whole", {"margin_share": 0.3}, ("pattern", {"pattern": r"\d"})),
    # a line is cut out as `htrkit run` cuts a line image (auto's whole-image path), so that
    # the page, the CLI and Pipeline() read the same image alike
    "line": ("model", "whole", {}, None),
    # strokes drawn on the page's pad: thin and tightly trimmed, they read best with paper
    # around them in proportion to their height, as a written line stands in its crop
    "drawing": ("model", "whole", {"margin_share": 0.2}, None),
    "page": ("model", "auto", {}, None),
}
MODE_ALIASES = {"word": "line", "digits": "digit"}
#: decoders the page offers, with their labels
DECODERS = {
    "auto": "the model's own (language model)",
    "greedy": "greedy",
    "beam": "beam search",
    "wordbeam": "lexicon (word beam search)",
    "kenlm": "language model (KenLM)",
    "pattern": "pattern",
}
#: the languages the page offers (``Pipeline(lang=...)``), with their labels
LANGS = {
    "auto": "any: chosen per page",
    "en": "English",
    "fr": "French",
    "de": "German",
    "mixed": "one model for all",
}
#: the widest beam a request may ask for (request_options is the whitelist)
MAX_BEAM = 64


class RequestError(Exception):
    """Bad input from a request: answered with ``status`` and the message."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def request_options(decoder: str, options: Any) -> dict[str, Any]:
    """The decoder options a request asked for, checked against the whitelist."""
    from htrkit.decoders.options import PRESETS

    if options in (None, ""):
        options = {}
    if isinstance(options, str):
        try:
            options = json.loads(options)
        except ValueError:  # not JSON, or a number of over 4,300 digits
            raise RequestError(f"options {options[:60]!r} is not a JSON object") from None
    if not isinstance(options, dict):
        raise RequestError("options must be a JSON object")
    allowed = {"beam_width"} if decoder != "greedy" else set()
    if decoder == "kenlm":
        allowed.add("level")
    if decoder == "pattern":
        allowed.add("pattern")
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key not in allowed:
            raise RequestError(
                f"option {str(key)[:40]!r} is not accepted for decoder {decoder!r} over the web "
                f"(accepted: {', '.join(sorted(allowed)) or 'none'})"
            )
        if key == "beam_width":
            whole = isinstance(value, int) and not isinstance(value, bool)
            digits = isinstance(value, str) and value.isdigit() and value.isascii()
            if not whole and not digits:
                raise RequestError(f"beam_width {str(value)[:40]!r} is not a whole number")
            if not (whole and 1 <= value <= MAX_BEAM) and not (
                digits and len(value) <= 2 and 1 <= int(value) <= MAX_BEAM
            ):
                raise RequestError(f"beam_width must be 1-{MAX_BEAM}, got {str(value)[:40]}")
            value = int(value)
        elif key == "level" and value not in ("word", "char"):
            raise RequestError(f"level must be 'word' or 'char', got {str(value)[:40]!r}")
        elif key == "pattern":
            name = str(value)
            if not (name.startswith("@") and name[1:] in PRESETS):
                raise RequestError(
                    f"pattern {name[:40]!r}: only presets are taken over the web: "
                    + ", ".join("@" + k for k in PRESETS)
                )
        out[key] = value
    if decoder == "pattern" and "pattern" not in out:
        raise RequestError("decoder 'pattern' needs the option 'pattern' (a preset such as @date)")
    return out


def decode_base64(value: Any) -> bytes:
    """The bytes of a base64 string or a ``data:`` URL."""
    if not isinstance(value, str) or not value:
        raise RequestError("'image' must be a base64 string or a data: URL")
    if value.startswith("data:"):
        head, _, value = value.partition(",")
        if not head.endswith(";base64"):
            raise RequestError("'image' data: URL is not base64-encoded")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise RequestError("'image' is not valid base64") from None


def label(name: Any) -> str:
    """An upload's file name as a label for messages only: its last part, printable."""
    text = re.split(r"[\\/]", str(name or ""))[-1]
    text = "".join(c for c in text if c.isprintable())[:80]
    return text or "upload"
