"""Endpoints: scoring, model info, health, readiness and metrics."""

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from contradict.settings import Settings
from service.deps import BatcherDep, MetricsDep
from service.disconnect import unless_disconnected
from service.errors import ERRORS, error_response
from service.schemas import ContradictionsResponse, Health, ModelInfo, contradictions_request


def build_router(settings: Settings) -> APIRouter:
    """Routes whose request limits come from ``settings``."""
    router = APIRouter()
    ContradictionsRequest = contradictions_request(
        settings.service.max_pairs_per_request, settings.service.max_statement_chars
    )

    @router.post(
        "/v1/contradictions",
        response_model=ContradictionsResponse,
        responses=ERRORS,
        tags=["scoring"],
        summary="Score statement pairs for contradiction",
    )
    async def contradictions(
        payload: Annotated[ContradictionsRequest, Body()], batcher: BatcherDep, request: Request
    ) -> ContradictionsResponse:
        """Probabilities of contradiction, entailment and neutral for each pair, in request order.

        Requests are batched with concurrent ones; results are the same as scoring the pairs alone.
        """
        pairs = [(pair.premise, pair.hypothesis) for pair in payload.pairs]
        scores = await unless_disconnected(
            request, batcher.score(pairs, symmetric=payload.symmetric, truncate=payload.truncate)
        )
        scorer = batcher.scorer
        return ContradictionsResponse(
            model={"name": scorer.name, "version": scorer.version},
            threshold=scorer.calibration.threshold,
            symmetric=payload.symmetric,
            results=[score.as_dict() for score in scores],
        )

    @router.get("/v1/model", response_model=ModelInfo, responses={503: ERRORS[503]}, tags=["model"])
    async def model_info(batcher: BatcherDep):
        """Name, version, label mapping, max length, calibration and evaluation metrics."""
        scorer = batcher.scorer
        if scorer is None:
            return error_response(503, "the model is not loaded yet", headers={"Retry-After": "1"})
        return scorer.info()

    @router.get("/healthz", response_model=Health, tags=["health"])
    async def healthz() -> Health:
        """Liveness: the process answers (the model may still be loading)."""
        return Health(status="alive")

    @router.get("/readyz", response_model=Health, responses={503: {"model": Health}}, tags=["health"])
    async def readyz(batcher: BatcherDep, response: Response) -> Health:
        """Readiness: 200 once the model is loaded and a warm-up pass ran and while the scoring
        worker runs; 503 while loading, after a failed load, once the worker is gone, and from the
        start of a shutdown (so a load balancer stops sending work)."""
        if batcher.ready:
            return Health(status="ready")
        response.status_code = 503
        if batcher.worker_failed:
            return Health(status="failed", detail="the scoring worker stopped; the server log has the reason")
        if batcher.draining:
            return Health(status="stopping", detail="the service is shutting down")
        if batcher.load_error is not None:  # the reason is in the server log, not on this open route
            return Health(status="failed", detail="the model failed to load; the server log has the reason")
        return Health(status="starting", detail="the model is loading")

    @router.get("/metrics", include_in_schema=False)
    async def metrics(metrics: MetricsDep) -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return router
