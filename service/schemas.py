"""Request and response models of the HTTP API.

Request limits (pairs per request, characters per statement, documents per request, characters per
document) come from :class:`Settings`, so the request models are built per app by
:func:`contradictions_request`, :func:`documents_request` and :func:`claims_request`: pydantic then
enforces the configured limits, names them in its errors and shows them in the OpenAPI schema.
"""

import re
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from contradict.claims import DEFAULT_WINDOW, MAX_WINDOW
from contradict.labels import LABELS

EXAMPLE_PAIR = {
    "premise": "The bridge was opened to traffic in 1932.",
    "hypothesis": "The bridge has never carried any traffic.",
}


# "Not only whitespace", as the OpenAPI schema states it (a pattern) and as it is checked. The class is
# spelled out because ``\s`` differs between ECMA-262 (the schema's regex dialect, used by clients and
# test generators) and Python (which also counts \x1c-\x1f and \x85): this one is the union of both,
# and reads the same in both dialects.
NOT_BLANK = (
    r"[^ \t\n\f\r\u000b\u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
)
_NOT_BLANK = re.compile(NOT_BLANK)


def _not_blank(value: str) -> str:
    if not _NOT_BLANK.search(value):
        raise ValueError("must contain text, not only whitespace")
    return value


def statement(max_chars: int, description: str = "a statement (plain text)") -> Any:
    """A non-blank string of at most ``max_chars`` characters; strict, so numbers are not coerced.

    The pattern is only shown in the schema; :func:`_not_blank` checks it, with a clearer message
    than a failed pattern's."""
    return Annotated[
        str,
        StringConstraints(strict=True, min_length=1, max_length=max_chars),
        AfterValidator(_not_blank),
        Field(
            description=f"{description}; 1..{max_chars} characters, not only whitespace",
            json_schema_extra={"pattern": NOT_BLANK},
        ),
    ]


def contradictions_request(max_pairs: int, max_chars: int) -> type[BaseModel]:
    """Build the request model of ``POST /v1/contradictions`` for the configured limits."""
    Statement = statement(max_chars)

    class StatementPair(BaseModel):
        model_config = ConfigDict(extra="forbid")

        premise: Statement
        hypothesis: Statement

    class ContradictionsRequest(BaseModel):
        model_config = ConfigDict(
            extra="forbid", json_schema_extra={"examples": [{"pairs": [EXAMPLE_PAIR], "symmetric": False}]}
        )

        pairs: list[StatementPair] = Field(
            min_length=1,
            max_length=max_pairs,
            description=f"statement pairs to score, 1..{max_pairs}; results come back in this order",
        )
        symmetric: StrictBool = Field(
            False,
            description="score both directions and keep the one with the higher contradiction probability",
        )
        truncate: StrictBool = Field(
            True,
            description="score a pair longer than the model's max_length tokens (GET /v1/model) on the "
            "part that fits, and say so in its result's `truncated`; false: refuse the request (422, "
            "naming each such pair) instead",
        )

    return ContradictionsRequest


# A JSON number (an integer is a number too), never a boolean or a string.
StrictNumber = Annotated[float, Field(strict=True)]


