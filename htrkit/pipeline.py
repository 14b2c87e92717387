"""``htrkit.Pipeline``: load → preprocess → segment → model → decode → postprocess.

Every stage is a registered component chosen by name::

    pipe = Pipeline(model="model.safetensors", decoder="beam",
                    decoder_options={"beam_width": 16})
    result = pipe("line.png")
    results = pipe.batch(["a.png", "b.png"])
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from htrkit import configfile, languages
from htrkit.decoders.parallel import DecodingPool
from htrkit.errors import ConfigError, InputError
from htrkit.geometry import clip_to_page, crop_line
from htrkit.imageio import as_uint8
from htrkit.loading import DEFAULT_MODEL, load_recognizer, loader_for, model_decoding
from htrkit.loading import min_confidence as min_confidence_of
from htrkit.modelfile import is_model_path
from htrkit.plugins import registry
from htrkit.preprocess.chain import PreprocessChain
from htrkit.recognizer import LineReading, Recognizer
from htrkit.results import CharResult, LineRegion, LineResult, Page, Result
from htrkit.threads import available_cores

Input = str | os.PathLike[str] | np.ndarray | Page
StageSpec = str | Mapping[str, Any] | tuple[str, Mapping[str, Any]]


@dataclass
class _LineJob:
    page: int
    region: LineRegion
    image: np.ndarray  # preprocessed
    to_input: Callable[[np.ndarray], np.ndarray]
    size: tuple[int, int]  # the page's width and height


class Pipeline:
    """A configured recogniser: each stage chosen by name, with validated options.

    :param model: a model file path, a registered model name, or a :class:`Recognizer`.
    :param decoder: a registered decoder name (``htrkit plugins`` lists them), or
        ``"auto"``: the model's own decoding (its file's ``decoding`` metadata: the bundled
        ``default`` model reads with its character language model), else ``greedy``.
    :param decoder_options: options for the decoder, validated against its schema (with
        ``"auto"``, they change the model's own decoding options).
    :param segmenter: a registered line segmenter name; ``auto`` reads a line or word image
        whole and cuts a page into lines (``projection``).
    :param segmenter_options: options for the segmenter.
    :param preprocess: preprocessor steps run on each line crop before the model's own
        chain (the one recorded in the model file): names, ``(name, options)`` pairs or
        ``{"name", "options"}`` dicts.
    :param replace_preprocess: run ``preprocess`` instead of the model's chain; it must
        then end in a grey image of the model's input height.
    :param postprocessors: names, ``(name, options)`` pairs or ``{"name", "options"}`` dicts;
        ``None``: the model's own (its file's ``postprocessors`` metadata: the bundled
        ``default`` writes a word read mostly in capitals in capitals), ``[]`` for none.
    :param loader: a loader name, or ``None`` to choose one by file suffix.
    :param loader_options: options for the loader (only with ``loader``).
    :param batch_size: lines per forward pass of the network.
    :param device: ``"cpu"``, ``"cuda"``, or ``"auto"`` for a GPU when there is one.
    :param backend: what runs the network: ``"torch"``, ``"onnx"`` (onnxruntime, the extra
        ``htrkit[onnx]``) or ``"auto"``: onnx on the CPU when it is installed and the model
        has an ONNX form (the bundled ones do; :func:`load_recognizer`).
    :param threads: the onnx backend's threads (runs of a few lines side by side), the
        threads that decode a batch's lines at once, and a segmenter's own threads where it
        has ``limit_threads`` (0: one per core this process may use, within its CPU affinity
        and a container's CPU quota).
    :param lang: the language the decoder's language model and lexicon are for: ``en``,
        ``fr``, ``de``, ``mixed`` (the ``default`` ones, built from all the training text),
        or ``auto``, per page: the language whose character model explains the page's
        greedy reading best (reported as ``Result.lang``). Only a decoder option naming
        the bundled resource (``lm="default"``, ``lexicon="default"``) changes; a decoder
        that has none reads the same in every language.
    :param min_confidence: lines read with a lower confidence (stamps, signatures,
        scribbles) are flagged ``low_confidence`` and left out of ``Result.text`` (and so
        of the plain-text outputs); ALTO, PAGE, hOCR and JSON keep them, flagged. ``None``:
        the model's own (its ``min_confidence`` metadata), else 0 (keep every line).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | Recognizer = DEFAULT_MODEL,
        *,
        decoder: str = "auto",
        decoder_options: Mapping[str, Any] | None = None,
        segmenter: str = "auto",
        segmenter_options: Mapping[str, Any] | None = None,
        preprocess: Sequence[StageSpec] = (),
        replace_preprocess: bool = False,
        postprocessors: Sequence[StageSpec] | None = None,
        loader: str | None = None,
        loader_options: Mapping[str, Any] | None = None,
        batch_size: int = 16,
        device: str = "cpu",
        backend: str = "auto",
        threads: int = 0,
        lang: str = "auto",
        min_confidence: float | None = None,
    ):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 0:
            raise ConfigError(f"threads must be 0 (one per core) or more, got {threads!r}")
        self.recognizer = load_recognizer(model, device=device, backend=backend, threads=threads)
        self._decoding = DecodingPool(threads)
        decoder, decoder_options = model_decoding(self.recognizer, decoder, decoder_options)
        self.min_confidence = min_confidence_of(self.recognizer, min_confidence)
        self.decoder_name = registry("decoder").get(decoder).name
        self.decoder_options = registry("decoder").get(decoder).validate(decoder_options)
        self.decoder = registry("decoder").create(decoder, self.decoder_options)
        self._languages(languages.check(lang))
        self.segmenter_name = registry("segmenter").get(segmenter).name
        self.segmenter_options = registry("segmenter").get(segmenter).validate(segmenter_options)
        self.segmenter = registry("segmenter").create(segmenter, self.segmenter_options)
        limit = getattr(self.segmenter, "limit_threads", None)
        if callable(limit):  # its own threads within the pipeline's: the cores this process
            # may use, not the machine's (a pinned process, a container's CPU quota)
            limit(threads or available_cores())
        if not isinstance(replace_preprocess, bool):
            raise ConfigError(
                f"replace_preprocess must be true or false, got {replace_preprocess!r}"
            )
        if replace_preprocess and not preprocess:
            raise ConfigError("replace_preprocess needs the preprocess steps to run instead")
        stages = _stages(preprocess, "preprocess")
        specs = [(registry("preprocessor").get(n), opts) for n, opts in stages]
        steps = [(spec, spec.validate(opts)) for spec, opts in specs]
        self._preprocess_config = [{"name": s.name, "options": asdict(o)} for s, o in steps]
        own = PreprocessChain([s.create(o) for s, o in steps], [s.name for s, _ in steps])
        self.replace_preprocess = replace_preprocess
        self.preprocess = own if replace_preprocess else own + self.recognizer.preprocess
        if postprocessors is None:  # the model's own (its file's metadata), else none
            postprocessors = self.recognizer.config.metadata.get("postprocessors", [])
        post = _stages(postprocessors, "postprocessors")
        self.postprocessors = [registry("postprocessor").create(n, opts) for n, opts in post]
        self._postprocessor_config = [{"name": n, "options": opts} for n, opts in post]
        self.loader = None
        if loader is not None:
            self.loader = registry("loader").create(loader, loader_options)
        elif loader_options:
            raise ConfigError("loader_options given without a loader")
        self.batch_size = batch_size

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], **overrides: Any) -> Pipeline:
        """Build a pipeline from a TOML file whose keys are this class's arguments::

        model = "model.safetensors"     # relative to the TOML file
        decoder = "beam"
        batch_size = 32
        [decoder_options]
        beam_width = 16
        """
        config = read_config(path)
        config.update(overrides)
        return cls(**config)

    # -- running ---------------------------------------------------------------------

    def __call__(self, item: Input) -> Result:
        """Recognise one image (path, array or :class:`Page`)."""
        return self.batch([item])[0]

    def batch(
        self,
        items: Iterable[Input],
        *,
        errors: Literal["raise", "collect"] = "raise",
        progress: Callable[[int], None] | None = None,
        loaded: Callable[[int, Page], None] | None = None,
    ) -> list[Result]:
        """Recognise many images, putting the lines of all of them through the network in
        batches of ``batch_size``.

        :param errors: ``"raise"`` stops at the first bad input; ``"collect"`` returns a
            :class:`Result` whose ``error`` says what went wrong, and carries on.
        :param progress: called with the number of inputs finished, as they finish.
        :param loaded: called with each input's index and its loaded :class:`Page` (to draw
            on the page, say, without loading it again).
        """
        if errors not in ("raise", "collect"):
            raise ConfigError(f"errors must be 'raise' or 'collect', got {errors!r}")
        results: list[Result] = []
        pages: list[Page | None] = []
        for item in items:
            try:
                page = self.load(item)
            except InputError as exc:
                if errors == "raise":
                    raise
                results.append(Result(source=_name(item), width=0, height=0, error=str(exc)))
                pages.append(None)
                continue
            results.append(Result(source=page.source, width=page.width, height=page.height))
            pages.append(page)
            if loaded is not None:
                loaded(len(pages) - 1, page)
        if progress:
            progress(sum(p is None for p in pages))

        jobs: list[_LineJob] = []
        for index, page in enumerate(pages):
            if page is None:
                continue
            try:
                jobs += self._prepare(index, page)
            except InputError as exc:
                if errors == "raise":
                    raise
                results[index].error = str(exc)
                pages[index] = None

        lines: dict[int, list[LineResult]] = {}
        for job, line, lang in self._recognise(jobs):
            lines.setdefault(job.page, []).append(line)
            results[job.page].lang = lang
        for index, page in enumerate(pages):
            if page is not None:
                results[index].lines = lines.get(index, [])
        if progress:
            progress(sum(p is not None for p in pages))
        return results

    # -- stages ----------------------------------------------------------------------

    def load(self, item: Input) -> Page:
        """Turn a path, array or :class:`Page` into a :class:`Page`."""
        if isinstance(item, Page):
            return replace(item, image=as_uint8(item.image, item.source))
        if isinstance(item, np.ndarray):
            return Page(source="<array>", image=as_uint8(item, "<array>"))
        if isinstance(item, (str, os.PathLike)):
            loader = self.loader or loader_for(Path(item))
            return loader.load(Path(item))
        if hasattr(item, "mode") and hasattr(item, "size"):  # a PIL image
            from htrkit.imageio import pil_to_array

            return Page(source="<image>", image=pil_to_array(item))
        raise InputError(f"cannot recognise an input of type {type(item).__name__}")

    def _prepare(self, index: int, page: Page) -> list[_LineJob]:
        regions = page.lines if page.lines is not None else self.segmenter.segment(page.image)
        jobs = []
        for region in regions:
            crop = crop_line(page.image, region)
            if crop.shape[0] == 0 or crop.shape[1] == 0:
                continue
            # the chain runs once: its x map must describe the image the network sees
            image, to_input = self.preprocess.run(crop)
            jobs.append(_LineJob(index, region, image, to_input, (page.width, page.height)))
        return jobs

    def _languages(self, lang: str) -> None:
        """Set the decoder (or, for ``auto``, the options of a decoder per language, each
        built when a page first needs it) that reads ``lang``."""
        self.lang = lang
        self._chooser: languages.LanguageChooser | None = None
        self._decoders: dict[str, Any] = {}
        self._language_options: dict[str, Any] = {}
        names = languages.for_language(self.decoder_options, lang)
        if not names or lang == "mixed":
            return
        for each in languages.LANGUAGES if lang == "auto" else (lang,):
            options = replace(self.decoder_options, **{name: each for name in names})
            self._language_options[each] = options
        if lang == "auto":
            self._chooser = languages.LanguageChooser()
        else:
            self.decoder_options = self._language_options[lang]
            self.decoder = self._language_decoder(lang)

    def _language_decoder(self, lang: str) -> Any:
        decoder = self._decoders.get(lang)
        if decoder is None:
            spec = registry("decoder").get(self.decoder_name)
            decoder = self._decoders[lang] = spec.create(self._language_options[lang])
        return decoder

    def _page_decoders(self, pages: list[list[LineReading]]) -> list[tuple[Any, str | None]]:
        """The decoder for each page's lines, and the language it reads."""
        if self._chooser is None:
            # a language the user named is the page's, whatever the decoder reads with
            lang = self.lang if self.lang in languages.LANGUAGES else None
            return [(self.decoder, lang)] * len(pages)
        chars = self.recognizer.alphabet.chars
        chooser = self._chooser
        # the pages' languages chosen on the decoding threads (the scoring is compiled,
        # and releases the GIL), their decoders made here
        chosen = self._decoding.map(
            lambda readings: chooser.choose_greedy([r.log_probs for r in readings], chars), pages
        )
        # nothing to tell languages apart by: the mixed model reads it
        return [
            (self.decoder, None) if lang is None else (self._language_decoder(lang), lang)
            for lang in chosen
        ]

    def _recognise(self, jobs: list[_LineJob]) -> Iterable[tuple[_LineJob, LineResult, str | None]]:
        readings = self.recognizer.read_prepared(
            [(j.image, j.to_input) for j in jobs], self.batch_size
        )
        pages = [list(page) for _, page in
                 itertools.groupby(zip(jobs, readings), key=lambda jr: jr[0].page)]  # fmt: skip
        chosen = self._page_decoders([[reading for _, reading in pairs] for pairs in pages])
        # every line of the batch decoded at once, on the pool's threads where it can
        work = [(decoder, r.log_probs) for (decoder, _), pairs in zip(chosen, pages)
                for _, r in pairs]  # fmt: skip
        decodings = iter(self._decoding.decode(work, self.recognizer.alphabet))
        for (_, lang), pairs in zip(chosen, pages):
            for job, reading in pairs:
                line = self._line(job, reading, next(decodings))
                line = clip_to_page(line, *job.size)
                for post in self.postprocessors:
                    line = post(line)
                if line.confidence < self.min_confidence:
                    line.flags["low_confidence"] = True
                yield job, line, lang

    def _line(self, job: _LineJob, reading: LineReading, decoding: Any) -> LineResult:
        x0 = job.region.bbox[0]
        chars = []
        if decoding.chars:
            frames = np.array([[c.start, c.end] for c in decoding.chars], dtype=np.float64)
            xs = reading.frames_to_x(frames.ravel()).reshape(-1, 2) + x0
            xs.sort(axis=1)  # a step that turned the line maps a start past its end
            chars = [
                CharResult(c.char, float(a), float(b), c.prob, c.start)
                for c, (a, b) in zip(decoding.chars, xs)
            ]
        return LineResult(
            text=decoding.text,
            confidence=float(decoding.confidence),
            bbox=tuple(int(v) for v in job.region.bbox),
            polygon=[tuple(map(float, p)) for p in job.region.polygon],
            baseline=[tuple(map(float, p)) for p in job.region.baseline],
            chars=chars,
            id=job.region.id,
            flags=dict(getattr(decoding, "flags", None) or {}),
        )

    def describe(self) -> dict[str, Any]:
        """The pipeline's configuration, in the form :meth:`from_config` reads."""
        return {
            "model": self.recognizer.source,
            "decoder": self.decoder_name,
            "decoder_options": asdict(self.decoder_options),
            "lang": self.lang,
            "segmenter": self.segmenter_name,
            "segmenter_options": asdict(self.segmenter_options),
            "preprocess": self._preprocess_config,
            "replace_preprocess": self.replace_preprocess,
            "postprocessors": self._postprocessor_config,
            "batch_size": self.batch_size,
            "min_confidence": self.min_confidence,
        }


