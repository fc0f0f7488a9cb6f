"""POST /v1/claims/stance on a real uvicorn server with the tiny real NLI model."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from contradict.claims import DEFAULT_WINDOW, claim_pairs, document_windows, stances
from contradict.corpus.pipeline import CorpusOptions
from contradict.corpus.reader import Article
from contradict.corpus.segment import Segmenter
from contradict.settings import Settings
from service.app import create_app
from tests.support.corpus import ARTICLES
from tests.support.service import live_client

pytestmark = pytest.mark.slow  # a real uvicorn server

URL = "/v1/claims/stance"
MAX_DOCUMENTS = 4
MAX_DOCUMENT_CHARS = 2000
MAX_CLAIM_CHARS = 300
CLAIM = "The Elm Street bridge collapsed on Monday and twelve people died."
EMPTY = {"id": "note", "text": "Ok."}  # a fragment: the segmenter keeps no statement of it


@pytest.fixture(scope="module")
def app(tiny_model_dir):
    settings = Settings(
        model=str(tiny_model_dir),
        max_statement_chars=MAX_CLAIM_CHARS,
        corpus_api_max_documents=MAX_DOCUMENTS,
        corpus_api_max_document_chars=MAX_DOCUMENT_CHARS,
        batch_max_wait_ms=5.0,
    )
    return create_app(settings)


@pytest.fixture(scope="module")
def client(app):
    with live_client(app) as http:
        yield http


def segmenter(app) -> Segmenter:
    """The app's segmenter: the corpus settings' statement options."""
    return Segmenter(CorpusOptions.from_settings(app.state.settings).segment)


def windows_of(app, document: dict, size: int):
    return document_windows(Article(id=str(document["id"]), text=document["text"]), size, segmenter(app))


@pytest.mark.parametrize("window", [None, 1, 3])
def test_stances_in_request_order_equal_the_core_pool(client, app, window):
    sent = [*ARTICLES, EMPTY]
    payload = {"claim": CLAIM, "documents": sent} | ({} if window is None else {"window": window})
    response = client.post(URL, json=payload)
    assert response.status_code == 200, response.text
    body = response.json()
    size = DEFAULT_WINDOW if window is None else window
    scorer = app.state.batcher.scorer
    assert body["model"] == {"name": scorer.name, "version": scorer.version}
    assert (body["claim"], body["window"]) == (CLAIM, size)
    # One entry per document, in request order, with its metadata as the documents route answers it.
    assert [d["id"] for d in body["documents"]] == [d["id"] for d in sent]
    for document, out in zip(sent, body["documents"], strict=True):
        for name in ("title", "source", "url", "published"):
            assert out[name] == document.get(name, "")
    # The same windows, pairs (window as premise, claim as hypothesis) and pool as the core's.
    checks = [(CLAIM, windows_of(app, document, size)) for document in sent]
    assert [d["windows"] for d in body["documents"]] == [len(windows) for _, windows in checks]
    expected = stances(checks, scorer.probabilities(claim_pairs(checks)))
    assert expected[-1] is None and body["documents"][-1] == {
        **{name: "" for name in ("title", "source", "url", "published")},
        "id": EMPTY["id"],
        "windows": 0,
        "stance": None,
    }
    for document, out, core in zip(sent[:-1], body["documents"], expected, strict=False):
        stance = out["stance"]
        assert core is not None and stance["windows"] == core.windows == out["windows"] > 0
        assert stance["contradiction_share"] == pytest.approx(core.contradiction_share, abs=1e-5)
        assert stance["bearing"] == pytest.approx(core.bearing, abs=1e-5)
        assert 0 <= stance["contradiction_share"] <= 1 and 0 < stance["bearing"] <= 1
        core_evidence = core.as_dict()
        statements = segmenter(app).segment(0, Article(id=document["id"], text=document["text"]))
        starts = {statement.start: statement.text for statement in statements}
        ends = {statement.end: statement.text for statement in statements}
        for side in ("most_contradicting", "most_entailing"):
            evidence, wanted = stance[side], core_evidence[side]
            assert (evidence["start"], evidence["end"], evidence["text"]) == (
                wanted["start"],
                wanted["end"],
                wanted["text"],
            )
            np.testing.assert_allclose(
                [evidence[label] for label in ("contradiction", "entailment", "neutral")],
                [wanted[label] for label in ("contradiction", "entailment", "neutral")],
                atol=1e-5,
            )
            # The offsets point at the passage as published: from the window's first statement to its last.
            passage = document["text"][evidence["start"] : evidence["end"]]
            first, last = starts[evidence["start"]], ends[evidence["end"]]
            assert passage.startswith(first) and evidence["text"].startswith(first)
            assert passage.endswith(last) and evidence["text"].endswith(last)


def test_only_documents_without_statements(client):
    response = client.post(
        URL, json={"claim": CLAIM, "documents": [EMPTY, {"id": 2, "text": "Fine.\n\nYes."}]}
    )
    assert response.status_code == 200, response.text
    assert [(d["id"], d["windows"], d["stance"]) for d in response.json()["documents"]] == [
        ("note", 0, None),
        ("2", 0, None),
    ]


def error_details(response: httpx.Response) -> dict[str, dict]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"]
    return {item["field"]: item for item in body["detail"]}


DOCS = [{"id": "a", "text": ARTICLES[0]["text"]}]


@pytest.mark.parametrize(
    ("payload", "field", "limit"),
    [
        ({"claim": CLAIM, "documents": DOCS, "window": 0}, "window", 1),
        ({"claim": CLAIM, "documents": DOCS, "window": 6}, "window", 5),
        ({"claim": CLAIM, "documents": DOCS, "window": True}, "window", None),
        ({"claim": CLAIM, "documents": DOCS, "window": "2"}, "window", None),
        ({"claim": " \n\t", "documents": DOCS}, "claim", None),
        ({"claim": "", "documents": DOCS}, "claim", 1),
        ({"claim": "x" * (MAX_CLAIM_CHARS + 1), "documents": DOCS}, "claim", MAX_CLAIM_CHARS),
        ({"documents": DOCS}, "claim", None),
        ({"claim": CLAIM, "documents": DOCS * (MAX_DOCUMENTS + 1)}, "documents", MAX_DOCUMENTS),
        ({"claim": CLAIM, "documents": []}, "documents", 1),
        ({"claim": CLAIM, "documents": [DOCS[0], {"id": "a", "text": "two"}]}, "documents.1.id", None),
        ({"claim": CLAIM, "documents": [{"id": "a", "text": "x" * (MAX_DOCUMENT_CHARS + 1)}]},
         "documents.0.text", MAX_DOCUMENT_CHARS),
        ({"claim": CLAIM, "documents": DOCS, "threshold": 0.5}, "threshold", None),
    ],
)  # fmt: skip
def test_bad_input_answers_422_naming_the_field(client, payload, field, limit):
    details = error_details(client.post(URL, json=payload))
    assert field in details, details
    assert details[field]["limit"] == limit and details[field]["message"]


def test_too_many_documents_has_the_documents_route_error_type(client):
    details = error_details(client.post(URL, json={"claim": CLAIM, "documents": DOCS * (MAX_DOCUMENTS + 1)}))
    assert details["documents"]["type"] == "too_long"


def test_the_schema_lists_the_route(client):
    schema = client.get("/openapi.json").json()
    operation = schema["paths"][URL]["post"]
    assert {"200", "422", "504"} <= set(operation["responses"])
    assert "AUROC" in operation["description"] and "bearing" in operation["description"]
    request = schema["components"]["schemas"]["ClaimsRequest"]
    assert request["properties"]["window"]["default"] == DEFAULT_WINDOW
    assert request["properties"]["claim"]["maxLength"] == MAX_CLAIM_CHARS
    # One document model for both routes that take documents.
    documents = schema["components"]["schemas"]["DocumentsRequest"]["properties"]["documents"]
    assert request["properties"]["documents"]["items"] == documents["items"]
    example = request["examples"][0]
    assert client.post(URL, json=example).status_code == 200


def test_a_request_with_more_tokens_than_the_queue_holds_answers_413_naming_documents(tiny_model_dir):
    """Every window of every document is scored: a request too large for the whole queue names the
    field the client can shrink."""
    settings = Settings(model=str(tiny_model_dir), queue_max_tokens=1024, batch_max_wait_ms=5.0)
    sentence = "The bridge over the river collapsed on Monday after days of heavy rain in the valley. "
    documents = [{"id": str(n), "text": sentence * 40} for n in range(2)]
    with live_client(create_app(settings)) as http:
        response = http.post(URL, json={"claim": CLAIM, "documents": documents})
    assert response.status_code == 413, response.text
    (detail,) = response.json()["detail"]
    assert detail["field"] == "documents" and detail["type"] == "too_many_tokens"
