"""Helpers for the service tests: a real uvicorn server in a thread, and realistic statement pairs."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

SUBJECTS = [
    "The museum",
    "The bridge",
    "The new library",
    "The river ferry",
    "The city council",
    "The old mill",
]
VERBS = ["opened", "closed", "was rebuilt", "was sold", "was renamed", "doubled its budget"]
WHEN = ["in 1932", "last spring", "after the flood", "in March 2004", "two years ago", "before the war"]
PLACES = ["in Lyon", "near the harbour", "in the north district", "on the east bank", "downtown", "in Porto"]


def make_pairs(count: int, seed: int) -> list[tuple[str, str]]:
    """Distinct, sentence-like pairs of varied length (so micro-batches pad and sort for real)."""
    rng = random.Random(seed)

    def sentence() -> str:
        words = [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(WHEN)]
        if rng.random() < 0.5:
            words.append(rng.choice(PLACES))
        return " ".join(words) + "."

    return [(sentence(), sentence()) for _ in range(count)]


def body(pairs: list[tuple[str, str]], symmetric: bool = False) -> dict:
    return {"pairs": [{"premise": p, "hypothesis": h} for p, h in pairs], "symmetric": symmetric}


class LiveServer:
    """uvicorn serving ``app`` on a free 127.0.0.1 port from a background thread; ``options`` are
    uvicorn's (default: quiet, 10 s graceful shutdown)."""

    def __init__(self, app: FastAPI, options: dict[str, Any] | None = None):
        self.app = app
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        options = options or {"log_level": "warning", "timeout_graceful_shutdown": 10}
        self.server = uvicorn.Server(uvicorn.Config(app, **options))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def start(self, wait_ready: bool = True, timeout: float = 60.0) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        while wait_ready and httpx.get(self.url + "/readyz").status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the service did not become ready")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.socket.close()


def production_server(settings) -> LiveServer:
    """A LiveServer of the app and uvicorn options ``contradict serve`` would use for ``settings``."""
    from service.app import create_app
    from service.server import uvicorn_limits

    return LiveServer(create_app(settings), uvicorn_limits(settings))


@contextmanager
def live_client(app: FastAPI, timeout: float = 120) -> Iterator[httpx.Client]:
    """An httpx client of ``app`` served by a LiveServer, stopped on exit."""
    server = LiveServer(app).start()
    try:
        with httpx.Client(base_url=server.url, timeout=timeout) as http:
            yield http
    finally:
        server.stop()
