"""The HTTP protocol ``htrkit serve`` speaks: uvicorn's h11 protocol with a deadline on
receiving each request.

uvicorn times out idle keep-alive connections, but not a client that sends its headers or
its body a byte at a time (slowloris): 1,000 such connections held the server for as long
as the clients liked. Here a request (its headers and its body) must arrive within
``request_timeout`` seconds of the connection opening or of its first byte; otherwise the
connection is closed. The time the application takes to answer does not count.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

#: seconds a client has to send one whole request (headers and body)
REQUEST_TIMEOUT = 30.0


class GuardedH11Protocol(H11Protocol):
    """:class:`H11Protocol`, closing a connection whose request does not arrive in time."""

    request_timeout: float = REQUEST_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._receiving():
            self._arm()
        else:
            self._disarm()

    def _receiving(self) -> bool:
        """Whether a request has begun (or the connection is new) and is not complete."""
        return (
            self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing()
        )

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self._receiving() and not self.transport.is_closing():
            self.transport.close()


def guarded(timeout: float) -> type[GuardedH11Protocol]:
    """The protocol class with a deadline of ``timeout`` seconds per request."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"request_timeout": float(timeout)})
