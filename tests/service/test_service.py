"""The HTTP service end to end: a real uvicorn server on 127.0.0.1 serving a tiny real model."""

from __future__ import annotations

import asyncio
import os
import socket

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from contradict.scorer import NLIScorer
from contradict.settings import FLAT_NAMES, Settings
from service.app import create_app
from tests.support.models import build_tiny_model, token_counts
from tests.support.service import LiveServer, body, make_pairs

MAX_PAIRS = 1024
MAX_CHARS = 500
MAX_BODY = 200_000
API_KEY = "s3cret-test-key"

# Every test that talks to a real uvicorn server (the live/client/secured fixtures or its own
# LiveServer) is marked slow; the two server-entry-point tests at the end are not.


def settings_for(model, **overrides) -> Settings:
    values = {
        "model": str(model),
        "max_pairs_per_request": MAX_PAIRS,
        "max_statement_chars": MAX_CHARS,
        "max_body_bytes": MAX_BODY,
        "batch_max_wait_ms": 10.0,
    }
    return Settings(**(values | overrides))


@pytest.fixture(scope="module")
def reference(tiny_model_dir) -> NLIScorer:
    """The core, used directly: what every service answer must equal."""
    return NLIScorer(str(tiny_model_dir))


@pytest.fixture(scope="module")
def live(tiny_model_dir):
    server = LiveServer(create_app(settings_for(tiny_model_dir))).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(live):
    with httpx.Client(base_url=live.url, timeout=60) as http:
        yield http


def assert_matches_core(results: list[dict], reference: NLIScorer, pairs, symmetric: bool = False) -> None:
    expected = reference.probabilities(pairs, symmetric=symmetric)
    got = np.array([[r["contradiction"], r["entailment"], r["neutral"]] for r in results])
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5)
    records = reference.score(pairs, symmetric=symmetric)
    for row, result, core in zip(got, results, records, strict=True):
        assert result["label"] == ("contradiction", "entailment", "neutral")[int(np.argmax(row))]
        assert result["is_contradiction"] == core.is_contradiction
        assert result["truncated"] is core.truncated


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of the samples called ``name`` whose labels include ``labels``."""
    total, found = 0.0, False
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
                found = True
    assert found, f"no sample {name}{labels}"
    return total


# -- scoring ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_concurrent_clients_each_get_their_own_results(live, reference):
    requests = [(make_pairs(1 + i % 5, seed=i), i % 4 == 0) for i in range(32)]
    batched_before = metric(httpx.get(live.url + "/metrics").text, "contradict_batch_pairs_sum")

    async def run_all():
        async with httpx.AsyncClient(base_url=live.url, timeout=60) as http:
            return await asyncio.gather(
                *(http.post("/v1/contradictions", json=body(p, s)) for p, s in requests)
            )

    responses = asyncio.run(run_all())
    for (pairs, symmetric), response in zip(requests, responses, strict=True):
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["symmetric"] is symmetric
        assert_matches_core(data["results"], reference, pairs, symmetric)
    # Every pair (both directions when symmetric) went through the batcher exactly once.
    batched = metric(httpx.get(live.url + "/metrics").text, "contradict_batch_pairs_sum") - batched_before
    assert batched == sum(len(p) * (2 if s else 1) for p, s in requests)


@pytest.mark.slow
def test_response_shape_and_model_reference(client, reference):
    data = client.post("/v1/contradictions", json=body(make_pairs(2, seed=99))).json()
    assert data["model"] == {"name": reference.name, "version": reference.version}
    assert data["threshold"] == pytest.approx(reference.calibration.threshold)
    fields = {"contradiction", "entailment", "neutral", "label", "is_contradiction", "truncated"}
    assert set(data["results"][0]) == fields
    assert sum(data["results"][0][k] for k in ("contradiction", "entailment", "neutral")) == pytest.approx(
        1.0
    )


@pytest.mark.slow
def test_symmetric_keeps_the_more_contradicting_direction(client, reference):
    pairs = make_pairs(6, seed=7)
    data = client.post("/v1/contradictions", json=body(pairs, symmetric=True)).json()
    assert_matches_core(data["results"], reference, pairs, symmetric=True)
    forward = reference.probabilities(pairs)[:, 0]
    backward = reference.probabilities([(h, p) for p, h in pairs])[:, 0]
    got = [r["contradiction"] for r in data["results"]]
    np.testing.assert_allclose(got, np.maximum(forward, backward), atol=1e-5)


@pytest.mark.slow
def test_long_pairs_are_marked_truncated_or_refused_on_request(client, reference):
    """A pair longer than the model reads is scored on what fits and says so; with truncate: false
    the request is refused, naming each such pair, and the model's limit."""
    long = " ".join(["x"] * 200) + "."  # within MAX_CHARS, more tokens than the tiny model reads
    pairs = [*make_pairs(2, seed=3), (long, long), ("The mayor stayed home.", long)]
    expected = [item.truncated for item in reference.encode(pairs)]
    assert expected == [False, False, True, True]

    data = client.post("/v1/contradictions", json=body(pairs)).json()
    assert [r["truncated"] for r in data["results"]] == expected
    assert_matches_core(data["results"], reference, pairs)

    for symmetric in (False, True):
        refused = client.post("/v1/contradictions", json=body(pairs, symmetric) | {"truncate": False})
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"]
        assert [d["field"] for d in detail] == ["pairs.2", "pairs.3"]
        assert {d["type"] for d in detail} == {"too_many_tokens"}
        assert {d["limit"] for d in detail} == {reference.max_length}
    short = client.post("/v1/contradictions", json=body(pairs[:2]) | {"truncate": False})
    assert short.status_code == 200
    assert_matches_core(short.json()["results"], reference, pairs[:2])


