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

import json
import logging
from collections.abc import Callable
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from htrkit.errors import HtrkitError
from htrkit.web.limits import BodyLimit, SecurityHeaders
from htrkit.web.requests import (
    DECODERS,
    LANGS,
    MODE_ALIASES,
    MODES,
    RequestError,
    decode_base64,
    label,
    request_options,
)
from htrkit.web.workers import Recognition, Settings

log = logging.getLogger("htrkit.web")

__all__ = ["RequestError", "Settings", "create_app", "request_options"]

STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}


def _body_schema(image: dict, options: dict) -> dict:
    """The request body's schema, one per content type: ``image`` and ``options`` differ."""
    return {
        "schema": {
            "type": "object",
            "required": ["image"],
            "properties": {
                "image": image,
                "mode": {"type": "string", "enum": ["digit", "line", "word", "drawing", "page"]},
                "decoder": {"type": "string", "enum": list(DECODERS)},
                "lang": {"type": "string", "enum": list(LANGS), "default": "auto"},
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
    from htrkit.loading import load_recognizer
    from htrkit.plugins import registry

    settings = settings or Settings()
    # loaded once, here: a bad model fails at start, not at the first request
    recognizers = {
        name: load_recognizer(getattr(settings, name)) for name in ("model", "digit_model")
    }
    if settings.decoder != "auto":  # auto: each model's own decoding
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

    from starlette.exceptions import HTTPException

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        # 404, 405: the same {"error": ...} shape as every other refusal
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    def static(path: str) -> Callable[[], Response]:
        body, kind = pages[path]

        async def serve() -> Response:
            return Response(body, media_type=kind, headers={"Cache-Control": "no-cache"})

        return serve

    for path in pages:
        app.get(path, include_in_schema=False)(static(path))

    @app.get("/api/config", summary="Modes, decoders, presets and limits")
    async def config() -> dict:
        available = [d for d in DECODERS if _offered(d)]
        return {
            "version": __version__,
            "modes": {"digit": "single digit", "line": "word or line", "page": "page"},
            "decoders": {d: DECODERS[d] for d in available},
            "default_decoder": settings.decoder,
            "langs": LANGS,
            "presets": ["@" + k for k in PRESETS],
            "max_upload_bytes": settings.max_upload_bytes,
            "max_pixels": settings.max_pixels,
            "model": settings.model,
            "digit_model": settings.digit_model,
        }

    @app.get("/api/plugins", summary="Installed plugins and their components")
    async def plugins() -> list:
        from htrkit.plugins import listing

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
            _same_site(request)
            data, source, params = await _read_request(request)
            mode = str(params.get("mode") or "line").lower()
            mode = MODE_ALIASES.get(mode, mode)
            if mode not in MODES:
                modes = ", ".join([*MODES, *MODE_ALIASES])
                raise RequestError(f"mode {mode[:40]!r} is not one of: {modes}")
            decoder = str(params.get("decoder") or settings.decoder)
            if decoder not in DECODERS or not _offered(decoder):
                raise RequestError(
                    f"decoder {decoder[:40]!r} is not offered; choose one of: "
                    + ", ".join(d for d in DECODERS if _offered(d))
                )
            options = request_options(decoder, params.get("options"))
            lang = str(params.get("lang") or "auto")
            if lang not in LANGS:
                raise RequestError(f"lang {lang[:40]!r} is not one of: {', '.join(LANGS)}")
            return await work.submit(data, source, mode, decoder, options, lang)
        except RequestError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except HtrkitError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except Exception:  # answered, logged with its traceback
            log.exception("recognition failed")
            return JSONResponse({"error": "internal error (see the server log)"}, 500)

    async def _read_request(request: Request) -> tuple[bytes, str, dict]:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "multipart/form-data":
            try:
                form = await request.form(max_files=1, max_fields=16)
            except Exception as exc:  # the multipart parser's errors
                raise RequestError(f"cannot read the multipart body ({exc})") from None
            repeated = sorted({k for k in form.keys() if len(form.getlist(k)) > 1})
            if repeated:
                raise RequestError(f"the multipart body gives {repeated[0][:40]!r} more than once")
            upload = form.get("image")
            if not isinstance(upload, UploadFile):
                raise RequestError("the multipart body has no file field 'image'")
            params = {k: v for k, v in form.items() if k != "image" and isinstance(v, str)}
            return await upload.read(), label(upload.filename), params
        if kind == "application/json":
            try:
                body = json.loads(await request.body())
            except ValueError:  # not JSON, not UTF-8, a number of over 4,300 digits
                raise RequestError("the body is not valid JSON") from None
            except RecursionError:  # 100,000 nested arrays: the parser's stack, not a bug
                raise RequestError("the JSON body is nested too deeply") from None
            if not isinstance(body, dict) or "image" not in body:
                raise RequestError("the JSON body needs 'image' (base64 or a data: URL)")
            return decode_base64(body["image"]), label(body.get("name")), body
        raise RequestError(
            f"send multipart/form-data or application/json, not {kind or 'no content type'!r}",
            status=415,
        )

    # DNS rebinding: a page on another site that resolves its own name to 127.0.0.1 must
    # not reach this server; only the names it is served under are answered
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: added last
    app.state.settings = settings
    app.state.recognition = work
    return app


def _same_site(request: Request) -> None:
    """Refuse a request another site's page sent (a browser names it in ``Sec-Fetch-Site``
    and ``Origin``): it could not read the answer, but it could keep the server busy."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        raise RequestError("requests from other sites are refused", status=403)
    origin = request.headers.get("origin")
    if origin and origin != "null":
        from urllib.parse import urlsplit

        if urlsplit(origin).netloc != request.headers.get("host", ""):
            raise RequestError(f"requests from {origin[:60]!r} are refused", status=403)


def _offered(decoder: str) -> bool:
    """Whether the page offers ``decoder``: installed, or ``auto`` (the model's own)."""
    from htrkit.plugins import registry

    return decoder == "auto" or decoder in registry("decoder")
