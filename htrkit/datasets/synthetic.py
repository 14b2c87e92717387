"""Synthetic lines as a dataset: a corpus file rendered in handwriting fonts on the fly.

The path is the corpus (running text or a word list, see :mod:`htrkit.synth.corpus`).
Draw ``i`` comes from a generator seeded with ``(seed, i)``, so the same options give the
same lines on every machine; each line is its own group. With ``charset``, a draw holding
other characters is left out (and counted as dropped) and the next draw is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from htrkit.datasets import DatasetError, DatasetReport, Sample
from htrkit.datasets.options import SynthOptions
from htrkit.errors import HtrkitError


class SynthReader:
    def __init__(self, options: SynthOptions):
        self.options = options

    def detect(self, path: Path) -> bool:
        return False  # a text file is a corpus only when the format says so

    def samples(self, path: Path, report: DatasetReport, skip_bad: bool) -> Iterator[Sample]:
        from htrkit.options import validate_options
        from htrkit.synth.corpus import TextSource
        from htrkit.synth.dataset import SynthReport, render_line
        from htrkit.synth.fonts import load_fonts
        from htrkit.synth.renderer import Renderer, RenderOptions

        o = self.options
        if not path.is_file():
            raise DatasetError(f"{path}: no such corpus file")
        try:
            render = validate_options(RenderOptions, o.render, what="synth render options")
            source = TextSource.from_files([path])
            fonts = load_fonts([path.parent / f for f in o.fonts])
        except HtrkitError as exc:  # named once, whether or not the message names it
            message = str(exc)
            raise DatasetError(
                message if message.startswith(f"{path}:") else f"{path}: {message}"
            ) from None
        renderer = Renderer(render)
        synth = SynthReport()
        width = max(6, len(str(o.n - 1)))
        allowed = set(o.charset)
        i = written = 0
        while written < o.n:
            if o.kind == "text":
                text, _, image = render_line(
                    i, o.seed, source, fonts, renderer, synth, o.min_words, o.max_words
                )
            else:
                drawn = self._kind(i, source, fonts, renderer, synth)
                if drawn is None:
                    i += 1
                    report.drop("no font covers the text")
                    if i > 20 * o.n:
                        raise DatasetError(f"{path}: no font can draw {o.kind} texts")
                    continue
                text, image = drawn
            i += 1
            if allowed and not set(text) <= allowed:
                report.drop("characters outside charset")
                if i > 20 * o.n:
                    raise DatasetError(f"{path}: few corpus texts fit the charset option")
                continue
            name = f"synth{o.seed}{'' if o.kind == 'text' else o.kind}_{written:0{width}d}"
            written += 1
            yield Sample(name, text, name, image, str(path))

    def _kind(self, i, source, fonts, renderer, synth):
        import numpy as np

        from htrkit.synth.dataset import choose
        from htrkit.synth.kinds import draw

        rng = np.random.default_rng([self.options.seed, i])
        return draw(
            self.options.kind, source, fonts, renderer, rng, lambda t, r: choose(t, fonts, r, synth)
        )