@pytest.mark.slow
def test_a_request_of_the_maximum_size_is_split_over_micro_batches(live, client, reference):
    pairs = make_pairs(MAX_PAIRS, seed=1234)
    batches_before = metric(client.get("/metrics").text, "contradict_batch_pairs_count")
    response = client.post("/v1/contradictions", json=body(pairs))
    assert response.status_code == 200, response.text
    assert_matches_core(response.json()["results"], reference, pairs)
    batches = metric(client.get("/metrics").text, "contradict_batch_pairs_count") - batches_before
    assert batches >= MAX_PAIRS / live.app.state.settings.service.batch_max_pairs


# -- bad input ---------------------------------------------------------------------------------------

GOOD = {"premise": "The museum opened in 1932.", "hypothesis": "The museum never opened."}


def with_pair(index: int, **change) -> dict:
    pairs = [dict(GOOD) for _ in range(index + 1)]
    pairs[index].update(change)
    return {"pairs": pairs}


BAD_JSON_BODIES = {
    "empty pairs": ({"pairs": []}, "pairs", 1),
    "too many pairs": ({"pairs": [GOOD] * (MAX_PAIRS + 1)}, "pairs", MAX_PAIRS),
    "whitespace premise": (with_pair(3, premise=" \t\n "), "pairs.3.premise", None),
    "empty hypothesis": (with_pair(0, hypothesis=""), "pairs.0.hypothesis", 1),
    "statement too long": (with_pair(1, hypothesis="x" * (MAX_CHARS + 1)), "pairs.1.hypothesis", MAX_CHARS),
    "number as statement": (with_pair(0, premise=5), "pairs.0.premise", None),
    "null statement": (with_pair(0, premise=None), "pairs.0.premise", None),
    "pairs not a list": ({"pairs": "The museum opened."}, "pairs", None),
    "pair as a list": ({"pairs": [["a", "b"]]}, "pairs.0", None),
    "missing hypothesis": ({"pairs": [{"premise": "a"}]}, "pairs.0.hypothesis", None),
    "missing pairs": ({"symmetric": True}, "pairs", None),
    "symmetric not a bool": ({"pairs": [GOOD], "symmetric": "yes"}, "symmetric", None),
    "unknown field": ({"pairs": [GOOD], "symetric": True}, "symetric", None),
    "body is a list": ([GOOD], "body", None),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BAD_JSON_BODIES))
def test_invalid_fields_are_422_naming_the_field_and_limit(client, name):
    payload, field, limit = BAD_JSON_BODIES[name]
    response = client.post("/v1/contradictions", json=payload)
    assert response.status_code == 422, response.text
    data = response.json()
    assert data["error"]
    details = {item["field"]: item for item in data["detail"]}
    assert field in details, data
    assert details[field]["message"]
    if limit is not None:
        assert details[field]["limit"] == limit
        assert str(limit) in details[field]["message"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "headers", "status", "field"),
    [
        (b'{"pairs": [', {"content-type": "application/json"}, 400, "body"),
        (b"", {"content-type": "application/json"}, 422, "body"),
        (
            '{"pairs": [{"premise": "caf\u00e9", "hypothesis": "x"}]}'.encode("latin-1"),
            {"content-type": "application/json"},
            400,
            "body",
        ),
        (b'{"pairs": [{"premise": "a", "hypothesis": "b"}]}', {}, 422, "body"),
        (b'{"pairs": [{"premise": "a", "hypothesis": "b"}]}', {"content-type": "text/plain"}, 422, "body"),
    ],
    ids=["invalid JSON", "empty body", "latin-1 body", "no content type", "text/plain"],
)
def test_unparseable_bodies_are_4xx_json(client, content, headers, status, field):
    response = client.post("/v1/contradictions", content=content, headers=headers)
    assert response.status_code == status, response.text
    data = response.json()
    assert data["error"]
    assert data["detail"][0]["field"] == field


