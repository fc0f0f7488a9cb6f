"""The batcher's floors over real HTTP (issue 10): fair scheduling, abandoned work dropped, failures
isolated, drain-then-refuse on SIGTERM.

The model is a random BERT of 4 layers, hidden size 256, 512 positions (built in seconds), scoring a
512-token pair in ~20-35 ms on one thread here: a request of 300 such pairs takes several seconds,
so first-in first-out scheduling would keep a single pair behind it far past the 2 s floor, while a
micro-batch of ``batch_max_tokens=4096`` (8 long pairs) takes a few tenths of a second. Each test
prints its figures (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest

from contradict.scorer import NLIScorer
from contradict.settings import Settings
from service.app import create_app
from tests.support.models import build_tiny_model
from tests.support.service import LiveServer, body, make_pairs

pytestmark = pytest.mark.slow  # real uvicorn servers
FLOOR_S = 2.0
LABELS = {0: "contradiction", 1: "entailment", 2: "neutral"}
WORDS = "the museum opened in lyon after the flood and was rebuilt by the city council two years ago"


def long_pairs(count: int, seed: int) -> list[tuple[str, str]]:
    """Pairs of ~1,500-character statements: truncated to the model's 512 tokens."""
    return [
        (
            f"{seed} {index} " + " ".join(WORDS.split()[(index + k) % 18] for k in range(260)),
            " ".join([WORDS] * 17),
        )
        for index in range(count)
    ]


@pytest.fixture(scope="module")
def slow_model_dir(tmp_path_factory):
    return build_tiny_model(
        tmp_path_factory.mktemp("slow-nli"), LABELS, hidden_size=256, layers=4, max_length=512
    )


def slow_settings(model, **overrides) -> Settings:
    values = {"model": str(model), "num_threads": 1, "batch_max_tokens": 4096, "batch_max_wait_ms": 5.0}
    return Settings(**(values | overrides))


def scored_pairs(server: LiveServer) -> float:
    text = httpx.get(server.url + "/metrics").text
    return sum(
        float(line.split()[-1]) for line in text.splitlines() if line.startswith("contradict_batch_pairs_sum")
    )


def test_a_single_pair_is_answered_while_300_long_pairs_are_scored(slow_model_dir):
    server = LiveServer(create_app(slow_settings(slow_model_dir))).start()
    batcher = server.app.state.batcher
    try:

        async def run() -> dict:
            async with httpx.AsyncClient(base_url=server.url, timeout=300) as http:
                started = time.monotonic()
                big = asyncio.create_task(http.post("/v1/contradictions", json=body(long_pairs(300, 1))))
                while batcher.pending == 0 or scored_pairs(server) < 16:  # queued, and being scored
                    await asyncio.sleep(0.05)
                sent = time.monotonic()
                small = await http.post("/v1/contradictions", json=body(make_pairs(1, seed=2)))
                answered = time.monotonic()
                big_response = await big
                return {
                    "small": small,
                    "small_s": answered - sent,
                    "big": big_response,
                    "big_s": time.monotonic() - started,
                    "big_left_s": time.monotonic() - answered,
                }

        result = asyncio.run(run())
    finally:
        server.stop()
    print(
        f"\nsingle pair answered in {result['small_s']:.2f} s while the 300-pair request ran "
        f"{result['big_s']:.1f} s (still {result['big_left_s']:.1f} s to go after the single pair's answer)"
    )
    assert result["small"].status_code == 200 and result["big"].status_code == 200
    assert result["small_s"] <= FLOOR_S
    # The ordering mattered: behind the big request (FIFO) the single pair would have waited this long.
    assert result["big_left_s"] > FLOOR_S


def test_abandoned_requests_are_dropped_and_do_not_delay_the_next(slow_model_dir):
    server = LiveServer(create_app(slow_settings(slow_model_dir))).start()
    batcher = server.app.state.batcher
    try:
        idle_s = _timed_single(server)

        async def abandon() -> None:
            async def one(seed: int) -> None:
                async with httpx.AsyncClient(base_url=server.url, timeout=1.0) as http:
                    with pytest.raises(httpx.ReadTimeout):
                        await http.post("/v1/contradictions", json=body(long_pairs(100, seed)))

            await asyncio.gather(*(one(seed) for seed in range(5)))

        asyncio.run(abandon())
        next_s = _timed_single(server)
        deadline = time.monotonic() + 10
        while batcher.pending and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # a micro-batch in progress at the disconnect finishes
        scored = scored_pairs(server) - 2  # the two single pairs
        statuses = httpx.get(server.url + "/metrics").text
    finally:
        server.stop()
    print(
        f"\nnext request after 5 abandoned 100-long-pair requests: {next_s:.2f} s (idle: {idle_s:.2f} s, "
        f"delay {next_s - idle_s:.2f} s); pairs of the abandoned requests scored: {scored:.0f} of 500"
    )
    assert next_s - idle_s <= FLOOR_S
    assert scored < 250  # their queued pairs were dropped, not scored for nobody
    assert batcher.pending == 0 and batcher.pending_tokens == 0
    assert 'status="499"' in statuses


def _timed_single(server: LiveServer) -> float:
    started = time.monotonic()
    response = httpx.post(server.url + "/v1/contradictions", json=body(make_pairs(1, seed=7)), timeout=60)
    assert response.status_code == 200
    return time.monotonic() - started


# -- failures ----------------------------------------------------------------------------------


class WorkerKilled(BaseException):
    """Not an Exception: what no ``except Exception`` catches, so the worker thread really ends."""


