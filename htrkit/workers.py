"""What one reader of a collection job does, on a local worker process or a Ray actor
(:mod:`htrkit.jobs`, :mod:`htrkit.engines`): build the pipeline and writer once, then read
one input into the text of its output file."""

from __future__ import annotations

import io
from typing import Any

from htrkit.errors import InputError


def render(writer: Any, result: Any) -> str:
    buffer = io.StringIO()
    writer.write([result], buffer)
    return buffer.getvalue()


def read_one(pipe: Any, writer: Any, source: str) -> tuple[str, str]:
    """``(output text, "")`` for an input read, ``("", reason)`` for one that failed."""
    try:
        result = pipe.batch([source], errors="collect")[0]
    except InputError as exc:  # raised by a stage outside the collected ones
        return "", str(exc)
    except Exception as exc:  # a bug in a stage: this input fails, the others go on
        return "", f"internal error: {type(exc).__name__}: {exc}"
    if not result.ok:
        return "", str(result.error)
    return render(writer, result), ""


def make_reader(settings: dict[str, Any], fmt: str, threads: int) -> tuple[Any, Any]:
    """The pipeline and writer a worker uses (each worker builds its own once)."""
    from htrkit.pipeline import Pipeline
    from htrkit.plugins import registry

    settings = dict(settings)
    writer_options = settings.pop("writer_options", None)
    if settings.get("backend") == "torch" or settings.get("device", "cpu") != "cpu":
        import torch

        torch.set_num_threads(max(threads, 1))
    # the onnx backend's runs, the decoding pool and the page segmenter's session
    settings["threads"] = threads
    return Pipeline(**settings), registry("writer").create(fmt, writer_options)
