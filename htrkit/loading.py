"""What a pipeline runs, found from what it is given: the recogniser (a model file, an
ONNX file or an installed model's name, on a device and a backend), the decoding and the
confidence floor its model names, the loader for an input file, and the inputs that
command-line arguments (files, folders, globs, multi-page files) stand for."""

from __future__ import annotations

import glob
import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from htrkit.errors import ConfigError, InputError, ModelError, ModelNotFoundError
from htrkit.modelfile import is_model_path
from htrkit.plugins import registry
from htrkit.recognizer import LineReader, Recognizer

#: the model a pipeline reads with when none is named
DEFAULT_MODEL = "default"


def model_decoding(
    recognizer: LineReader, decoder: str, options: Mapping[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """The decoder and options that ``decoder="auto"`` means for this model: the file's
    ``decoding`` metadata (``{"decoder": "kenlm", "options": {"level": "char"}}``), with the
    given options over the model's, or ``greedy`` for a model that names none. Another
    decoder name is returned as it is."""
    if options is not None and not isinstance(options, Mapping):
        raise ConfigError(f"decoder_options must be a table of options, got {options!r}")
    given = dict(options or {})
    if decoder != "auto":
        return decoder, given
    wanted = recognizer.config.metadata.get("decoding")
    if not wanted:
        return "greedy", given
    name = wanted.get("decoder") if isinstance(wanted, dict) else None
    own = wanted.get("options", {}) if isinstance(wanted, dict) else None
    if not isinstance(name, str) or not isinstance(own, dict):
        raise ModelError(
            f"{recognizer.source}: the model's decoding metadata must be "
            f'{{"decoder": NAME, "options": {{...}}}}, got {wanted!r}'
        )
    if name not in registry("decoder"):
        raise ModelError(
            f"{recognizer.source}: the model decodes with {name!r}, which is not installed; "
            "choose a decoder (--decoder greedy)"
        )
    return name, {**own, **given}


def min_confidence(recognizer: LineReader, given: float | None) -> float:
    """The confidence under which a line is flagged: the given one, else the model's
    (its file's ``min_confidence`` metadata), else 0."""
    value = given if given is not None else recognizer.config.metadata.get("min_confidence", 0)
    what = "min_confidence" if given is not None else f"{recognizer.source}: min_confidence"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{what} must be a number from 0 to 1, got {value!r}")
    if not 0 <= value <= 1:
        raise ConfigError(f"{what} must be from 0 to 1, got {value!r}")
    return float(value)


_PAGE_REF = re.compile(r"#page=\d+$")


def load_recognizer(
    model: Any, device: str = "cpu", backend: str = "auto", threads: int = 0
) -> LineReader:
    """A recogniser from a path (safetensors or ONNX), a registered model name, or a
    recogniser, run by ``backend``:

    - ``torch``: the network in PyTorch (on ``device``);
    - ``onnx``: its ONNX form in onnxruntime (:func:`htrkit.onnxmodel.onnx_form`: the
      ``.onnx`` file beside the model, or an export cached on first use);
    - ``auto``: ``onnx`` when onnxruntime is installed, the device is the CPU and an ONNX
      form exists already (the bundled models ship one), else ``torch``.

    ``threads``: onnxruntime's threads (0: one per core); torch's are set by the caller.
    """
    from htrkit import onnxmodel

    if backend not in onnxmodel.BACKENDS:
        raise ConfigError(f"backend must be auto, torch or onnx, got {backend!r}")
    if isinstance(model, LineReader):
        return model
    if not isinstance(model, (str, os.PathLike)):
        raise ModelError(f"model must be a path or a name, got {type(model).__name__}")
    if str(model).endswith(".onnx"):
        if backend == "torch":
            raise ConfigError(f"{model}: an ONNX file runs with the onnx backend, not torch")
        if device not in ("cpu", "auto"):
            raise ConfigError(f"{model}: the onnx backend runs on the CPU, not {device!r}")
        return onnxmodel.OnnxRecognizer.load(model, threads=threads)
    path = Path(model) if is_model_path(str(model)) else _installed(str(model))
    device = _device(device)
    if backend == "onnx" and device != "cpu":
        raise ConfigError(f"the onnx backend runs on the CPU, not {device!r}; use --backend torch")
    if backend == "onnx" or (backend == "auto" and device == "cpu" and onnxmodel.available()):
        found = None
        if path.is_file():
            found = onnxmodel.onnx_form(path, threads=threads, export_if_missing=backend == "onnx")
        elif backend == "onnx":
            raise ModelNotFoundError(f"{path}: no such model file")
        if found is not None:
            return found
    return Recognizer.load(path, device=device)


def _installed(model: str) -> Path:
    models = registry("model")
    if model not in models:
        available = ", ".join(models.names()) or "none installed"
        if model == DEFAULT_MODEL:
            raise ModelNotFoundError(
                f"no default model is installed (models: {available}); pass a model file "
                "with --model PATH or Pipeline(model=PATH)"
            )
        raise ModelNotFoundError(
            f"{model!r} is neither a model file nor a known model; models: {available}"
        )
    return Path(models.create(model))


def loader_for(path: Path) -> Any:
    """The registered loader that claims this file's suffix (images by default); a page of
    a multi-page file (``scans.pdf#page=3``) goes to its file's loader."""
    suffix = Path(_PAGE_REF.sub("", str(path))).suffix.lower()
    loaders = registry("loader")
    for spec in loaders:
        if suffix in spec.suffixes:
            return spec.create()
    return loaders.create("image")


def folder_suffixes() -> list[str]:
    """The suffixes of the files a folder given as input is read for: every registered
    loader's but ``.xml`` (a folder's XML files are the layouts of its images, not inputs
    of their own: name them, or a glob, to read along their lines)."""
    return sorted({s for spec in registry("loader") for s in spec.suffixes} - {".xml"})


def expand_inputs(patterns: list[str], suffixes: list[str]) -> Iterator[str | InputError]:
    """Files for each argument: a file as is, a directory's files (recursively) with a
    readable suffix, or a glob's matches. Problems come back as :class:`InputError` items,
    so that the other inputs still run."""
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
            )
            if not found:
                yield _rejected(
                    pattern,
                    f"{pattern}: no images found in directory (looked for {', '.join(suffixes)})",
                )
            yield from (str(p) for p in found)
        elif not path.exists() and glob.has_magic(pattern):
            matches = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
            if not matches:
                yield _rejected(pattern, f"{pattern}: no files match")
            yield from matches
        else:
            yield pattern  # a file, or a missing path the loader reports


def expand_pages(items: Iterator[str | InputError], loader: object = None):
    """Each input as the inputs it stands for: a multi-page file (a PDF) whose loader has
    ``sources(path)`` becomes one input per page; problems become :class:`InputError`
    items."""
    for item in items:
        if isinstance(item, InputError) or not Path(item).is_file():
            yield item
            continue
        chosen = loader if loader is not None else loader_for(Path(item))
        sources = getattr(chosen, "sources", None)
        if sources is None:
            yield item
            continue
        try:
            yield from sources(Path(item))
        except InputError as exc:
            exc.source = item  # type: ignore[attr-defined]
            yield exc


def _rejected(source: str, message: str) -> InputError:
    """An input found unreadable before reading: the error, knowing its input (``source``,
    for a collection job's errors.tsv)."""
    error = InputError(message)
    error.source = source  # type: ignore[attr-defined]
    return error


def _device(device: str) -> str:
    if device not in ("cpu", "cuda", "auto") and not str(device).startswith("cuda:"):
        raise ConfigError(f"device must be cpu, cuda or auto, got {device!r}")
    if device == "cpu":
        return device
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise ConfigError(
            f"--device {device}: torch sees no CUDA device (a CPU-only torch, or no GPU); "
            "use --device cpu or auto"
        )
    return device
