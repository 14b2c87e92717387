"""``htrkit run``: recognise images and write the text."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import typer

from htrkit.atomic import check_output, check_parents
from htrkit.cli.common import progress_bar
from htrkit.errors import ConfigError, InputError, ModelError
from htrkit.jobs import atomic_write, output_stem, parse_jobs
from htrkit.workers import render

# inputs read per call of Pipeline.batch: bounds memory, keeps the progress bar moving
CHUNK = 32


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(
    inputs: list[str] = typer.Argument(..., help="Image files, directories or globs."),
    model: Optional[str] = typer.Option(
        None, "--model", "-m", help="Model file or installed model name [default: default]."
    ),
    decoder: Optional[str] = typer.Option(
        None,
        "--decoder",
        "-d",
        help="Decoder name [default: auto, the model's own: the character LM for the bundled "
        "default model, greedy for a model that names none].",
    ),
    option: list[str] = typer.Option(
        [], "--option", "-O", help="Decoder option key=value (repeatable)."
    ),
    segmenter: Optional[str] = typer.Option(None, "--segmenter", help="Line segmenter name."),
    segmenter_option: list[str] = typer.Option(
        [], "--segmenter-option", help="Segmenter option key=value (repeatable)."
    ),
    preprocess: list[str] = typer.Option(
        [],
        "--preprocess",
        help="Preprocessor run on each line before the model's own steps (repeatable, in order).",
    ),
    preprocess_option: list[str] = typer.Option(
        [],
        "--preprocess-option",
        "-P",
        help="Preprocessor option key=value, or NAME.key=value with several --preprocess "
        "(repeatable).",
    ),
    replace_preprocess: Optional[bool] = typer.Option(
        None,
        "--replace-preprocess/--keep-preprocess",
        help="Run the --preprocess steps instead of the model's own [default: before them].",
    ),
    postprocess: list[str] = typer.Option(
        [], "--postprocess", "-p", help="Postprocessor name (repeatable, in order)."
    ),
    postprocess_option: list[str] = typer.Option(
        [],
        "--postprocess-option",
        help="Postprocessor option key=value, or NAME.key=value with several --postprocess "
        "(repeatable).",
    ),
    loader: Optional[str] = typer.Option(
        None, "--loader", help="Loader name [default: chosen by file suffix]."
    ),
    fmt: str = typer.Option("txt", "--format", "-f", help="Output format (writer name)."),
    format_option: list[str] = typer.Option(
        [], "--format-option", help="Writer option key=value (repeatable)."
    ),
    output: Optional[str] = typer.Option(
        None,
        "--output",
        "-o",
        help="Output file, or a directory (existing, ending in /, or without a suffix) for "
        "one file per input. Default: stdout.",
    ),
    overlay: Optional[str] = typer.Option(
        None,
        "--overlay",
        help="Draw the lines and their text over each page: a PNG file (one input) or a "
        "directory (one <name>.png per input).",
    ),
    config: Optional[Path] = typer.Option(
        None, "--config", "-c", help="Pipeline TOML file; other options override it."
    ),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Lines per forward pass."),
    device: Optional[str] = typer.Option(
        None, "--device", help="cpu, cuda or auto [default: cpu]."
    ),
    backend: Optional[str] = typer.Option(
        None,
        "--backend",
        help="What runs the network: torch, onnx (onnxruntime) or auto [default: auto: onnx "
        "when installed and the model has an ONNX form].",
    ),
    threads: Optional[int] = typer.Option(
        None, "--threads", help="Threads for the network [default: one per core].", min=0
    ),
    lang: Optional[str] = typer.Option(
        None,
        "--lang",
        help="Language of the language model and lexicon: en, fr, de, mixed, or auto: per "
        "page, the one that explains its reading best [default: auto].",
    ),
    min_confidence: Optional[float] = typer.Option(
        None,
        "--min-confidence",
        help="Leave lines read below this confidence (0-1: stamps, signatures, scribbles) "
        "out of the text; ALTO, PAGE, hOCR and JSON keep them, flagged [default: the "
        "model's own].",
    ),
    jobs: str = typer.Option(
        "1",
        "--jobs",
        "-j",
        help="Worker processes (with -o OUT/), each loading the model once; the cores are "
        "divided among them. auto: one per core, within the inputs and the free memory. "
        "With --engine ray: the number of Ray actors.",
    ),
    engine: str = typer.Option(
        "local", "--engine", help="local, or ray: a Ray Data job on a Ray cluster (-o OUT/)."
    ),
    address: Optional[str] = typer.Option(
        None,
        "--address",
        help="With --engine ray: the cluster to join (auto, or ray://host:10001) "
        "[default: a local Ray started for this run].",
    ),
    overwrite: bool = typer.Option(
        False,
        "--overwrite",
        help="Replace existing outputs, and redo a folder written with other settings.",
    ),
    progress: Optional[bool] = typer.Option(
        None, "--progress/--no-progress", help="Show a progress bar [default: on a terminal]."
    ),
) -> None:
    """Recognise handwriting in images and print or write the text.

    With -o OUT/ (a folder) it is a collection job: one file per input, written atomically;
    a rerun with the same settings skips what is done (OUT/htrkit-job.json records them),
    failures are listed in OUT/errors.tsv. --jobs N reads with N processes, --engine ray
    on a Ray cluster.

    Exit status: 0 when every input was read, 1 when some failed (each failure is reported
    on stderr and the others still finish), 2 for bad usage (nothing is read then).
    """
    from htrkit.loading import expand_inputs, expand_pages, folder_suffixes
    from htrkit.pipeline import Pipeline, read_config
    from htrkit.plugins import registry

    _check_pixel_limit()

    settings = read_config(config) if config else {}
    settings.update(
        _overrides(
            model=model, decoder=decoder, segmenter=segmenter, batch_size=batch_size,
            postprocessors=_steps(postprocess, postprocess_option, "--postprocess", "")
            if postprocess else None, device=device, loader=loader, backend=backend,
            threads=threads, lang=lang, min_confidence=min_confidence,
            replace_preprocess=replace_preprocess,
            preprocess=_steps(preprocess, preprocess_option, "--preprocess", "-P")
            if preprocess else None,
        )
    )  # fmt: skip
    if preprocess_option and not preprocess:
        raise ConfigError("--preprocess-option (-P) needs a --preprocess step to apply to")
    if postprocess_option and not postprocess:
        raise ConfigError("--postprocess-option needs a --postprocess step to apply to")
    _merge_options(settings, "decoder_options", option)
    _merge_options(settings, "segmenter_options", segmenter_option)
    writer_spec = registry("writer").get(fmt)
    writer_options = _writer_options(writer_spec, format_option)
    out_dir = _output_dir(output)
    output_file = Path(output) if output is not None and out_dir is None else None
    jobs = parse_jobs(jobs)
    overlay_path = Path(overlay) if overlay is not None else None
    _check_engine(engine, jobs, address, collection=out_dir is not None and overlay is None)
    if output_file is not None:
        check_output(output_file, overwrite)
    if overlay_path is not None and not _names_folder(overlay) and len(inputs) == 1:
        check_output(overlay_path, overwrite, "--overlay")
    if engine == "ray":
        from htrkit.engines import connect

        connect(address, jobs)  # before the model's runtime starts its threads
    pipe = Pipeline(**settings)

    items = list(expand_pages(expand_inputs(inputs, folder_suffixes()), pipe.loader))
    show = sys.stderr.isatty() if progress is None else progress
    if out_dir is not None and overlay is None:
        _make_folders(out_dir)
        _collection(items, settings, pipe, fmt, out_dir, overwrite, jobs, engine, address, show,
                    writer_options)  # fmt: skip
        return
    if writer_spec.per_input and out_dir is None and len(items) > 1:
        raise ConfigError(
            f"--format {fmt} writes one document per page: give a directory (-o out/) "
            f"for the {len(items)} inputs"
        )
    overlay_dir = _overlay_dir(overlay, len(items))
    _make_folders(out_dir, overlay_dir)
    where = _Outputs(
        writer_spec.create(writer_options or None), writer_spec.suffix, output_file, out_dir,
        overlay_path, overlay_dir, overwrite, whole=not writer_spec.per_input,
    )  # fmt: skip
    where.name_targets([i for i in items if not isinstance(i, InputError)])
    try:
        failed = _read(items, pipe, where, show)
    except ModelError as exc:
        if preprocess:  # --preprocess steps that do not fit the model: bad usage
            raise ConfigError(str(exc)) from exc
        raise
    if failed:
        sys.stderr.write(f"htrkit: {failed} of {len(items)} inputs failed\n")
        raise typer.Exit(1)


def _writer_options(spec: Any, pairs: list[str]) -> dict[str, Any]:
    """``--format-option`` pairs, checked against the writer's options before reading."""
    from htrkit.options import parse_key_values

    options = parse_key_values(pairs)
    if options:
        spec.validate(options)
    return options


