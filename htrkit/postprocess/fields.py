"""The printed label of a form's field, read before the name written in it (``PRENOM
BILEL``), and left out.

A form prints its field labels (``NOM``, ``Prénom :``, ``Name:``, ``Vorname``) beside the
boxes or the line where the name is written, and a crop of the field often holds both.
The label is recognised by its words (:data:`FIELD_LABELS`, English, French and German,
matched without case, accents or spaces) and only where it stands at the start of the line
*and* apart from what follows: a colon or a space read after it, or a gap in the frames
(the printed letters are close together, the written ones far apart); and only when what
follows is a name in capitals. Running text that begins with such a word (``Nom de
famille``, ``Name and address of``) is never touched.
"""

from __future__ import annotations

import statistics
import unicodedata
from dataclasses import replace

from htrkit.results import LineResult

#: labels of the fields where names and places are written, as forms print them
FIELD_LABELS = (
    "nom", "noms", "prénom", "prénoms", "nom de famille", "nom d'usage", "nom de naissance",
    "nom et prénom", "nom et prénoms", "né le", "née le", "lieu", "lieu de naissance",
    "ville", "commune", "pays", "adresse", "domicile", "profession", "nationalité",
    "name", "names", "first name", "last name", "surname", "given name", "given names",
    "forename", "forenames", "full name", "maiden name", "place", "place of birth", "city",
    "town", "country", "address", "occupation", "nationality", "signature",
    "vorname", "vornamen", "nachname", "familienname", "geburtsname", "name, vorname",
    "ort", "geburtsort", "wohnort", "stadt", "land", "anschrift", "beruf",
    "staatsangehörigkeit", "unterschrift",
)  # fmt: skip


def _key(text: str) -> str:
    """Letters only, upper case, accents off: how a label is matched."""
    plain = unicodedata.normalize("NFD", text.upper())
    return "".join(c for c in plain if c.isalnum())


#: the labels' keys, longest first (``NOMDEFAMILLE`` before ``NOM``)
_KEYS = sorted({_key(label) for label in FIELD_LABELS}, key=len, reverse=True)


def _is_name(text: str) -> bool:
    """A name or place in capitals: letters (capitals), spaces, hyphens, apostrophes."""
    letters = [c for c in text if c.isalpha()]
    return (
        len(letters) >= 2
        and all(c.isupper() for c in letters)
        and all(c.isalpha() or c in " -'’" for c in text)
    )


def strip_field_label(line: LineResult, gap: float = 2.0) -> LineResult:
    """``line`` without the field label it begins with (see the module's description).

    :param gap: with no space or colon read after the label, the step in frames from its
        last letter to the next must be at least ``gap`` times the label's own median step.
    """
    text = line.text
    if not text:
        return line
    # the reading's letters, one key letter each (ß and the like stand as "?")
    positions = [i for i, c in enumerate(text) if _key(c)]
    reading = "".join(k if len(k := _key(text[i])) == 1 else "?" for i in positions)
    for key in _KEYS:
        if not reading.startswith(key) or len(reading) == len(key):
            continue
        end = positions[len(key) - 1] + 1  # just after the label's last letter
        rest = end
        while rest < len(text) and text[rest] in " :.;-–":
            rest += 1
        if not _is_name(text[rest:]):
            return line
        # the label's letters close together, and (when nothing separates them) the
        # name's first letter far from them; else a shorter label may fit (NOM|SOUTHERN,
        # not NOMS|OUTHERN)
        label = positions[: len(key)]
        if not _close(line, label, gap) or (rest == end and not _apart(line, label, rest, gap)):
            continue
        return _cut(line, rest)
    return line


def _steps(line: LineResult, label: list[int]) -> tuple[list[int], float] | None:
    """The label's letter-to-letter steps in frames and their median, or ``None`` without
    positions to tell."""
    chars = line.chars
    if len(chars) != len(line.text) or len(label) < 2:
        return None
    frames = [chars[i].frame for i in label]
    steps = [b - a for a, b in zip(frames, frames[1:])]
    return steps, max(statistics.median(steps), 1)


def _close(line: LineResult, label: list[int], gap: float) -> bool:
    """Whether the label's letters are close together (as print is), as far as the
    positions tell."""
    found = _steps(line, label)
    return found is None or max(found[0]) < gap * found[1]


def _apart(line: LineResult, label: list[int], first: int, gap: float) -> bool:
    """Whether the letter at ``first`` is far from the label's letters, in frames."""
    found = _steps(line, label)
    if found is None:
        return False
    return line.chars[first].frame - line.chars[label[-1]].frame >= gap * found[1]


def _cut(line: LineResult, start: int) -> LineResult:
    """``line`` from character ``start`` on."""
    chars = line.chars
    kept = chars[start:] if "".join(c.char for c in chars) == line.text else []
    return replace(line, text=line.text[start:], chars=kept)