def raw_http(live: LiveServer, request: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", live.port), timeout=30) as conn:
        conn.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
    head, _, payload = received.partition(b"\r\n\r\n")
    return int(head.split()[1]), payload


@pytest.mark.slow
def test_declared_content_length_over_the_limit_is_413_before_the_body_is_sent(live):
    status, payload = raw_http(
        live,
        b"POST /v1/contradictions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {MAX_BODY * 50}\r\n\r\n".encode(),
    )
    assert status == 413
    assert str(MAX_BODY) in payload.decode()


@pytest.mark.slow
def test_streamed_body_over_the_limit_is_413(client):
    def chunks():  # chunked transfer: no Content-Length to check up front
        yield b'{"pairs": ['
        for _ in range(MAX_BODY // 10_000 + 2):
            yield b" " * 10_000

    response = client.post(
        "/v1/contradictions", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["detail"][0]["limit"] == MAX_BODY


@pytest.mark.slow
def test_small_streamed_body_is_accepted(client, reference):
    pairs = make_pairs(3, seed=3)
    encoded = httpx.Request("POST", "http://x", json=body(pairs)).content

    def chunks():
        yield encoded[:10]
        yield encoded[10:]

    response = client.post(
        "/v1/contradictions", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert_matches_core(response.json()["results"], reference, pairs)


@pytest.mark.slow
def test_unknown_route_and_wrong_method_are_json(client):
    assert client.get("/v1/nothing").json()["error"]
    response = client.get("/v1/contradictions")
    assert response.status_code == 405
    assert response.json()["error"]


# -- health, model info, metrics, docs -------------------------------------------------------------


@pytest.mark.slow
def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "alive", "detail": None}
    assert client.get("/readyz").json()["status"] == "ready"


@pytest.mark.slow
def test_model_info(client, reference, tiny_model_dir):
    info = client.get("/v1/model").json()
    assert info["name"] == reference.name
    assert info["version"] == reference.version
    assert info["labels"] == {"0": "contradiction", "1": "entailment", "2": "neutral"}
    assert info["max_length"] == reference.max_length
    assert info["calibration"]["threshold"] == pytest.approx(reference.calibration.threshold)
    assert "metrics" in info
    # The server's file system stays private: no folder of the model appears in the answer.
    assert str(tiny_model_dir.parent) not in client.get("/v1/model").text


@pytest.mark.slow
def test_metrics_exposition(client):
    client.post("/v1/contradictions", json=body(make_pairs(1, seed=5)))
    client.post("/v1/contradictions", json={"pairs": []})
    text = client.get("/metrics").text
    route = "/v1/contradictions"
    assert metric(text, "contradict_http_requests_total", route=route, method="POST", status="200") >= 1
    assert metric(text, "contradict_http_requests_total", route=route, method="POST", status="422") >= 1
    assert metric(text, "contradict_http_request_duration_seconds_count", route=route) >= 2
    assert metric(text, "contradict_batch_pairs_bucket", le="+Inf") >= 1
    assert metric(text, "contradict_queue_pairs") == 0
    assert metric(text, "contradict_model_info") == 1
    assert metric(text, "process_resident_memory_bytes") > 0


@pytest.mark.slow
def test_openapi_documents_the_limits(client):
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/v1/contradictions" in schema["paths"]
    request = schema["components"]["schemas"]["ContradictionsRequest"]
    assert request["properties"]["pairs"]["maxItems"] == MAX_PAIRS


# -- auth ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secured(tiny_model_dir):
    server = LiveServer(create_app(settings_for(tiny_model_dir, api_key=API_KEY))).start()
    yield server
    server.stop()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"X-API-Key": API_KEY[:-1]}, 401),
        ({"Authorization": f"Basic {API_KEY}"}, 401),
        ({"Authorization": f"Bearer {API_KEY}"}, 200),
        ({"X-API-Key": API_KEY}, 200),
    ],
)
def test_api_key(secured, headers, status):
    response = httpx.post(
        secured.url + "/v1/contradictions", json=body(make_pairs(1, seed=1)), headers=headers
    )
    assert response.status_code == status
    if status == 401:
        assert "API key" in response.json()["error"]
        assert response.headers["www-authenticate"] == "Bearer"
        # auth is checked before the body is even read: a broken body still gets 401
        assert (
            httpx.post(secured.url + "/v1/contradictions", content=b"{", headers=headers).status_code == 401
        )