class HookedScorer(NLIScorer):
    """The real tiny model with a test-only hook: a forward pass over a pair that contains the token
    of ``fail_word`` raises RuntimeError, of ``kill_word`` raises :class:`WorkerKilled`."""

    def __init__(self, model: str, fail_word: str = "volcano", kill_word: str = "glacier"):
        super().__init__(model)
        self.fail_ids = set(self.tokenizer.tokens(fail_word))
        self.kill_ids = set(self.tokenizer.tokens(kill_word))

    def probabilities_encoded(self, encoded, **options):
        ids = {token for item in encoded for token in item.ids}
        if ids & self.kill_ids:
            raise WorkerKilled()
        if ids & self.fail_ids:
            raise RuntimeError("the model cannot take this input")
        return super().probabilities_encoded(encoded, **options)


def test_a_model_failure_fails_only_its_own_request(tiny_model_dir):
    reference = NLIScorer(str(tiny_model_dir))
    settings = Settings(model=str(tiny_model_dir), batch_max_wait_ms=300.0)
    server = LiveServer(create_app(settings, scorer=HookedScorer(str(tiny_model_dir)))).start()
    goods = [make_pairs(3, seed=seed) for seed in range(3)]
    bad = [("The volcano erupted in 1932.", "The volcano never erupted.")]
    try:

        async def run():
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                return await asyncio.gather(
                    *(http.post("/v1/contradictions", json=body(pairs)) for pairs in [*goods, bad])
                )

        *good_responses, bad_response = asyncio.run(run())
        batches = scored_pairs(server)
        after = httpx.post(server.url + "/v1/contradictions", json=body(make_pairs(2, seed=9)))
        ready = httpx.get(server.url + "/readyz")
    finally:
        server.stop()
    assert bad_response.status_code == 500
    assert bad_response.json()["error"] == "scoring this request failed; the server log has the details"
    for pairs, response in zip(goods, good_responses, strict=True):
        assert response.status_code == 200
        got = np.array(
            [[r["contradiction"], r["entailment"], r["neutral"]] for r in response.json()["results"]]
        )
        np.testing.assert_allclose(got, reference.probabilities(pairs), atol=1e-5)
    assert batches >= 9  # the good pairs were scored (together, or again one request at a time)
    assert after.status_code == 200 and ready.status_code == 200


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_worker_turns_readyz_503(tiny_model_dir):
    server = LiveServer(
        create_app(Settings(model=str(tiny_model_dir)), scorer=HookedScorer(str(tiny_model_dir)))
    )
    server.start()
    try:
        killer = httpx.post(
            server.url + "/v1/contradictions",
            json=body([("A glacier melted.", "Nothing melted.")]),
            timeout=30,
        )
        server.app.state.batcher._thread.join(10)
        ready = httpx.get(server.url + "/readyz")
        later = httpx.post(server.url + "/v1/contradictions", json=body(make_pairs(1, seed=1)), timeout=30)
    finally:
        server.stop()
    assert killer.status_code == 503 and killer.headers["retry-after"]
    assert ready.status_code == 503 and ready.json()["status"] == "failed"
    assert later.status_code == 503 and "worker stopped" in later.json()["error"]


def test_text_the_tokenizer_refuses_is_422_naming_pairs(client_of_tiny_model):
    raw = b'{"pairs": [{"premise": "A lone surrogate \\ud800 here.", "hypothesis": "Something else."}]}'
    refused = client_of_tiny_model.post(
        "/v1/contradictions", content=raw, headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["field"] in ("pairs", "pairs.0.premise")
    assert (
        client_of_tiny_model.post("/v1/contradictions", json=body(make_pairs(1, seed=3))).status_code == 200
    )


@pytest.fixture(scope="module")
def client_of_tiny_model(tiny_model_dir):
    server = LiveServer(create_app(Settings(model=str(tiny_model_dir)))).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            yield http
    finally:
        server.stop()


# -- SIGTERM -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sigterm_under_a_backlog_answers_200_or_json_503_and_exits_in_time(slow_model_dir):
    """A real `contradict serve` process, 12 requests of 50 long pairs (~600 pairs: far more than
    the drain bound of 3 s can score), SIGTERM once scoring is under way."""
    port = free_port()
    env = os.environ | {"CONTRADICT_SHUTDOWN_DRAIN_S": "3", "CONTRADICT_NUM_THREADS": "1"}
    env |= {"CONTRADICT_BATCH_MAX_TOKENS": "4096", "CONTRADICT_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "contradict.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--model", str(slow_model_dir)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(url + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)

        async def backlog_then_sigterm():
            async with httpx.AsyncClient(base_url=url, timeout=60) as http:
                requests = [
                    asyncio.create_task(http.post("/v1/contradictions", json=body(long_pairs(50, seed))))
                    for seed in range(12)
                ]
                await asyncio.sleep(1.5)  # uploaded, queued, scoring
                server.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                responses = await asyncio.gather(*requests)
                return responses, signalled

        responses, signalled = asyncio.run(backlog_then_sigterm())
        server.wait(timeout=30)
        exit_s = time.monotonic() - signalled
    finally:
        if server.poll() is None:
            server.kill()
        logs = server.communicate()[0].decode(errors="replace")
    statuses = [response.status_code for response in responses]
    print(
        f"\nSIGTERM under a backlog: statuses {sorted(statuses)}, "
        f"process exited {exit_s:.1f} s after the signal"
    )
    assert server.returncode is not None
    assert exit_s <= 15, logs
    for response in responses:
        assert response.status_code in (200, 503), (response.status_code, response.text, logs)
        if response.status_code == 503:
            assert int(response.headers["retry-after"]) >= 1
            assert "shutting down" in json.loads(response.text)["error"]
    assert 503 in statuses  # more work than the drain bound: the rest was refused, in JSON
