"""One JSON error shape for every failure: ``{"error": ..., "detail": [{"field", "message", ...}]}``.

FastAPI's defaults differ per source (``{"detail": [...]}`` for validation, ``{"detail": "..."}``
for HTTP errors, plain text for 500s); clients should need one parser, and each error should name
the field and the limit involved.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.batcher import (
    BatcherError,
    PairTooLongError,
    QueueFullError,
    RequestTooLargeError,
    UnreadableTextError,
)
from service.deadline import DeadlineExceeded
from service.deps import get_metrics
from service.disconnect import ClientDisconnected
from service.metrics import CLIENT_CLOSED_REQUEST
from service.schemas import ErrorBody

logger = logging.getLogger(__name__)

# The error answers of a route that takes a JSON body, for its OpenAPI ``responses``.
ERRORS = {
    400: {"model": ErrorBody, "description": "invalid JSON or a body that is not UTF-8"},
    401: {"model": ErrorBody, "description": "missing or wrong API key (when one is configured)"},
    413: {
        "model": ErrorBody,
        "description": "body larger than max_body_bytes, or more tokens than queue_max_tokens",
    },
    422: {
        "model": ErrorBody,
        "description": "a field breaks a limit, its text cannot be tokenised, or (with truncate: false) a "
        "pair is longer than the model reads; `detail` names it",
    },
    500: {
        "model": ErrorBody,
        "description": "the model failed on this request's pairs (the server log has why)",
    },
    503: {
        "model": ErrorBody,
        "description": "queue full, model not ready, or shutting down; see Retry-After",
    },
}
DOCUMENT_ERRORS = {
    **ERRORS,
    504: {"model": ErrorBody, "description": "the work ran past corpus_api_deadline_s and was stopped"},
}

# pydantic ctx keys that carry the limit a value broke.
_LIMIT_KEYS = ("max_length", "min_length", "le", "lt", "ge", "gt")


def error_response(
    status: int,
    error: str,
    detail: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"error": error}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, headers=headers)


def field_error(field: str, message: str, type_: str, limit: Any = None) -> dict[str, Any]:
    return {"field": field, "message": message, "type": type_, "limit": limit}


def _describe(error: dict[str, Any]) -> dict[str, Any]:
    loc = [str(part) for part in error.get("loc", ())]
    if loc and loc[0] == "body":
        loc = loc[1:]
    ctx = error.get("ctx") or {}
    limit = next((ctx[key] for key in _LIMIT_KEYS if key in ctx), None)
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if error.get("type") == "json_invalid":
        message = f"invalid JSON: {ctx.get('error', 'decode error')} at character {loc[0] if loc else 0}"
        loc = []
    elif not loc and isinstance(error.get("input"), bytes | str):
        message += "; send a JSON object with Content-Type: application/json"
    return field_error(".".join(loc) or "body", message, str(error.get("type", "value_error")), limit)


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    detail = [_describe(error) for error in exc.errors()]
    if any(item["type"] == "json_invalid" for item in detail):
        return error_response(400, "the request body is not valid JSON", detail)
    return error_response(422, "the request is invalid", detail)


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


async def batcher_error(request: Request, exc: BatcherError) -> JSONResponse:
    # The request field the scored pairs came from: ``pairs``, unless the route built them from
    # another field and said so (``request.state.scored_field``, set by documents.probabilities_of).
    field = getattr(request.state, "scored_field", "pairs")
    if isinstance(exc, QueueFullError):
        (await get_metrics(request)).rejected.inc()
        detail = [field_error(field, str(exc), "queue_full", exc.limit)]
    elif isinstance(exc, RequestTooLargeError):
        detail = [field_error(field, str(exc), "too_many_tokens", exc.limit)]
    elif isinstance(exc, PairTooLongError):
        message = (
            f"more than {exc.max_length} tokens (premise and hypothesis together), the most the model "
            "reads; shorten or split it, or send truncate: true to score the part that fits"
        )
        detail = [
            field_error(f"{field}.{index}", message, "too_many_tokens", exc.max_length)
            for index in exc.indices
        ]
    elif isinstance(exc, UnreadableTextError):
        detail = [field_error(field, str(exc), "unreadable_text")]
    else:
        detail = None
    headers = {"Retry-After": str(exc.retry_after_s)} if exc.status == 503 else None
    return error_response(exc.status, str(exc), detail, headers=headers)


async def client_gone(request: Request, exc: ClientDisconnected) -> JSONResponse:
    """Nobody reads this answer; its status labels the request in the metrics."""
    return error_response(CLIENT_CLOSED_REQUEST, str(exc))


async def deadline_error(request: Request, exc: DeadlineExceeded) -> JSONResponse:
    detail = [field_error("documents", str(exc), "deadline_exceeded", exc.seconds)]
    return error_response(504, "the request ran past its deadline", detail)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal error; the server log has the details")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(BatcherError, batcher_error)
    app.add_exception_handler(ClientDisconnected, client_gone)
    app.add_exception_handler(DeadlineExceeded, deadline_error)
    app.add_exception_handler(Exception, unexpected_error)
