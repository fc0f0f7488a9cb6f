"""A per-request deadline that stops the request's work, not only its answer.

The documents route segments, embeds and scores in chunks; :meth:`Deadline.check` runs between
chunks (in the worker thread) and raises :class:`DeadlineExceeded`, which ends the loop that called
it, and :meth:`Deadline.wait` bounds an awaited step (the batcher drops the pairs of a cancelled
request). Without it, one large request could hold a CPU for minutes after its client gave up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceeded(Exception):
    """The request's work ran past its deadline and was stopped; answered 504."""

    def __init__(self, seconds: float, setting: str):
        self.seconds, self.setting = seconds, setting
        super().__init__(
            f"the request did not finish within {seconds:g} s ({setting}) and its work was stopped; "
            "send fewer or shorter documents"
        )


class Deadline:
    def __init__(self, seconds: float, setting: str):
        self.seconds, self.setting = seconds, setting
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def check(self, *_: object) -> None:
        """Raise :class:`DeadlineExceeded` once the deadline has passed; usable as a progress callback."""
        if self.remaining() <= 0:
            raise DeadlineExceeded(self.seconds, self.setting)

    async def wait(self, step: Awaitable[T]) -> T:
        """Await ``step``, cancelling it (and raising :class:`DeadlineExceeded`) at the deadline."""
        self.check()
        try:
            return await asyncio.wait_for(step, self.remaining())
        except TimeoutError:
            raise DeadlineExceeded(self.seconds, self.setting) from None
