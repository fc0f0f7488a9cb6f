"""Typed dependencies: what a route needs from its app, read from ``app.state`` in this one place.

:func:`service.app.create_app` puts the settings, the batcher and the metrics on ``app.state``; a
route declares what it uses (``batcher: BatcherDep``) instead of reaching into the request. The
getters are ``async`` so FastAPI calls them on the event loop, not in the thread pool: no thread hop
per request, and the lazily built embedder cannot be built twice by two concurrent first requests.
"""

from typing import Annotated

from fastapi import Depends, Request

from contradict.corpus.candidates import Embedder
from contradict.settings import Settings
from service.batcher import DynamicBatcher
from service.metrics import ServiceMetrics


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_batcher(request: Request) -> DynamicBatcher:
    return request.app.state.batcher


async def get_metrics(request: Request) -> ServiceMetrics:
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
BatcherDep = Annotated[DynamicBatcher, Depends(get_batcher)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]


async def get_embedder(request: Request, settings: SettingsDep) -> Embedder:
    """One bi-encoder per app, created on first use (cheap: its weights load on the first encode)."""
    embedder = getattr(request.app.state, "corpus_embedder", None)
    if embedder is None:
        embedder = Embedder.from_settings(settings)
        request.app.state.corpus_embedder = embedder
    return embedder


EmbedderDep = Annotated[Embedder, Depends(get_embedder)]