def _json_integer(value: Any) -> Any:
    """JSON Schema's integer: 5 and 5.0 (then checked to have no fraction), never true or "5"."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def json_integer(low: int, high: int) -> Any:
    """An integer in ``low..high``, strict like :func:`_json_integer` (true is not 1, "5" is not 5)."""
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(_json_integer)]


MAX_ID_CHARS = 256
MAX_META_CHARS = 2000
Meta = Annotated[StrictStr | None, Field(None, max_length=MAX_META_CHARS)]
EXAMPLE_DOCUMENTS = [
    {"id": "a", "text": "The bridge reopened on Monday after repairs.", "source": "A"},
    {"id": "b", "text": "The bridge is still closed for repairs.", "source": "B"},
]


def _unique_ids(documents: list[Any]) -> list[Any]:
    """Refuse a repeated document id (as a string: 1 and "1" are the same article), naming each repeat.

    Raised as a ValidationError so that pydantic keeps each error's place: ``documents.N.id``.
    """
    seen: set[str] = set()
    repeats = []
    for number, document in enumerate(documents):
        key = str(document.id)
        if key in seen:
            error = PydanticCustomError("duplicate", "duplicate id {id}", {"id": repr(document.id)})
            repeats.append(InitErrorDetails(type=error, loc=(number, "id"), input=document.id))
        seen.add(key)
    if repeats:
        raise ValidationError.from_exception_data("documents", repeats)
    return documents


@cache
def document_model(max_chars: int) -> type[BaseModel]:
    """The model of one document in a request: one class per limit, so that the routes taking
    documents share it (one ``DocumentIn`` in the OpenAPI schema)."""
    Text = statement(max_chars, "the article text")

    class DocumentIn(BaseModel):
        model_config = ConfigDict(extra="forbid")

        id: Annotated[StrictStr, Field(min_length=1, max_length=MAX_ID_CHARS)] | StrictInt
        text: Text
        title: Meta = None
        source: Meta = None
        url: Meta = None
        published: Meta = None

    return DocumentIn


def document_list(max_chars: int, min_documents: int, max_documents: int, description: str) -> Any:
    """A list of ``min_documents..max_documents`` documents with unique ids (:func:`_unique_ids`)."""
    return Annotated[
        list[document_model(max_chars)],
        Field(
            min_length=min_documents,
            max_length=max_documents,
            description=f"{description}, {min_documents}..{max_documents}; ids unique",
        ),
        AfterValidator(_unique_ids),
    ]


def documents_request(max_documents: int, max_chars: int) -> type[BaseModel]:
    """Build the request model of ``POST /v1/documents/contradictions`` for the configured limits."""
    Documents = document_list(max_chars, 2, max_documents, "the articles to compare")

    class DocumentsRequest(BaseModel):
        model_config = ConfigDict(
            extra="forbid", json_schema_extra={"examples": [{"documents": EXAMPLE_DOCUMENTS}]}
        )

        documents: Documents
        # Strict like /v1/contradictions: true is not 1 and "5" is not 5.
        top_k: json_integer(1, 200) | None = Field(
            None, description="neighbours per statement (default: settings)"
        )
        min_similarity: StrictNumber | None = Field(
            None, ge=-1.0, le=1.0, description="cosine similarity floor"
        )
        threshold: StrictNumber | None = Field(
            None, ge=0.0, le=1.0, description="default: the model's calibrated one"
        )
        within_article: StrictBool = Field(False, description="also compare statements of the same document")

    return DocumentsRequest


EXAMPLE_CLAIM = {
    "claim": "Afghanistan shares a border with Tajikistan.",
    "documents": [
        {
            "id": "brief",
            "text": "Afghanistan has no border with Tajikistan. Uzbekistan lies between the two countries.",
            "source": "Brief",
        },
        {
            "id": "atlas",
            "text": "Afghanistan borders Tajikistan to the north. The Panj river marks much of that border.",
            "source": "Atlas",
        },
    ],
    "window": DEFAULT_WINDOW,
}


def claims_request(max_documents: int, max_document_chars: int, max_claim_chars: int) -> type[BaseModel]:
    """Build the request model of ``POST /v1/claims/stance`` for the configured limits: documents as
    ``POST /v1/documents/contradictions`` takes them, the claim as long as a statement of
    ``POST /v1/contradictions``."""
    Claim = statement(max_claim_chars, "the claim to check against each document")
    Documents = document_list(
        max_document_chars, 1, max_documents, "the documents to check the claim against"
    )

    class ClaimsRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_CLAIM]})

        claim: Claim
        documents: Documents
        window: json_integer(1, MAX_WINDOW) = Field(
            DEFAULT_WINDOW,
            description="consecutive statements per window the claim is scored against "
            f"(default {DEFAULT_WINDOW})",
        )

    return ClaimsRequest


class ModelRef(BaseModel):
    name: str
    version: str


class PairResult(BaseModel):
    contradiction: float = Field(description="calibrated probability")
    entailment: float
    neutral: float
    label: Literal[LABELS] = Field(  # type: ignore[valid-type]
        description="contradiction exactly when contradiction >= threshold, otherwise the larger of "
        "entailment and neutral; so label and is_contradiction never disagree"
    )
    is_contradiction: bool = Field(description="contradiction >= threshold (label == 'contradiction')")
    truncated: bool = Field(
        description="the pair had more tokens than the model reads (max_length, GET /v1/model) and was "
        "scored on the part that fits, the longer text cut first: a contradiction in the cut part is "
        "not seen; split long texts (POST /v1/documents/contradictions does)"
    )


class ContradictionsResponse(BaseModel):
    model: ModelRef
    threshold: float = Field(description="contradiction probability from which is_contradiction is true")
    symmetric: bool
    results: list[PairResult]


class DocumentMeta(BaseModel):
    id: str
    title: str
    source: str
    url: str
    published: str


class DocumentOut(DocumentMeta):
    """A document's metadata, once per document; statements name their document by ``id``."""

    statements: int = Field(description="statements found in the document")


