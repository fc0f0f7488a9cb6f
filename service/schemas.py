"""Request and response models of the HTTP API.

Request limits (pairs per request, characters per statement) come from :class:`Settings`, so the
request model is built per app by :func:`contradictions_request`: pydantic then enforces the
configured limits, names them in its errors and shows them in the OpenAPI schema.
"""

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from contradict.labels import LABELS

EXAMPLE_PAIR = {
    "premise": "The bridge was opened to traffic in 1932.",
    "hypothesis": "The bridge has never carried any traffic.",
}


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain text, not only whitespace")
    return value


def statement(max_chars: int, description: str = "a statement (plain text)") -> Any:
    """A non-blank string of at most ``max_chars`` characters; strict, so numbers are not coerced.

    Exposed for other routers (documents) that accept statements under the same limits.
    """
    return Annotated[
        str,
        StringConstraints(strict=True, min_length=1, max_length=max_chars),
        AfterValidator(_not_blank),
        Field(description=f"{description}; 1..{max_chars} characters, not only whitespace"),
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

    return ContradictionsRequest


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


class ContradictionsResponse(BaseModel):
    model: ModelRef
    threshold: float = Field(description="contradiction probability from which is_contradiction is true")
    symmetric: bool
    results: list[PairResult]


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
