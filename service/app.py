"""Assemble the FastAPI app: batcher lifecycle, routers, middleware, error handlers, metrics."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from contradict import __version__
from contradict.scorer import NLIScorer, Scorer
from contradict.settings import Settings, get_settings
from service import claims, docs, documents, errors, routes
from service.batcher import DynamicBatcher
from service.guards import ApiKeyMiddleware, BodyGuardMiddleware, ConcurrencyLimitMiddleware
from service.head import HeadAsGetMiddleware
from service.metrics import RequestMetricsMiddleware, ServiceMetrics
from service.shutdown import drain_on_signals

logger = logging.getLogger(__name__)

DESCRIPTION = """Contradiction detection between statements with an NLI cross-encoder.

When the service runs with an API key, every route but `/healthz`, `/readyz` and the docs needs
`Authorization: Bearer <key>` or `X-API-Key: <key>`. Errors are JSON:
`{"error": ..., "detail": [{"field": ..., "message": ..., "type": ..., "limit": ...}]}`.
"""


def quiet_weight_loading() -> None:
    """No "Loading weights" progress bar per model load (noise in a server log), set through the
    environment so this module need not import transformers: a server on the ONNX backend never does."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    if "transformers" in sys.modules:  # imported already: the variable is read at import
        sys.modules["transformers"].utils.logging.disable_progress_bar()


def create_app(settings: Settings | None = None, scorer: Scorer | None = None) -> FastAPI:
    """Build the app; the model loads in the batcher's worker thread at start-up unless ``scorer``.

    ``/readyz`` turns 200 once the model is loaded and warmed up; until then scoring answers 503.
    """
    settings = settings or get_settings()
    quiet_weight_loading()
    metrics = ServiceMetrics()

    def load() -> Scorer:
        return scorer if scorer is not None else NLIScorer.from_settings(settings)

    def on_ready(loaded: Scorer) -> None:
        metrics.model.info({"name": loaded.name, "version": loaded.version})

    batcher = DynamicBatcher.from_settings(load, settings, on_batch=metrics.observe_batch, on_ready=on_ready)
    metrics.track_queue(lambda: batcher.pending)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        try:
            with drain_on_signals(batcher.drain):
                yield
        finally:
            await asyncio.to_thread(batcher.stop)
            logger.info("batcher stopped")

    # docs_url/redoc_url None: FastAPI's own pages load from a CDN; service.docs serves them offline.
    app = FastAPI(
        title="contradict",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # What the routes use, through the typed dependencies of service.deps.
    app.state.settings = settings
    app.state.batcher = batcher
    app.state.metrics = metrics
    errors.install(app)
    app.include_router(routes.build_router(settings))
    app.include_router(documents.build_router(settings))
    app.include_router(claims.build_router(settings))
    docs.install(app)
    # Added last = runs first: metrics see every answer, auth runs before any body is read.
    service = settings.service
    app.add_middleware(
        BodyGuardMiddleware, max_body_bytes=service.max_body_bytes, body_timeout_s=service.body_timeout_s
    )
    if service.api_key is not None:
        app.add_middleware(ApiKeyMiddleware, api_key=service.api_key.get_secret_value())
    app.add_middleware(ConcurrencyLimitMiddleware, max_requests=service.max_concurrent_requests)
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics, router=app.router)
    return app