class StatementOut(BaseModel):
    document: str = Field(description="the id of the statement's document (see `documents`)")
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
    model: ModelRef
    threshold: float
    documents: list[DocumentOut] = Field(description="every document of the request, in request order")
    statements: int
    candidates: int = Field(description="statement pairs scored")
    candidates_dropped: int = Field(description="less similar pairs not scored (corpus_api_max_candidates)")
    contradictions: list[ContradictionOut] = Field(description="pairs reaching the threshold, best first")
    contradictions_dropped: int = Field(
        description="lower-ranked contradictions left out to keep the answer within "
        "corpus_api_max_response_bytes"
    )


class EvidenceOut(BaseModel):
    """One window of a document and its calibrated probabilities against the claim."""

    start: int = Field(
        description="character offset: the document's text[start:end] is the window as published"
    )
    end: int
    text: str = Field(description="the window's statements joined by a space: what the model read")
    contradiction: float = Field(description="calibrated probability that the window contradicts the claim")
    entailment: float
    neutral: float


class StanceOut(BaseModel):
    contradiction_share: float = Field(
        description="of the evidence bearing on the claim, the share that contradicts it: sum of "
        "P(contradiction) over sum of P(contradiction) + P(entailment), over the windows (0.5 when "
        "nothing bears); a ranking score, not a calibrated probability"
    )
    bearing: float = Field(
        description="mean over the windows of P(contradiction) + P(entailment): how much of the "
        "document speaks to the claim at all"
    )
    windows: int
    most_contradicting: EvidenceOut = Field(description="the window with the highest P(contradiction)")
    most_entailing: EvidenceOut = Field(description="the window with the highest P(entailment)")


class ClaimDocumentOut(DocumentMeta):
    windows: int = Field(description="windows of consecutive statements the claim was scored against")
    stance: StanceOut | None = Field(description="null when the document has no statement (no window)")


class ClaimsResponse(BaseModel):
    model: ModelRef
    claim: str
    window: int = Field(description="statements per window")
    documents: list[ClaimDocumentOut] = Field(description="every document of the request, in request order")


class ModelInfo(BaseModel):
    """What ``NLIScorer.info()`` reports; free-form beyond the named fields."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())

    name: str
    version: str
    labels: dict[str, str]
    max_length: int
    calibration: dict[str, Any]
    metrics: dict[str, Any]


class ErrorDetail(BaseModel):
    field: str = Field(description="dotted path into the request, e.g. pairs.3.premise; 'body' for the whole")
    message: str
    type: str
    limit: Any | None = Field(None, description="the limit that was exceeded, when one was")


class ErrorBody(BaseModel):
    error: str
    detail: list[ErrorDetail] | None = None


class Health(BaseModel):
    status: str
    detail: str | None = None
