"""Drain-then-refuse on SIGTERM/SIGINT: the batcher learns of a shutdown when it begins.

uvicorn runs the app's lifespan shutdown only after every open request has finished, or after
``timeout_graceful_shutdown`` when it cancels them (plain-text 500s). The batcher must know sooner:
at the signal it stops admitting (JSON 503 + Retry-After) and gives the queue ``shutdown_drain_s``
(below the graceful timeout) to be scored or refused, so every request ends before uvicorn's cut.
The hook chains in front of the handler already installed (uvicorn's ``handle_exit``, in the main
thread, in single- and multi-worker mode alike: each worker process runs its app's lifespan in its
main thread); elsewhere (a server in a thread, as in tests) it does nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def drain_on_signals(drain: Callable[[], None]) -> Iterator[None]:
    """Call ``drain()`` (signal-safe, quick) on SIGTERM/SIGINT, then the handler it replaced."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}

    def handler(sig: int, frame: FrameType | None) -> None:
        drain()
        prior = previous[sig]
        if callable(prior):
            prior(sig, frame)
        elif prior == signal.SIG_DFL:  # nobody else handles it: the default action, as before
            signal.signal(sig, signal.SIG_DFL)
            signal.raise_signal(sig)

    for sig in SIGNALS:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, prior in previous.items():
            if signal.getsignal(sig) is handler and prior is not None:
                signal.signal(sig, prior)
