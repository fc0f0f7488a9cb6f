"""ASGI middleware that rejects requests before any parsing: API key, then body size and encoding.

Both run before routing and body parsing, so an unauthenticated or oversized request costs no JSON
decoding and gets a JSON error naming the limit instead of a 500 or a hang.
"""

from __future__ import annotations

import asyncio
import hmac
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import error_response, field_error

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/docs", "/redoc", "/openapi.json"})
OPEN_PREFIXES = ("/docs/",)  # the docs' own assets (service.docs) and the OAuth2 redirect page
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def presented_key(headers: Headers) -> str | None:
    """The key from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``, if any."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key")


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


class ApiKeyMiddleware:
    """Require the API key on every path but health, readiness and the docs."""

    def __init__(self, app: ASGIApp, api_key: str):
        self.app = app
        self.expected = api_key.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        key = presented_key(Headers(scope=scope))
        # compare_digest on bytes: constant time in the key's content.
        if key is not None and hmac.compare_digest(key.encode("utf-8"), self.expected):
            await self.app(scope, receive, send)
            return
        message = "missing API key" if key is None else "invalid API key"
        response = error_response(
            401,
            f"{message}: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)


def _too_large(limit: int, seen: str) -> object:
    return error_response(
        413,
        f"request body too large: {seen}, limit max_body_bytes={limit}",
        [field_error("body", f"at most {limit} bytes", "body_too_large", limit)],
    )


def _too_slow(limit: float) -> object:
    message = f"the request body did not arrive within {limit:g} s (body_timeout_s)"
    return error_response(
        408, message, [field_error("body", message, "body_timeout", limit)], headers={"Connection": "close"}
    )


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class BodyGuardMiddleware:
    """Cap the body size (declared Content-Length *and* bytes actually streamed) and the time it may
    take to arrive, and require UTF-8 JSON.

    The body is read here in full (it is bounded) and replayed to the app, so a chunked upload with
    no Content-Length cannot slip past the limit, and a stalled upload is answered 408 after
    ``body_timeout_s`` instead of holding its connection and memory.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, body_timeout_s: float = 30.0):
        self.app = app
        self.limit = max_body_bytes
        self.timeout = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                response = error_response(
                    400, "invalid Content-Length header", [field_error("content-length", declared, "header")]
                )
                await response(scope, receive, send)
                return
            if int(declared) > self.limit:
                await _too_large(self.limit, f"Content-Length {declared}")(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                message = await asyncio.wait_for(receive(), deadline - time.monotonic())
            except TimeoutError:
                await _too_slow(self.timeout)(scope, receive, send)
                return
            if message["type"] == "http.disconnect":
                return  # the client is gone; nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _too_large(self.limit, f"more than {self.limit} bytes received")(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(headers.get("content-type", "")):
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as exc:
                response = error_response(
                    400,
                    "the request body is not valid UTF-8",
                    [
                        field_error(
                            "body", f"invalid byte at offset {exc.start}: {exc.reason}", "utf8_invalid"
                        )
                    ],
                )
                await response(scope, receive, send)
                return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that yields the buffered body once, then defers to the real one (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class ConcurrencyLimitMiddleware:
    """Refuse requests beyond ``max_concurrent_requests`` in progress with a JSON 503 and Retry-After.

    Health, readiness and metrics are never refused: a full service must still say it is alive.
    """

    EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})

    def __init__(self, app: ASGIApp, max_requests: int):
        self.app = app
        self.limit = max_requests
        self.active = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.EXEMPT:
            await self.app(scope, receive, send)
            return
        if self.active >= self.limit:
            response = error_response(
                503,
                f"too many requests in progress (max_concurrent_requests={self.limit}); retry shortly",
                [field_error("body", "the server is busy", "concurrency_limit", self.limit)],
                headers={"Retry-After": "1"},
            )
            await response(scope, receive, send)
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1