def _check_pixel_limit() -> None:
    """A bad ``HTRKIT_MAX_IMAGE_PIXELS`` is bad usage, said once, not a failure per input."""
    from htrkit.imageio import max_image_pixels

    try:
        max_image_pixels()
    except InputError as exc:
        raise ConfigError(str(exc)) from None


def _overrides(**values: object) -> dict[str, object]:
    """The command line's settings, those given."""
    return {k: v for k, v in values.items() if v is not None}


def _merge_options(settings: dict, key: str, pairs: list[str]) -> None:
    """``-O`` / ``--segmenter-option`` pairs over the configuration file's ``key`` table."""
    from htrkit.options import parse_key_values

    if pairs:
        settings[key] = {**settings.get(key, {}), **parse_key_values(pairs)}


def _check_engine(engine: str, jobs: int | str, address: str | None, collection: bool) -> None:
    if engine not in ("local", "ray"):
        raise ConfigError(f"--engine must be local or ray, got {engine!r}")
    if jobs == "auto" and engine == "ray":
        raise ConfigError("--jobs auto is for the local engine: give Ray a number of actors")
    if (jobs == "auto" or jobs > 1 or engine == "ray") and not collection:
        what = "--engine ray" if engine == "ray" else f"--jobs {jobs}"
        raise ConfigError(
            f"{what} reads a collection into a folder: give -o OUT/ (and no --overlay)"
        )
    if address and engine != "ray":
        raise ConfigError("--address is the Ray cluster of --engine ray")