# -- helpers ---------------------------------------------------------------------------


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a pipeline TOML file (:func:`htrkit.configfile.read_config` with this class's
    arguments as its keys); a relative ``model`` path is taken from the file's folder."""
    import inspect

    keys = set(inspect.signature(Pipeline.__init__).parameters) - {"self"}
    return configfile.read_config(path, keys)


def _stages(specs: Any, what: str) -> list[tuple[str, Mapping[str, Any] | None]]:
    """The ``(name, options)`` of each stage of a list (``preprocess``, ``postprocessors``)."""
    if isinstance(specs, (str, Mapping)) or not isinstance(specs, (list, tuple)):
        raise ConfigError(f"{what} must be a list of stages, got {specs!r}")
    return [_stage(spec) for spec in specs]


def _stage(spec: StageSpec) -> tuple[str, Mapping[str, Any] | None]:
    if isinstance(spec, str):
        return spec, None
    if isinstance(spec, Mapping):
        if "name" not in spec or set(spec) - {"name", "options"}:
            raise ConfigError(f"a stage must be {{'name': ..., 'options': {{...}}}}, got {spec!r}")
        return spec["name"], spec.get("options")
    if isinstance(spec, tuple) and len(spec) == 2:
        return spec[0], spec[1]
    raise ConfigError(
        f"cannot read stage {spec!r}: give a name, or a table with name and options "
        '(TOML: {name = "unicode", options = {form = "NFD"}}; Python: (name, options) too)'
    )


def _name(item: Any) -> str:
    if isinstance(item, (str, os.PathLike)):
        return str(item)
    if isinstance(item, Page):
        return item.source
    return f"<{type(item).__name__}>"


__all__ = [
    "Pipeline",
    "is_model_path",
    "load_recognizer",
    "loader_for",
    "model_decoding",
    "read_config",
]
