"""Bounded work per documents request, on a real uvicorn server with the tiny NLI model and the real
bi-encoder: the deadline stops the work (not only the answer), the answer has a size bound."""

from __future__ import annotations

import json
import random
import time

import pytest

from contradict.corpus.candidates import ENCODE_CHUNK
from contradict.settings import Settings
from service.app import create_app
from tests.support.corpus import ARTICLES
from tests.support.service import PLACES, SUBJECTS, VERBS, WHEN, live_client

pytestmark = pytest.mark.slow  # a real server and the real bi-encoder

URL = "/v1/documents/contradictions"


@pytest.fixture(scope="module")
def app(tiny_model_dir):
    settings = Settings(
        model=str(tiny_model_dir),
        corpus_api_max_documents=20,
        corpus_api_max_document_chars=100_000,
        corpus_min_similarity=0.3,
    )
    return create_app(settings)


@pytest.fixture(scope="module")
def client(app):
    with live_client(app) as http:
        yield http


def small_documents() -> list[dict]:
    return [{key: value for key, value in r.items() if key != "published"} for r in ARTICLES]


def long_document(seed: int, chars: int) -> str:
    """Distinct news-like sentences, so every one is embedded for real."""
    rng = random.Random(seed)
    sentences = []
    while sum(map(len, sentences)) < chars:
        words = [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(WHEN), rng.choice(PLACES)]
        sentences.append(" ".join(words) + f", report {rng.randrange(10**6)} said.")
    return " ".join(sentences)[:chars]


def test_the_deadline_stops_the_work_and_answers_504(client, app):
    assert client.post(URL, json={"documents": small_documents()}).status_code == 200  # models loaded
    corpus = app.state.settings.corpus
    corpus.api_deadline_s = 1.0
    try:
        # ~12,000 statements: twelve embedding chunks of 1,024, tens of seconds on a CPU.
        documents = [{"id": str(n), "text": long_document(n, 60_000)} for n in range(12)]
        # What one chunk costs right now (the machine may be busy): the deadline is checked per chunk.
        chunk = [f"{n} {text}"[:80] for n, text in enumerate(long_document(99, 100_000).split(" said. "))]
        started = time.monotonic()
        app.state.corpus_embedder.encode(chunk[:ENCODE_CHUNK])
        chunk_s = time.monotonic() - started
        started = time.monotonic()
        response = client.post(URL, json={"documents": documents})
        elapsed = time.monotonic() - started
    finally:
        corpus.api_deadline_s = 60.0
    assert response.status_code == 504, response.text
    detail = response.json()["detail"][0]
    assert detail["type"] == "deadline_exceeded" and detail["limit"] == 1.0
    assert "corpus_api_deadline_s" in detail["message"]
    # Stopped at the first check after the deadline, about one chunk in: far from all twelve.
    assert elapsed < 1.0 + 3 * chunk_s + 2, (elapsed, chunk_s)
    # The work is over, not just the answer: the bi-encoder is free again at once.
    lock = app.state.corpus_embedder._lock
    assert lock.acquire(timeout=5), "the embedding went on after the answer"
    lock.release()
    assert client.post(URL, json={"documents": small_documents()}).status_code == 200


def test_the_answer_stays_within_its_size_bound(client, app):
    payload = {"documents": small_documents(), "threshold": 0.0, "top_k": 3}
    full = client.post(URL, json=payload).json()
    assert full["contradictions_dropped"] == 0 and len(full["contradictions"]) > 2
    rows = [json.dumps(row, ensure_ascii=False).encode() for row in full["contradictions"]]
    limit = sum(len(row) + 1 for row in rows[:2])  # room for exactly the two best rows
    corpus = app.state.settings.corpus
    corpus.api_max_response_bytes = limit
    try:
        bounded = client.post(URL, json=payload).json()
    finally:
        corpus.api_max_response_bytes = 4_000_000
    assert bounded["contradictions"] == full["contradictions"][:2]
    assert bounded["contradictions_dropped"] == len(full["contradictions"]) - 2
    assert bounded["documents"] == full["documents"]  # metadata once per document either way