def _overlay_dir(overlay: str | None, count: int) -> Path | None:
    """The folder of one overlay per input, or None for one PNG file (or none)."""
    if overlay is None:
        return None
    folder = _output_dir(overlay, "--overlay")
    if folder is not None:
        return folder
    if count > 1:
        raise ConfigError(f"--overlay {overlay}: give a directory for several inputs")
    if Path(overlay).suffix.lower() != ".png":
        raise ConfigError(f"--overlay {overlay}: the overlay is written as PNG (.png)")
    return None


@dataclass
class _Outputs:
    """Where a run without a collection job writes: stdout, one file, or a folder (with
    ``--overlay``), and the overlays."""

    writer: Any
    suffix: str
    output: Path | None
    out_dir: Path | None
    overlay: Path | None
    overlay_dir: Path | None
    overwrite: bool
    #: the writer takes every input's result, failed ones too (txt, json, tsv: one
    #: document for all), not one page at a time (page, alto, hocr)
    whole: bool = True
    texts: list[Path] = field(default_factory=list)
    overlays: list[Path] = field(default_factory=list)
    collected: list = field(default_factory=list)

    def name_targets(self, sources: list[str]) -> None:
        """Each input's output and overlay file, named in input order (so a name never
        depends on which inputs fail); bad usage when one exists and ``--overwrite`` was
        not given, before anything is read."""
        for folder, suffix, names in (
            (self.out_dir, self.suffix, self.texts),
            (self.overlay_dir, ".png", self.overlays),
        ):
            if folder is None:
                continue
            taken: set[str] = set()
            names += [_unique(folder, output_stem(str(s)), suffix, taken) for s in sources]
            there = [t for t in names if t.exists()]
            if there and not self.overwrite:
                more = f" (and {len(there) - 1} more)" if len(there) > 1 else ""
                raise ConfigError(f"{there[0]}: exists{more}; give --overwrite to replace it")

    def add(self, result: Any, image: Any, position: int) -> bool:
        """Write (or keep) the result of the ``position``-th readable input and its
        overlay; False when that failed."""
        if self.overlay is not None:
            target = self.overlays[position] if self.overlays else self.overlay
            if not _draw(image, result, target):
                return False
        if self.out_dir is None:
            self.collected.append(result)
            return True
        atomic_write(self.texts[position], render(self.writer, result))
        return True

    def failed(self, source: str, message: str) -> None:
        """An input that failed: a document for all inputs names it, with its error."""
        if self.out_dir is None and self.whole:
            from htrkit.results import Result

            self.collected.append(Result(source=source, width=0, height=0, error=message))

    def finish(self) -> None:
        """The kept results as one document, to the output file or stdout."""
        if self.out_dir is not None:
            return
        if self.output is not None:
            if not self.collected and not self.whole:
                return  # one page's document, and the page failed: no empty file
            self.output.parent.mkdir(parents=True, exist_ok=True)
            buffer = io.StringIO()
            self.writer.write(self.collected, buffer)
            atomic_write(self.output, buffer.getvalue())
        elif self.collected:
            self.writer.write(self.collected, sys.stdout)
            sys.stdout.flush()


