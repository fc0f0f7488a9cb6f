"""Connection-level limits uvicorn lacks: a deadline and a size cap for the request head.

uvicorn arms its keep-alive timer only after a response, so a client that connects and sends its
headers slowly (or never) holds the connection forever, and the httptools parser buffers a header
of any size (a probe's 100 MB header stalled ``/healthz``). :class:`GuardedHttpToolsProtocol` is
uvicorn's httptools protocol with both limits: the head must be complete within
``header_timeout_s`` of the connection or of the request's first byte (else 408 and close), and at
most ``max_header_bytes`` may arrive before it is (else 431 and close). The body is bounded in time
by :class:`service.guards.BodyGuardMiddleware`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from contradict.settings import Settings, get_settings


def _refusal(status: int, phrase: str, error: str, type_: str, limit: float) -> bytes:
    """A complete HTTP/1.1 response in the service's JSON error shape, closing the connection."""
    detail = [{"field": "headers", "message": error, "type": type_, "limit": limit}]
    body = json.dumps({"error": error, "detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status} {phrase}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head deadline and a head size cap (see the module doc)."""

    # None: from the environment's settings (worker processes get the class by name, so they read
    # the settings exported to them); :meth:`configured` sets them for one process.
    header_timeout_s: float | None = None
    max_header_bytes: int | None = None

    @classmethod
    def configured(cls, settings: Settings) -> type[GuardedHttpToolsProtocol]:
        """A subclass carrying the limits of ``settings`` (uvicorn builds one protocol per connection)."""
        service = settings.service
        limits = {"header_timeout_s": service.header_timeout_s, "max_header_bytes": service.max_header_bytes}
        return type("ConfiguredHttpToolsProtocol", (cls,), limits)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if self.header_timeout_s is None or self.max_header_bytes is None:
            service = get_settings().service
            type(self).header_timeout_s = service.header_timeout_s
            type(self).max_header_bytes = service.max_header_bytes
        self._reading_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Counted after parsing: a chunk that completes the head (and may carry a body) is not head.
        if self._reading_head:
            self._head_bytes += len(data)
        if self._reading_head and self._head_bytes > self.max_header_bytes:
            self._refuse(
                431,
                "Request Header Fields Too Large",
                f"the request head is larger than {self.max_header_bytes} bytes (max_header_bytes)",
                "headers_too_large",
                self.max_header_bytes,
            )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        self._head_bytes = 0
        self._arm()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._reading_head:
            self._refuse(
                408,
                "Request Timeout",
                f"the request head did not arrive within {self.header_timeout_s:g} s (header_timeout_s)",
                "header_timeout",
                self.header_timeout_s,
            )

    def _refuse(self, status: int, phrase: str, error: str, type_: str, limit: Any) -> None:
        self._reading_head = False
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(_refusal(status, phrase, error, type_, limit))
            self.transport.close()
