"""POST /v1/documents/contradictions: the corpus scan for a handful of documents over HTTP.

The same stages as ``contradict corpus`` (segment, candidates, ranked rows) without checkpoints:
segmentation and embedding are CPU-bound, so they run in the thread pool; scoring goes through
the app's batcher like every other model call. The bi-encoder is loaded once per app, lazily. All of
it stops at the request's deadline (``corpus_api_deadline_s``, answered 504).
"""

import json
from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body, Request
from starlette.concurrency import run_in_threadpool

from contradict.corpus.pipeline import CorpusOptions, prepare, statement_pairs
from contradict.corpus.reader import OPTIONAL_FIELDS, Article
from contradict.corpus.rows import ranked_rows
from contradict.labels import LABELS
from contradict.scorer import Pair
from contradict.settings import Settings
from service.batcher import DynamicBatcher, NotReadyError
from service.deadline import Deadline
from service.deps import BatcherDep, EmbedderDep, SettingsDep
from service.disconnect import unless_disconnected
from service.errors import DOCUMENT_ERRORS
from service.schemas import DocumentsResponse, documents_request

# What a statement in the answer carries: its document by id, never the document's metadata again.
STATEMENT_KEYS = ("sentence", "start", "end", "paragraph_start", "paragraph_end", "text")
SCORE_KEYS = ("rank", "contradiction", "entailment", "neutral", "similarity")


def articles_of(documents: Sequence[Any]) -> list[Article]:
    """A request's documents (``DocumentIn``) as articles: ids as strings, missing metadata empty."""
    return [
        Article(id=str(doc.id), text=doc.text, **{name: getattr(doc, name) or "" for name in OPTIONAL_FIELDS})
        for doc in documents
    ]


def document_meta(article: Article) -> dict:
    """A document as answered: its id and metadata."""
    return {"id": article.id, **{name: getattr(article, name) for name in OPTIONAL_FIELDS}}


def document_out(article: Article, statements: int) -> dict:
    return {**document_meta(article), "statements": statements}


def request_deadline(settings: Settings) -> Deadline:
    """The deadline of a request on documents (``corpus_api_deadline_s``), from now."""
    return Deadline(settings.corpus.api_deadline_s, "corpus_api_deadline_s")


async def probabilities_of(
    request: Request, batcher: DynamicBatcher, deadline: Deadline, pairs: list[Pair], symmetric: bool = False
) -> np.ndarray:
    """Score ``pairs`` through the batcher, stopped at ``deadline`` or when the client goes away: one
    row of calibrated probabilities per pair, columns in ``LABELS`` order (no pairs: zero rows).
    The pairs come from the request's documents, so a batcher error names that field."""
    request.state.scored_field = "documents"
    if not pairs:
        if batcher.scorer is None:  # nothing to score, but the answer names the model
            raise NotReadyError("the model is not loaded yet")
        return np.zeros((0, len(LABELS)), dtype=np.float32)
    scores = await deadline.wait(unless_disconnected(request, batcher.score(pairs, symmetric=symmetric)))
    rows = [[getattr(score, label) for label in LABELS] for score in scores]
    return np.array(rows, dtype=np.float32).reshape(-1, len(LABELS))


def contradiction_out(row: dict) -> dict:
    """A ranked row as answered: the scores, and each side as its document id and offsets."""
    sides = {
        side: {"document": row[side]["article"], **{k: row[side][k] for k in STATEMENT_KEYS}} for side in "ab"
    }
    return {**{key: row[key] for key in SCORE_KEYS}, **sides}


def within_bytes(rows: list[dict], limit: int) -> list[dict]:
    """The best rows whose JSON fits in ``limit`` bytes (the rest of the answer is small and bounded
    by the request limits): a request of many similar documents cannot make a response of 100 MB."""
    size = 0
    for count, row in enumerate(rows):
        size += len(json.dumps(row, ensure_ascii=False).encode("utf-8")) + 1
        if size > limit:
            return rows[:count]
    return rows


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
        request: Request,
    ) -> DocumentsResponse:
        """Split the documents into sentences, pair similar sentences across documents, score the pairs.

        Returns each document's metadata once, then the pairs whose contradiction probability reaches
        the threshold, best first, each with both statements' document ids, character offsets and
        scores (at most ``corpus_api_max_response_bytes`` of them; ``contradictions_dropped`` counts
        the rest).
        """
        options = CorpusOptions.from_settings(
            settings,
            top_k=payload.top_k,
            min_similarity=payload.min_similarity,
            within_article=payload.within_article,
        )
        articles = articles_of(payload.documents)
        deadline = request_deadline(settings)
        statements, candidates = await run_in_threadpool(prepare, articles, options, embedder, deadline.check)
        kept = candidates.most_similar(settings.corpus.api_max_candidates)
        pairs = statement_pairs(statements, kept)
        probabilities = await probabilities_of(request, batcher, deadline, pairs, symmetric=True)
        scorer = batcher.scorer
        threshold = payload.threshold if payload.threshold is not None else scorer.calibration.threshold
        rows = ranked_rows(articles, statements, kept, probabilities, threshold)
        found = [contradiction_out(row) for row in rows if row["is_contradiction"]]
        shown = within_bytes(found, settings.corpus.api_max_response_bytes)
        counts = Counter(statement.article for statement in statements)
        return DocumentsResponse(
            model={"name": scorer.name, "version": scorer.version},
            threshold=threshold,
            documents=[document_out(article, counts[index]) for index, article in enumerate(articles)],
            statements=len(statements),
            candidates=len(kept),
            candidates_dropped=len(candidates) - len(kept),
            contradictions=shown,
            contradictions_dropped=len(found) - len(shown),
        )

    return router
