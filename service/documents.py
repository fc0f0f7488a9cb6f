"""POST /v1/documents/contradictions: the corpus scan for a handful of documents over HTTP.

The same stages as ``contradict corpus`` (segment, candidates, ranked rows) without checkpoints:
segmentation and embedding are CPU-bound, so they run in the thread pool; scoring goes through
the app's batcher like every other model call. The bi-encoder is loaded once per app, lazily.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from starlette.concurrency import run_in_threadpool

from contradict.corpus.candidates import Embedder
from contradict.corpus.pipeline import CorpusOptions, prepare, statement_pairs
from contradict.corpus.reader import Article
from contradict.corpus.rows import ranked_rows
from contradict.labels import LABELS
from service.errors import error_response, field_error
from service.schemas import ErrorBody

router = APIRouter()

ERRORS = {
    400: {"model": ErrorBody, "description": "invalid JSON"},
    413: {"model": ErrorBody, "description": "body larger than max_body_bytes"},
    422: {"model": ErrorBody, "description": "a field breaks a limit; `detail` names it"},
    503: {"model": ErrorBody, "description": "queue full or model not ready; see Retry-After"},
}


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain text, not only whitespace")
    return value


MAX_ID_CHARS = 256
MAX_META_CHARS = 2000
Meta = Annotated[StrictStr | None, Field(None, max_length=MAX_META_CHARS)]


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[StrictStr, Field(min_length=1, max_length=MAX_ID_CHARS)] | StrictInt
    # The size limit is a setting, checked in the handler: this router is built once per process.
    text: Annotated[
        StrictStr,
        Field(min_length=1, description="the article text; at most corpus_api_max_document_chars characters"),
        AfterValidator(_not_blank),
    ]
    title: Meta = None
    source: Meta = None
    url: Meta = None
    published: Meta = None


class DocumentsRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "documents": [
                        {"id": "a", "text": "The bridge reopened on Monday after repairs.", "source": "A"},
                        {"id": "b", "text": "The bridge is still closed for repairs.", "source": "B"},
                    ]
                }
            ]
        },
    )

    documents: list[DocumentIn] = Field(min_length=2, description="the articles to compare (ids unique)")
    top_k: int | None = Field(None, ge=1, le=200, description="neighbours per statement (default: settings)")
    min_similarity: float | None = Field(None, ge=-1.0, le=1.0, description="cosine similarity floor")
    threshold: float | None = Field(None, ge=0.0, le=1.0, description="default: the model's calibrated one")
    within_article: StrictBool = Field(False, description="also compare statements of the same document")


class StatementOut(BaseModel):
    article: str
    title: str
    source: str
    url: str
    published: str
    sentence: int = Field(description="position of the sentence in its document")
    start: int = Field(description="character offset: text[start:end] is the statement")
    end: int
    paragraph_start: int
    paragraph_end: int
    text: str


class ContradictionOut(BaseModel):
    rank: int
    contradiction: float
    entailment: float
    neutral: float
    similarity: float
    a: StatementOut
    b: StatementOut


class DocumentsResponse(BaseModel):
    model: dict[str, str]
    threshold: float
    documents: int
    statements: int
    candidates: int = Field(description="statement pairs scored")
    candidates_dropped: int = Field(description="less similar pairs not scored (corpus_api_max_candidates)")
    contradictions: list[ContradictionOut]


def _limit_errors(payload: DocumentsRequest, settings) -> list[dict[str, Any]]:
    errors = []
    most = settings.corpus_api_max_documents
    if len(payload.documents) > most:
        message = f"{len(payload.documents)} documents; at most {most} per request"
        errors.append(field_error("documents", message, "too_long", most))
    seen: set[str] = set()
    for number, document in enumerate(payload.documents):
        if len(document.text) > settings.corpus_api_max_document_chars:
            errors.append(
                field_error(
                    f"documents.{number}.text",
                    f"{len(document.text)} characters; at most {settings.corpus_api_max_document_chars}",
                    "string_too_long",
                    settings.corpus_api_max_document_chars,
                )
            )
        if str(document.id) in seen:
            errors.append(field_error(f"documents.{number}.id", f"duplicate id {document.id!r}", "duplicate"))
        seen.add(str(document.id))
    return errors


def _embedder(request: Request) -> Embedder:
    """One bi-encoder per app; created on first use (no await in between, so no race)."""
    embedder = getattr(request.app.state, "corpus_embedder", None)
    if embedder is None:
        settings = request.app.state.settings
        embedder = Embedder(
            settings.corpus_embedder, settings.corpus_embedder_device, settings.corpus_embed_batch_size
        )
        request.app.state.corpus_embedder = embedder
    return embedder


@router.post(
    "/v1/documents/contradictions",
    response_model=DocumentsResponse,
    responses=ERRORS,
    tags=["documents"],
    summary="Find contradicting statements across documents",
)
async def documents_contradictions(request: Request, payload: Annotated[DocumentsRequest, Body()]):
    """Split the documents into sentences, pair similar sentences across documents, score the pairs.

    Returns the pairs whose contradiction probability reaches the threshold, best first, each with
    both statements' document ids, character offsets and scores.
    """
    settings = request.app.state.settings
    errors = _limit_errors(payload, settings)
    if errors:
        return error_response(422, "the request is invalid", errors)
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
    statements, found = await run_in_threadpool(prepare, articles, options, _embedder(request))
    kept = found.most_similar(settings.corpus_api_max_candidates)
    batcher = request.app.state.batcher
    scores = await batcher.score(statement_pairs(statements, kept), symmetric=True) if len(kept) else []
    probabilities = np.array([[s.contradiction, s.entailment, s.neutral] for s in scores], dtype=np.float32)
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
