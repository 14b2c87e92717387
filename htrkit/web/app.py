"""The web application behind ``htrkit serve``: one page and a small JSON API.

- ``GET /`` (with ``/app.js`` and ``/style.css``): the page. Its three files are read from
  the package when the app is built and served from memory: no request path is ever
  joined to a folder.
- ``POST /api/recognize``: an image (``multipart/form-data`` field ``image``, or JSON with
  ``image`` as base64 or a ``data:`` URL) and options; returns the
  :class:`~htrkit.results.Result` as JSON.
- ``GET /api/plugins``: the installed plugins and their components.
- ``GET /api/config``: the modes, decoders, presets and limits the page builds its menus
  from. ``GET /openapi.json``: the API's OpenAPI description.

Limits: a body over ``max_upload_bytes`` is refused with 413 before it is read; an image
over ``max_pixels`` with 400, from its header; a non-image with 400 and the decoder's
message; more than ``max_pending`` requests waiting with 503. Recognition runs in a pool of
``workers`` threads (each with its own pipelines), never on the event loop. Request
options are whitelisted: no option that names a file (a language model, a lexicon, a
model) can come from a request, and custom regular expressions are refused (a short one
can take minutes to compile), only the pattern presets are taken.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from htrkit.errors import HtrkitError

log = logging.getLogger("htrkit.web")

#: mode -> (which model setting, segmenter and its options, fixed decoder or None). A
#: drawing is trimmed to its ink with a margin in proportion to its height, so that it
#: stands in the line as the training data did: MNIST digits fill 20 of 28 rows
#: (``htrkit/models/digits.md``), lines fill most of theirs.
MODES: dict[str, tuple[str, str, dict[str, Any], tuple[str, dict[str, Any]] | None]] = {
    "digit": ("digit_model", "whole", {"margin_share": 0.3}, ("pattern", {"pattern": r"\d"})),
    "line": ("model", "whole", {"margin_share": 0.1}, None),
    "page": ("model", "auto", {}, None),
}
MODE_ALIASES = {"word": "line", "digits": "digit"}
#: decoders the page offers, with their labels
DECODERS = {
    "greedy": "greedy",
    "beam": "beam search",
    "wordbeam": "lexicon (word beam search)",
    "kenlm": "language model (KenLM)",
    "pattern": "pattern",
}
#: the widest beam a request may ask for (request_options is the whitelist)
MAX_BEAM = 64


class RequestError(Exception):
    """Bad input from a request: answered with ``status`` and the message."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Settings:
    model: str = "default"
    digit_model: str = "digits"
    decoder: str = "greedy"
    max_upload_bytes: int = 10 * 2**20
    max_pixels: int = 40_000_000
    workers: int = 2
    max_pending: int = 16


def request_options(decoder: str, options: Any) -> dict[str, Any]:
    """The decoder options a request asked for, checked against the whitelist."""
    from htrkit.decoders.options import PRESETS

    if options in (None, ""):
        return {}
    if isinstance(options, str):
        try:
            options = json.loads(options)
        except json.JSONDecodeError:
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
                f"option {key!r} is not accepted for decoder {decoder!r} over the web "
                f"(accepted: {', '.join(sorted(allowed)) or 'none'})"
            )
        if key == "beam_width":
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise RequestError(f"beam_width {value!r} is not an integer") from None
            if not 1 <= value <= MAX_BEAM:
                raise RequestError(f"beam_width must be 1-{MAX_BEAM}, got {value}")
        elif key == "level" and value not in ("word", "char"):
            raise RequestError(f"level must be 'word' or 'char', got {value!r}")
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


