"""POST /v1/documents/contradictions: the corpus scan for a handful of documents over HTTP.

The same stages as ``contradict corpus`` (segment, candidates, ranked rows) without checkpoints:
segmentation and embedding are CPU-bound, so they run in the thread pool; scoring goes through
the app's batcher like every other model call. The bi-encoder is loaded once per app, lazily. All of
it stops at the request's deadline (``corpus_api_deadline_s``, answered 504).
"""

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Body
from starlette.concurrency import run_in_threadpool

from contradict.corpus.pipeline import CorpusOptions, prepare, statement_pairs
from contradict.corpus.reader import Article
from contradict.corpus.rows import ranked_rows
from contradict.labels import LABELS
from contradict.settings import Settings
from service.deadline import Deadline
from service.deps import BatcherDep, EmbedderDep, SettingsDep
from service.errors import DOCUMENT_ERRORS
from service.schemas import DocumentsResponse, documents_request


def build_router(settings: Settings) -> APIRouter:
    """The documents route, its request limits (documents, characters per document) from ``settings``."""
    router = APIRouter()
    DocumentsRequest = documents_request(
        settings.corpus.api_max_documents, settings.corpus.api_max_document_chars
    )

    @router.post(
        "/v1/documents/contradictions",
        response_model=DocumentsResponse,
        responses=DOCUMENT_ERRORS,
        tags=["documents"],
        summary="Find contradicting statements across documents",
    )
    async def documents_contradictions(
        payload: Annotated[DocumentsRequest, Body()],
        settings: SettingsDep,
        batcher: BatcherDep,
        embedder: EmbedderDep,
    ) -> DocumentsResponse:
        """Split the documents into sentences, pair similar sentences across documents, score the pairs.

        Returns the pairs whose contradiction probability reaches the threshold, best first, each with
        both statements' document ids, character offsets and scores.
        """
        options = CorpusOptions.from_settings(
            settings,
            top_k=payload.top_k,
            min_similarity=payload.min_similarity,
            within_article=payload.within_article,
        )
        articles = [
            Article(
                id=str(doc.id),
                text=doc.text,
                **{name: getattr(doc, name) or "" for name in ("title", "source", "url", "published")},
            )
            for doc in payload.documents
        ]
        deadline = Deadline(settings.corpus.api_deadline_s, "corpus_api_deadline_s")
        statements, found = await run_in_threadpool(prepare, articles, options, embedder, deadline.check)
        kept = found.most_similar(settings.corpus.api_max_candidates)
        pairs = statement_pairs(statements, kept)
        scores = await deadline.wait(batcher.score(pairs, symmetric=True)) if pairs else []
        probabilities = np.array(
            [[s.contradiction, s.entailment, s.neutral] for s in scores], dtype=np.float32
        )
        scorer = batcher.scorer
        threshold = payload.threshold if payload.threshold is not None else scorer.calibration.threshold
        rows = ranked_rows(articles, statements, kept, probabilities.reshape(-1, len(LABELS)), threshold)
        return DocumentsResponse(
            model={"name": scorer.name, "version": scorer.version},
            threshold=threshold,
            documents=len(articles),
            statements=len(statements),
            candidates=len(kept),
            candidates_dropped=len(found) - len(kept),
            contradictions=[
                {key: value for key, value in row.items() if key != "is_contradiction"}
                for row in rows
                if row["is_contradiction"]
            ],
        )

    return router
