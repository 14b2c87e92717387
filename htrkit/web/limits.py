"""The limits and headers every response of ``htrkit serve`` gets: the body size limit,
enforced before a body is read, and the security headers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


class SecurityHeaders:
    """ASGI middleware, the outermost: :data:`SECURITY_HEADERS` on every response, those
    of the other middleware (413, a bad Host) included, and ``Cache-Control: no-store`` on
    the API's answers (they hold the text read)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = dict(SECURITY_HEADERS)
        if scope.get("path", "").startswith("/api/"):
            extra["Cache-Control"] = "no-store"

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                added = [(k.lower().encode(), v.encode()) for k, v in extra.items()
                         if k.lower().encode() not in present]  # fmt: skip
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, with_headers)


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
