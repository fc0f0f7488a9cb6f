"""POST /v1/claims/stance: what each of a handful of documents says about one claim.

:mod:`contradict.claims` over HTTP: each document is cut into windows of consecutive statements (the
corpus scan's segmenter, in the thread pool: it is CPU-bound), the claim is scored against every
window through the app's batcher (window as premise, claim as hypothesis), and the windows'
probabilities are pooled into one stance per document. Like ``/v1/documents/contradictions`` it stops
at the request's deadline (``corpus_api_deadline_s``, answered 504).
"""

from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import APIRouter, Body, Request
from starlette.concurrency import run_in_threadpool

from contradict.claims import Window, claim_pairs, document_windows, stances
from contradict.corpus.pipeline import CorpusOptions
from contradict.corpus.reader import Article
from contradict.corpus.segment import Segmenter
from contradict.settings import Settings
from service.deps import BatcherDep, SettingsDep
from service.documents import articles_of, document_meta, probabilities_of, request_deadline
from service.errors import DOCUMENT_ERRORS
from service.schemas import ClaimsResponse, claims_request


def windows_of(
    articles: Sequence[Article], size: int, segmenter: Segmenter, tick: Callable[[], None]
) -> list[list[Window]]:
    """Each article's windows, in order; ``tick`` runs after each article (a deadline stops the work)."""
    windows = []
    for article in articles:
        windows.append(document_windows(article, size, segmenter))
        tick()
    return windows


def build_router(settings: Settings) -> APIRouter:
    """The claims route, its request limits (documents, characters per document and per claim) from
    ``settings``."""
    router = APIRouter()
    ClaimsRequest = claims_request(
        settings.corpus.api_max_documents,
        settings.corpus.api_max_document_chars,
        settings.service.max_statement_chars,
    )

    @router.post(
        "/v1/claims/stance",
        response_model=ClaimsResponse,
        responses=DOCUMENT_ERRORS,
        tags=["documents"],
        summary="Check a claim against documents",
    )
    async def claims_stance(
        payload: Annotated[ClaimsRequest, Body()],
        settings: SettingsDep,
        batcher: BatcherDep,
        request: Request,
    ) -> ClaimsResponse:
        """Whether each document contradicts the claim, supports it, or does not speak to it.

        Each document is cut into windows of ``window`` consecutive statements; the claim is scored
        against every window (the window as premise, the claim as hypothesis) and the windows are
        pooled into the document's stance:

        - ``contradiction_share``: the sum of P(contradiction) over the windows divided by the sum of
          P(contradiction) + P(entailment), that is, of the evidence that bears on the claim either
          way, the share that contradicts it (0.5 when nothing bears on it). Windows that do not bear
          on the claim weigh almost nothing, so a long article is not diluted. It is a **ranking
          score**, measured by AUROC (does a contradicting document score above a supporting one), not
          a calibrated probability: there is no threshold at which it means "contradicts".
        - ``bearing``: the mean over windows of P(contradiction) + P(entailment), how much of the
          document speaks to the claim at all; an unrelated document has a share but no bearing.

        ``most_contradicting`` and ``most_entailing`` are the windows with the highest P(contradiction)
        and P(entailment), with character offsets into the document (``text[start:end]``) and their
        calibrated probabilities. Documents come back in request order; a document with no statement
        (only fragments) has ``windows`` 0 and ``stance`` null.
        """
        articles = articles_of(payload.documents)
        deadline = request_deadline(settings)
        segmenter = Segmenter(CorpusOptions.from_settings(settings).segment)
        windows = await run_in_threadpool(windows_of, articles, payload.window, segmenter, deadline.check)
        checks = [(payload.claim, document) for document in windows]
        probabilities = await probabilities_of(request, batcher, deadline, claim_pairs(checks))
        scorer = batcher.scorer
        return ClaimsResponse(
            model={"name": scorer.name, "version": scorer.version},
            claim=payload.claim,
            window=payload.window,
            documents=[
                {
                    **document_meta(article),
                    "windows": len(document),
                    "stance": None if stance is None else stance.as_dict(),
                }
                for article, document, stance in zip(
                    articles, windows, stances(checks, probabilities), strict=True
                )
            ],
        )

    return router
