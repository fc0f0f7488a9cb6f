"""Endpoints: scoring, model info, health, readiness and metrics."""

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from contradict.settings import Settings
from service.errors import error_response
from service.schemas import ContradictionsResponse, ErrorBody, Health, ModelInfo, contradictions_request

ERRORS = {
    400: {"model": ErrorBody, "description": "invalid JSON or a body that is not UTF-8"},
    401: {"model": ErrorBody, "description": "missing or wrong API key (when one is configured)"},
    413: {"model": ErrorBody, "description": "body larger than max_body_bytes"},
    422: {"model": ErrorBody, "description": "a field breaks a limit; `detail` names it"},
    503: {"model": ErrorBody, "description": "queue full or model not ready; see Retry-After"},
}


def build_router(settings: Settings) -> APIRouter:
    """Routes whose request limits come from ``settings``."""
    router = APIRouter()
    ContradictionsRequest = contradictions_request(
        settings.max_pairs_per_request, settings.max_statement_chars
    )

    @router.post(
        "/v1/contradictions",
        response_model=ContradictionsResponse,
        responses=ERRORS,
        tags=["scoring"],
        summary="Score statement pairs for contradiction",
    )
    async def contradictions(
        request: Request, payload: Annotated[ContradictionsRequest, Body()]
    ) -> ContradictionsResponse:
        """Probabilities of contradiction, entailment and neutral for each pair, in request order.

        Requests are batched with concurrent ones; results are the same as scoring the pairs alone.
        """
        batcher = request.app.state.batcher
        pairs = [(pair.premise, pair.hypothesis) for pair in payload.pairs]
        scores = await batcher.score(pairs, symmetric=payload.symmetric)
        scorer = batcher.scorer
        return ContradictionsResponse(
            model={"name": scorer.name, "version": scorer.version},
            threshold=scorer.calibration.threshold,
            symmetric=payload.symmetric,
            results=[score.as_dict() for score in scores],
        )

    @router.get("/v1/model", response_model=ModelInfo, responses={503: ERRORS[503]}, tags=["model"])
    async def model_info(request: Request):
        """Name, version, label mapping, max length, calibration and evaluation metrics."""
        scorer = request.app.state.batcher.scorer
        if scorer is None:
            return error_response(503, "the model is not loaded yet", headers={"Retry-After": "1"})
        return scorer.info()

    @router.get("/healthz", response_model=Health, tags=["health"])
    async def healthz() -> Health:
        """Liveness: the process answers (the model may still be loading)."""
        return Health(status="alive")

    @router.get("/readyz", response_model=Health, responses={503: {"model": Health}}, tags=["health"])
    async def readyz(request: Request, response: Response) -> Health:
        """Readiness: 200 once the model is loaded and a warm-up pass ran, else 503."""
        batcher = request.app.state.batcher
        if batcher.ready:
            return Health(status="ready")
        response.status_code = 503
        if batcher.load_error is not None:
            return Health(status="failed", detail=f"model failed to load: {batcher.load_error}")
        return Health(status="starting", detail="the model is loading")

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        body, content_type = request.app.state.metrics.render()
        return Response(body, media_type=content_type)

    return router
