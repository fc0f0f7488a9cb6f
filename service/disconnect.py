"""Stop waiting for work whose client went away.

Starlette does not cancel a route's handler when its client disconnects: a handler awaiting the
batcher would keep the request's pairs queued and scored for nobody (five abandoned 100-pair
requests once delayed the next request by 77 s). :func:`unless_disconnected` polls
``request.is_disconnected()`` while it awaits, and cancels the awaited work when the client is gone;
the batcher then drops that request's unscored pairs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from starlette.requests import Request

T = TypeVar("T")

POLL_S = 0.1  # how soon a disconnect is noticed; a poll costs one non-blocking receive()


class ClientDisconnected(Exception):
    """The client closed the connection before its answer was ready (answered 499, for the metrics)."""

    def __init__(self) -> None:
        super().__init__("the client closed the connection; its queued work was dropped")


async def unless_disconnected(request: Request, work: Awaitable[T], poll_s: float = POLL_S) -> T:
    """Await ``work``; cancel it and raise :class:`ClientDisconnected` once the client has gone."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=poll_s)
            if done:
                return task.result()
            if await request.is_disconnected():
                task.cancel()
                raise ClientDisconnected()
    finally:
        if not task.done():  # our own caller was cancelled (or the client left): stop the work too
            task.cancel()