class Recognition:
    """Pipelines per worker thread, built on first use, and the work a request does. The
    recognisers (read-only once loaded) are loaded once and shared by the threads; the
    decoders and segmenters, which may keep state, are each thread's own."""

    def __init__(self, settings: Settings, recognizers: dict[str, Any]):
        self.settings = settings
        self.recognizers = recognizers  #: model setting name -> Recognizer
        self.pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="htrkit-web")
        self.local = threading.local()
        self.pending = 0
        self.lock = threading.Lock()

    def pipeline(self, mode: str, decoder: str, options: dict[str, Any]) -> Any:
        from htrkit.pipeline import Pipeline

        model_setting, segmenter, segmenter_options, fixed = MODES[mode]
        if fixed is not None:
            decoder, options = fixed
        key = (mode, decoder, json.dumps(options, sort_keys=True))
        cache = getattr(self.local, "pipelines", None)
        if cache is None:
            cache = self.local.pipelines = {}
        if key not in cache:
            cache[key] = Pipeline(
                self.recognizers[model_setting],
                decoder=decoder,
                decoder_options=options,
                segmenter=segmenter,
                segmenter_options=segmenter_options,
            )
        return cache[key]

    def run(self, data: bytes, source: str, mode: str, decoder: str, options: dict) -> dict:
        from htrkit.imageio import decode_image
        from htrkit.results import Page

        start = time.perf_counter()
        image = decode_image(data, source, self.settings.max_pixels)
        h, w = image.shape[:2]
        pad = 0
        if mode != "page":  # room for the margin when the writing reaches the edge
            pad = max(h, w) // 4
            image = np.pad(image, [(pad, pad), (pad, pad)] + [(0, 0)] * (image.ndim - 2),
                           constant_values=255)  # fmt: skip
        pipe = self.pipeline(mode, decoder, options)
        out = unpad(pipe(Page(source, image)).to_dict(), pad, w, h)
        out.update(
            mode=mode,
            decoder=pipe.decoder_name,
            model=getattr(self.settings, MODES[mode][0]),
            seconds=round(time.perf_counter() - start, 4),
        )
        return out

    async def submit(self, *args: Any) -> dict:
        with self.lock:
            if self.pending >= self.settings.max_pending:
                raise RequestError(
                    f"server busy: {self.pending} requests waiting; try again", status=503
                )
            self.pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, self.run, *args)
        finally:
            with self.lock:
                self.pending -= 1


def unpad(result: dict, pad: int, width: int, height: int) -> dict:
    """A result read on the image padded by ``pad`` on every side, in the original
    image's coordinates."""
    if not pad:
        return result

    def x(v: float) -> float:
        return min(max(v - pad, 0), width)

    def y(v: float) -> float:
        return min(max(v - pad, 0), height)

    result["width"], result["height"] = width, height
    for line in result["lines"]:
        x0, y0, x1, y1 = line["bbox"]
        line["bbox"] = [int(x(x0)), int(y(y0)), int(x(x1)), int(y(y1))]
        for key in ("polygon", "baseline"):
            line[key] = [[x(px), y(py)] for px, py in line[key]]
        for item in (*line["chars"], *line.get("words", [])):
            item["x0"], item["x1"] = x(item["x0"]), x(item["x1"])
    return result


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413, from its
    ``Content-Length`` before anything is read, or as soon as a streamed (chunked) body
    passes it. The body is read here, at most ``limit`` bytes, and handed on whole."""

    def __init__(self, app: Any, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                await _send_json(send, 400, {"error": "Content-Length is not a number"})
                return
            if size > self.limit:
                await _send_json(send, 413, {"error": self.message(size)})
                return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.limit:
                await _send_json(send, 413, {"error": self.message(len(body), "at least ")})
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def message(self, size: int, prefix: str = "") -> str:
        return (
            f"request body of {prefix}{size:,} bytes is over the limit of {self.limit:,} bytes "
            f"({self.limit / 2**20:.1f} MB)"
        )


async def _send_json(send: Callable, status: int, body: dict) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(data)).encode())],
        }
    )  # fmt: skip
    await send({"type": "http.response.body", "body": data})


STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _body_schema(image: dict, options: dict) -> dict:
    """The request body's schema, one per content type: ``image`` and ``options`` differ."""
    return {
        "schema": {
            "type": "object",
            "required": ["image"],
            "properties": {
                "image": image,
                "mode": {"type": "string", "enum": ["digit", "line", "word", "page"]},
                "decoder": {"type": "string", "enum": list(DECODERS)},
                "options": options,
            },
        }
    }