def _read(items: list, pipe: Any, where: _Outputs, show: bool) -> int:
    """Read ``items`` in chunks, reporting failures in input order; the number failed."""
    failed, readable = 0, -1  # readable: the position among the inputs that can be read
    with progress_bar(len(items), "reading", enabled=show and len(items) > 1) as advance:
        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]
            good = [i for i in chunk if not isinstance(i, InputError)]
            images: dict[int, Any] = {}  # this chunk's pages, to draw overlays on
            keep = images.__setitem__ if where.overlay is not None else None
            results = iter(pipe.batch(good, errors="collect", progress=advance, loaded=keep))
            advance(len(chunk) - len(good))
            index = -1
            for item in chunk:
                if not isinstance(item, InputError):
                    index += 1
                    readable += 1
                result = item if isinstance(item, InputError) else next(results)
                if isinstance(result, InputError) or not result.ok:
                    failed += 1
                    message = str(result) if isinstance(result, InputError) else result.error
                    _report(message)
                    where.failed(_source_of(item, message), message)
                    continue
                page = images.pop(index).image if where.overlay is not None else None
                if not where.add(result, page, readable):
                    failed += 1
    where.finish()
    return failed


def _source_of(item: Any, message: str) -> str:
    """The input an item stands for, where an error before reading knows it."""
    if not isinstance(item, InputError):
        return str(item)
    return getattr(item, "source", "") or message.split(": ", 1)[0]


def _collection(items, settings, pipe, fmt, out_dir, overwrite, jobs, engine, address, show,
                writer_options=None):  # fmt: skip
    """-o OUT/: a resumable collection job (htrkit.jobs)."""
    from htrkit.jobs import CollectionJob

    bad = [i for i in items if isinstance(i, InputError)]
    for item in bad:
        _report(str(item))
    sources = [i for i in items if not isinstance(i, InputError)]
    job = CollectionJob(
        settings, pipe, fmt, out_dir, overwrite=overwrite, jobs=jobs, engine=engine,
        address=address, writer_options=writer_options,
    )  # fmt: skip
    rejected = [(getattr(item, "source", "") or str(item).split(": ", 1)[0], str(item))
                for item in bad]  # fmt: skip
    with progress_bar(len(sources), "reading", enabled=show, unit="inputs") as advance:
        summary = job.run(sources, advance, rejected)
    for source, reason in summary.failed[len(bad) :]:
        _report(reason if source in reason else f"{source}: {reason}")
    sys.stderr.write(f"htrkit: {summary.line(out_dir, job.fmt)}\n")
    if summary.failed or bad:
        raise typer.Exit(1)


def _steps(names: list[str], pairs: list[str], flag: str, short: str) -> list[dict]:
    """``--preprocess`` (``--postprocess``) steps with their ``-P``
    (``--postprocess-option``) options: ``key=value`` for a single step, ``NAME.key=value``
    to say which of several."""
    from htrkit.cli.common import options_by_name

    found = options_by_name(pairs, names, short or f"{flag}-option", f"{flag} steps")
    return [{"name": name, "options": dict(found.get(name, {}))} for name in names]


def _output_dir(given: str | None, option: str = "-o") -> Path | None:
    """The folder ``-o`` (or ``--overlay``) names, made by :func:`_make_folders` once all
    is checked: an existing directory, a path ending in ``/``, or one without a suffix;
    None for a file. The text as typed, since a Path forgets the ending ``/`` (``-o
    results.v2/`` is a folder)."""
    if given is None or not _names_folder(given):
        return None
    path = Path(given)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {given}: is a file, not a directory")
    check_parents(path, option)
    return path


def _make_folders(*folders: Path | None) -> None:
    """The output folders, made once every check has passed (a refused run makes none)."""
    for folder in folders:
        if folder is None:
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{folder}: cannot create output directory ({exc})") from None


def _names_folder(given: str) -> bool:
    path = Path(given)
    return path.is_dir() or given.endswith(("/", os.sep)) or not path.suffix


def _unique(folder: Path, stem: str, suffix: str, taken: set[str]) -> Path:
    name, n = f"{stem}{suffix}", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}{suffix}"
    taken.add(name)
    return folder / name


def _draw(image: object, result: object, target: Path) -> bool:
    """The page ``image`` (as the pipeline loaded it) with ``result`` drawn over it."""
    from htrkit.overlay import save_overlay

    try:
        save_overlay(image, result, target)
    except OSError as exc:
        _report(f"{target}: cannot write the overlay ({exc.strerror or exc})")
        return False
    return True


def _report(message: str) -> None:
    from htrkit.cli import error

    error(message)
