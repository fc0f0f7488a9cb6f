"""POST /v1/documents/contradictions on a real uvicorn server with the tiny real NLI model."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from contradict.scorer import NLIScorer
from contradict.settings import Settings
from service.app import create_app
from tests.support.corpus import ARTICLES
from tests.support.service import live_client

# All slow: every test talks to a real uvicorn server, which loads the real bi-encoder.
pytestmark = pytest.mark.slow

URL = "/v1/documents/contradictions"
MAX_DOCUMENTS = 4
MAX_CHARS = 2000


@pytest.fixture(scope="module")
def app(tiny_model_dir):
    settings = Settings(
        model=str(tiny_model_dir),
        corpus_api_max_documents=MAX_DOCUMENTS,
        corpus_api_max_document_chars=MAX_CHARS,
        corpus_min_similarity=0.3,
        batch_max_wait_ms=5.0,
    )
    return create_app(settings)


@pytest.fixture(scope="module")
def client(app):
    with live_client(app) as http:
        yield http


def documents(records=ARTICLES) -> list[dict]:
    return [{key: value for key, value in r.items() if key != "published"} for r in records]


def test_contradicting_pairs_with_offsets_and_core_scores(client, app, tiny_model_dir):
    response = client.post(URL, json={"documents": documents(), "threshold": 0.0, "top_k": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["statements"] > 0 and body["candidates_dropped"] == 0 and body["contradictions_dropped"] == 0
    # Metadata once per document, in request order; statements name their document by id.
    sent = documents()
    assert [d["id"] for d in body["documents"]] == [d["id"] for d in sent]
    herald = body["documents"][0]
    assert (herald["title"], herald["source"], herald["url"]) == (
        sent[0]["title"],
        sent[0]["source"],
        sent[0]["url"],
    )
    assert sum(d["statements"] for d in body["documents"]) == body["statements"]
    found = body["contradictions"]
    assert len(found) == body["candidates"] > 0
    assert [row["rank"] for row in found] == list(range(1, len(found) + 1))
    scores = [row["contradiction"] for row in found]
    assert scores == sorted(scores, reverse=True)
    texts = {r["id"]: r["text"] for r in ARTICLES}
    for row in found:
        assert row["a"]["document"] != row["b"]["document"]
        for side in (row["a"], row["b"]):
            assert set(side) == {
                "document",
                "sentence",
                "start",
                "end",
                "paragraph_start",
                "paragraph_end",
                "text",
            }
            assert texts[side["document"]][side["start"] : side["end"]] == side["text"]
    core = NLIScorer(str(tiny_model_dir))
    expected = core.probabilities([(row["a"]["text"], row["b"]["text"]) for row in found], symmetric=True)
    got = np.array([[row["contradiction"], row["entailment"], row["neutral"]] for row in found])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    embedder = app.state.corpus_embedder
    client.post(URL, json={"documents": documents()})
    assert app.state.corpus_embedder is embedder, "bi-encoder loaded again"


def test_default_threshold_filters(client):
    body = client.post(URL, json={"documents": documents()}).json()
    assert body["threshold"] == 0.5 and body["candidates"] > 0
    assert all(row["contradiction"] >= 0.5 for row in body["contradictions"])


def test_candidate_cap_keeps_the_most_similar(client, app):
    app.state.settings.corpus.api_max_candidates = 2
    try:
        body = client.post(URL, json={"documents": documents(), "threshold": 0.0, "top_k": 3}).json()
    finally:
        app.state.settings.corpus.api_max_candidates = 4096
    assert body["candidates"] == 2 and body["candidates_dropped"] > 0


def error_details(response: httpx.Response) -> dict[str, dict]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"]
    return {item["field"]: item for item in body["detail"]}


@pytest.mark.parametrize(
    ("payload", "field", "limit"),
    [
        ({"documents": documents() + documents()[:2]}, "documents", MAX_DOCUMENTS),
        ({"documents": documents()[:1]}, "documents", 2),
        ({"documents": [{"id": "a", "text": "x" * (MAX_CHARS + 1)}, {"id": "b", "text": "y"}]},
         "documents.0.text", MAX_CHARS),
        ({"documents": [{"id": "a", "text": "one"}, {"id": "a", "text": "two"}]}, "documents.1.id", None),
        ({"documents": [{"id": 1, "text": "one"}, {"id": "1", "text": "two"}]}, "documents.1.id", None),
        ({"documents": [{"id": "a"}, {"id": "b", "text": "two"}]}, "documents.0.text", None),
        ({"documents": [{"id": "a", "text": "  "}, {"id": "b", "text": "two"}]}, "documents.0.text", None),
        ({"documents": [{"id": "a", "text": 5}, {"id": "b", "text": "two"}]}, "documents.0.text", None),
        ({"documents": documents(), "top_k": 0}, "top_k", 1),
        ({"documents": documents(), "threshold": 1.5}, "threshold", 1.0),
    ],
)  # fmt: skip
def test_limits_answer_422_naming_the_field(client, payload, field, limit):
    details = error_details(client.post(URL, json=payload))
    assert field in details and details[field]["limit"] == limit
    assert details[field]["message"]
    if limit is not None:
        assert format(limit, "g") in details[field]["message"]  # 1.0 reads "1"


def test_limit_errors_have_the_pairs_route_shape(client):
    too_many = error_details(client.post(URL, json={"documents": documents() + documents()[:2]}))
    assert too_many["documents"]["type"] == "too_long"
    too_long = {"documents": [{"id": "a", "text": "x" * (MAX_CHARS + 1)}, {"id": "b", "text": "y"}]}
    assert error_details(client.post(URL, json=too_long))["documents.0.text"] == {
        "field": "documents.0.text",
        "message": f"String should have at most {MAX_CHARS} characters",
        "type": "string_too_long",
        "limit": MAX_CHARS,
    }
    repeated = {"documents": [{"id": "a", "text": "one"}, {"id": "a", "text": "two"}]}
    assert error_details(client.post(URL, json=repeated))["documents.1.id"] == {
        "field": "documents.1.id",
        "message": "duplicate id 'a'",
        "type": "duplicate",
        "limit": None,
    }


def test_openapi_documents_the_limits(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["DocumentsRequest"]["properties"]["documents"]["maxItems"] == MAX_DOCUMENTS
    assert schemas["DocumentIn"]["properties"]["text"]["maxLength"] == MAX_CHARS
