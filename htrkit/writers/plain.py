"""``txt``, ``json`` and ``tsv`` writers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from htrkit.results import Result


class TextWriter:
    """The text of each input; with several inputs, each is headed ``==> source <==``."""

    def __init__(self, options: object = None):
        self.options = options

    def write(self, results: Sequence[Result], stream: TextIO) -> None:
        for i, result in enumerate(results):
            if len(results) > 1:
                stream.write(f"{'' if i == 0 else chr(10)}==> {result.source} <==\n")
            if result.ok:
                stream.write(result.text + "\n")


class JsonWriter:
    """One JSON object (one input) or a JSON list (several), with lines, geometry and
    characters; a failed input's object has its ``error`` and no lines."""

    def __init__(self, options: object = None):
        self.options = options

    def write(self, results: Sequence[Result], stream: TextIO) -> None:
        data = [r.to_dict() for r in results]
        json.dump(data[0] if len(data) == 1 else data, stream, ensure_ascii=False, indent=1)
        stream.write("\n")


class TsvWriter:
    """``source<TAB>text`` rows, the form ``htrkit eval`` reads: lines are joined by spaces
    (those below the pipeline's ``min_confidence`` left out, as in ``txt``), tabs or
    newlines inside the text, or in a file's name, become spaces (a row is always one line
    of two cells), and a failed input has no row."""

    def __init__(self, options: object = None):
        self.options = options

    def write(self, results: Sequence[Result], stream: TextIO) -> None:
        for result in results:
            if result.ok:  # the text as ``Result.text`` has it: low-confidence lines left out
                source = result.source.replace("\t", " ").replace("\r", " ").replace("\n", " ")
                stream.write(f"{source}\t{' '.join(result.text.split())}\n")