RECOGNIZE_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": _body_schema(
            {"type": "string", "format": "binary"},
            {"type": "string", "description": "JSON object of options"},
        ),
        "application/json": _body_schema(
            {"type": "string", "description": "base64, or a data: URL"},
            {
                "type": "object",
                "description": "beam_width (1-64); level (kenlm: word or char); "
                "pattern (pattern: a preset such as @date)",
            },
        ),
    },
}


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI application (FastAPI) for ``settings``."""
    from htrkit import __version__
    from htrkit.decoders.options import PRESETS
    from htrkit.pipeline import load_recognizer
    from htrkit.plugins import registry

    settings = settings or Settings()
    # loaded once, here: a bad model fails at start, not at the first request
    recognizers = {
        name: load_recognizer(getattr(settings, name)) for name in ("model", "digit_model")
    }
    registry("decoder").get(settings.decoder)
    work = Recognition(settings, recognizers)
    files = resources.files("htrkit.web") / "static"
    pages = {path: ((files / name).read_bytes(), kind) for path, (name, kind) in STATIC.items()}

    app = FastAPI(
        title="htrkit",
        version=__version__,
        description="Read handwriting: draw or upload an image, get the text back.",
        docs_url=None,
        redoc_url=None,
    )

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[..., Awaitable[Any]]) -> Any:
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    def static(path: str) -> Callable[[], Response]:
        body, kind = pages[path]

        async def serve() -> Response:
            return Response(body, media_type=kind, headers={"Cache-Control": "no-cache"})

        return serve

    for path in pages:
        app.get(path, include_in_schema=False)(static(path))

    @app.get("/api/config", summary="Modes, decoders, presets and limits")
    async def config() -> dict:
        available = [d for d in DECODERS if d in registry("decoder")]
        return {
            "version": __version__,
            "modes": {"digit": "single digit", "line": "word or line", "page": "page"},
            "decoders": {d: DECODERS[d] for d in available},
            "default_decoder": settings.decoder,
            "presets": ["@" + k for k in PRESETS],
            "max_upload_bytes": settings.max_upload_bytes,
            "max_pixels": settings.max_pixels,
            "model": settings.model,
            "digit_model": settings.digit_model,
        }

    @app.get("/api/plugins", summary="Installed plugins and their components")
    async def plugins() -> list:
        from htrkit.cli.inspect import listing

        return json.loads(json.dumps(listing(details=True), default=str))

    @app.post(
        "/api/recognize",
        summary="Read the handwriting in an image",
        openapi_extra={"requestBody": RECOGNIZE_BODY},
        responses={
            400: {"description": "not an image, or bad options"},
            413: {"description": "body over the size limit"},
            503: {"description": "too many requests waiting"},
        },
    )
    async def recognize(request: Request) -> Any:
        try:
            data, source, params = await _read_request(request)
            mode = str(params.get("mode") or "line").lower()
            mode = MODE_ALIASES.get(mode, mode)
            if mode not in MODES:
                raise RequestError(f"mode {mode!r} is not one of: {', '.join(MODES)}")
            decoder = str(params.get("decoder") or settings.decoder)
            if decoder not in DECODERS or decoder not in registry("decoder"):
                raise RequestError(
                    f"decoder {decoder!r} is not offered; choose one of: "
                    + ", ".join(d for d in DECODERS if d in registry("decoder"))
                )
            options = request_options(decoder, params.get("options"))
            return await work.submit(data, source, mode, decoder, options)
        except RequestError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except HtrkitError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except Exception:  # noqa: BLE001 - answered, logged with its traceback
            log.exception("recognition failed")
            return JSONResponse({"error": "internal error (see the server log)"}, 500)

    async def _read_request(request: Request) -> tuple[bytes, str, dict]:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "multipart/form-data":
            try:
                form = await request.form(max_files=1, max_fields=16)
            except Exception as exc:  # noqa: BLE001 - the multipart parser's errors
                raise RequestError(f"cannot read the multipart body ({exc})") from None
            upload = form.get("image")
            if not isinstance(upload, UploadFile):
                raise RequestError("the multipart body has no file field 'image'")
            params = {k: v for k, v in form.items() if k != "image" and isinstance(v, str)}
            return await upload.read(), label(upload.filename), params
        if kind == "application/json":
            try:
                body = json.loads(await request.body())
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise RequestError("the body is not valid JSON") from None
            if not isinstance(body, dict) or "image" not in body:
                raise RequestError("the JSON body needs 'image' (base64 or a data: URL)")
            return decode_base64(body["image"]), label(body.get("name")), body
        raise RequestError(
            f"send multipart/form-data or application/json, not {kind or 'no content type'!r}",
            status=415,
        )

    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)  # outermost: added last
    app.state.settings = settings
    app.state.recognition = work
    return app