@pytest.mark.slow
def test_api_key_leaves_probes_open_and_guards_the_rest(secured):
    assert httpx.get(secured.url + "/healthz").status_code == 200
    assert httpx.get(secured.url + "/readyz").status_code == 200
    assert httpx.get(secured.url + "/metrics").status_code == 401
    assert httpx.get(secured.url + "/v1/model").status_code == 401
    assert httpx.get(secured.url + "/v1/model", headers={"X-API-Key": API_KEY}).status_code == 200


@pytest.mark.slow
def test_no_api_key_configured_means_open(client):
    assert client.post("/v1/contradictions", json=body(make_pairs(1, seed=2))).status_code == 200


# -- overload, readiness failures, shutdown --------------------------------------------------------


@pytest.mark.slow
def test_full_queue_answers_503_with_retry_after(tiny_model_dir, reference):
    big = make_pairs(MAX_PAIRS, seed=11)
    limit = sum(token_counts(reference, big + [(b, a) for a, b in big]))  # the big request fills it
    settings = settings_for(tiny_model_dir, queue_max_tokens=limit, batch_max_pairs=1, batch_max_wait_ms=0)
    server = LiveServer(create_app(settings)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            result: dict = {}

            async def flood_then_probe():
                async with httpx.AsyncClient(base_url=server.url, timeout=120) as session:
                    flood = asyncio.create_task(session.post("/v1/contradictions", json=body(big, True)))
                    while not server.app.state.batcher.pending:  # the big request is queued
                        await asyncio.sleep(0.001)
                    # 100 pairs: counted at up to 128 tokens each until tokenised, more than the
                    # worker scores (one pair a micro-batch) before this arrives
                    result["probe"] = await session.post(
                        "/v1/contradictions", json=body(make_pairs(100, seed=0))
                    )
                    result["flood"] = await flood

            asyncio.run(flood_then_probe())
            probe = result["probe"]
            assert probe.status_code == 503
            assert int(probe.headers["retry-after"]) >= 1
            assert f"queue_max_tokens={limit}" in probe.json()["error"]
            assert probe.json()["detail"][0]["limit"] == limit
            # the request that filled the queue still completes, correctly
            assert result["flood"].status_code == 200
            assert_matches_core(result["flood"].json()["results"], reference, big, symmetric=True)
            text = http.get("/metrics").text
            assert metric(text, "contradict_queue_rejections_total") == 1
            assert (
                metric(text, "contradict_http_requests_total", route="/v1/contradictions", status="503") == 1
            )
    finally:
        server.stop()


@pytest.mark.slow
def test_model_that_fails_to_load_keeps_readyz_503(tmp_path):
    unmappable = build_tiny_model(tmp_path / "bad", {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    server = LiveServer(create_app(settings_for(unmappable))).start(wait_ready=False)
    try:
        assert server.app.state.batcher._thread.join(30) is None
        ready = httpx.get(server.url + "/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "failed"
        # The reason goes to the server log, not to this unauthenticated route.
        assert "LABEL_0" not in ready.json()["detail"] and "server log" in ready.json()["detail"]
        assert httpx.get(server.url + "/healthz").status_code == 200
        scored = httpx.post(server.url + "/v1/contradictions", json=body(make_pairs(1, seed=0)))
        assert scored.status_code == 503
        assert "failed to load" in scored.json()["error"]
        assert scored.headers["retry-after"]
        assert httpx.get(server.url + "/v1/model").status_code == 503
    finally:
        server.stop()


@pytest.mark.slow
def test_shutdown_stops_the_worker_thread(tiny_model_dir):
    server = LiveServer(create_app(settings_for(tiny_model_dir))).start()
    assert httpx.post(server.url + "/v1/contradictions", json=body(make_pairs(2, seed=4))).status_code == 200
    batcher = server.app.state.batcher
    server.stop()
    assert not server.thread.is_alive()
    assert not batcher._thread.is_alive()
    assert not batcher.ready


# -- server entry point ----------------------------------------------------------------------------


def test_run_refuses_a_missing_model_folder_before_binding(tmp_path):
    from service.server import check_model

    with pytest.raises(SystemExit, match="model not found"):
        check_model(Settings(model=str(tmp_path / "nowhere")))


def test_exported_settings_reach_worker_processes(tiny_model_dir):
    from service.server import export_settings

    saved = dict(os.environ)
    try:
        for name in FLAT_NAMES:
            os.environ.pop("CONTRADICT_" + name.upper(), None)
        chosen = settings_for(tiny_model_dir, api_key=API_KEY, batch_max_pairs=7, num_threads=None)
        export_settings(chosen)
        assert Settings() == chosen
    finally:
        os.environ.clear()
        os.environ.update(saved)
