"""Prometheus metrics, one registry per app (several apps in one process must not share series)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    ProcessCollector,
    generate_latest,
)
from starlette.routing import BaseRoute, Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
UNMATCHED_ROUTE = "unmatched"
# nginx's code for a request whose client closed the connection before the answer.
CLIENT_CLOSED_REQUEST = 499


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # RSS, CPU seconds, open fds
        self.requests = Counter(
            "contradict_http_requests",
            "HTTP requests by route template, method and status code",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "contradict_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_pairs = Histogram(
            "contradict_batch_pairs",
            "pairs per model micro-batch (both directions counted for symmetric requests)",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "contradict_batch_duration_seconds",
            "model time per micro-batch",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "contradict_queue_pairs", "pairs waiting for a micro-batch", registry=self.registry
        )
        self.rejected = Counter(
            "contradict_queue_rejections",
            "requests refused because the queue was full",
            registry=self.registry,
        )
        self.model = Info("contradict_model", "the loaded model", registry=self.registry)

    def observe_batch(self, pairs: int, seconds: float) -> None:
        self.batch_pairs.observe(pairs)
        self.batch_seconds.observe(seconds)

    def track_queue(self, depth: Callable[[], float]) -> None:
        self.queue_depth.set_function(depth)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class RequestMetricsMiddleware:
    """Count and time every HTTP request by route *template* (bounded label values).

    Outermost of the app's middleware, so 401/413 answered before routing are counted too; for those
    the route is looked up here since the router never saw the request.
    """

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, router: Router):
        self.app = app
        self.metrics = metrics
        self.router = router
        self._leaves: list[BaseRoute] | None = None  # listed on first use, when every route is there

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None
        disconnected = False

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        async def receive_and_watch() -> Message:
            nonlocal disconnected
            message = await receive()
            disconnected = disconnected or message["type"] == "http.disconnect"
            return message

        try:
            await self.app(scope, receive_and_watch, send_and_record)
        finally:
            if status is None:  # no answer: the client went away (499), or the app failed (500)
                status = CLIENT_CLOSED_REQUEST if disconnected else 500
            route = self._route(scope)
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)

    def _route(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:  # answered before routing (401, 413, 400, 503): find its template here
            if self._leaves is None:
                self._leaves = list(leaf_routes(self.router.routes))
            route = next((leaf for leaf in self._leaves if leaf.matches(scope)[0] is not Match.NONE), None)
        return getattr(route, "path", None) or UNMATCHED_ROUTE


def leaf_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes that have a path template, out of routers included in routers.

    FastAPI may wrap an included router in an object with no template of its own; its routes are
    then reached through its ``original_router`` (or ``routes``), whatever the version calls it.
    """
    for route in routes:
        if isinstance(getattr(route, "path", None), str):
            yield route
            continue
        inner = getattr(route, "original_router", None) or route
        prefix = getattr(getattr(route, "include_context", None), "prefix", "")
        children = getattr(inner, "routes", None)
        if children and not prefix:  # a prefixed inner router would need its prefix in each template
            yield from leaf_routes(children)
