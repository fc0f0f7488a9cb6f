"""DynamicBatcher without HTTP: coalescing, splitting, limits, cancellation and lifecycle."""

from __future__ import annotations

import asyncio
from collections import deque

import numpy as np
import pytest

from contradict.scorer import NLIScorer
from service.batcher import DynamicBatcher, NotReadyError, QueueFullError, RequestTooLargeError, _Job
from tests.support.models import token_counts
from tests.support.service import make_pairs


@pytest.fixture(scope="module")
def reference(tiny_model_dir) -> NLIScorer:
    return NLIScorer(str(tiny_model_dir))


def started(tiny_model_dir, sizes: list[int] | None = None, **options) -> DynamicBatcher:
    batcher = DynamicBatcher(
        lambda: NLIScorer(str(tiny_model_dir)),
        on_batch=(lambda pairs, seconds: sizes.append(pairs)) if sizes is not None else None,
        **options,
    )
    batcher.start()
    assert batcher.wait_ready(60)
    return batcher


def probabilities(scores) -> np.ndarray:
    return np.array([[s.contradiction, s.entailment, s.neutral] for s in scores])


def test_concurrent_requests_coalesce_into_one_micro_batch(tiny_model_dir, reference):
    sizes: list[int] = []
    # A long wait makes coalescing deterministic: the batch is cut when 8 pairs are queued.
    batcher = started(tiny_model_dir, sizes, max_pairs=8, max_wait_ms=10_000)
    requests = [make_pairs(1, seed=i) for i in range(8)]

    async def run_all():
        return await asyncio.gather(*(batcher.score(pairs) for pairs in requests))

    try:
        results = asyncio.run(run_all())
    finally:
        batcher.stop()
    assert sizes == [8]
    for pairs, scores in zip(requests, results, strict=True):
        np.testing.assert_allclose(probabilities(scores), reference.probabilities(pairs), atol=1e-5)


def test_a_micro_batch_runs_as_length_sorted_forward_passes_of_forward_pairs(tiny_model_dir, reference):
    passes: list[tuple[int, int]] = []  # (rows, padded width) of every forward pass

    def load() -> NLIScorer:
        scorer = NLIScorer(str(tiny_model_dir))
        logits = scorer.backend.logits

        def recorded(features):
            passes.append(features["input_ids"].shape)
            return logits(features)

        scorer.backend.logits = recorded
        return scorer

    sizes: list[int] = []
    batcher = DynamicBatcher(
        load, max_pairs=12, max_wait_ms=10_000, forward_pairs=4, on_batch=lambda n, s: sizes.append(n)
    )
    batcher.start()
    assert batcher.wait_ready(60)
    requests = [make_pairs(1, seed=100 + i) for i in range(12)]

    async def run_all():
        return await asyncio.gather(*(batcher.score(pairs) for pairs in requests))

    passes.clear()  # the warm-up pass
    try:
        results = asyncio.run(run_all())
    finally:
        batcher.stop()
    assert sizes == [12]
    assert [rows for rows, _ in passes] == [4, 4, 4]
    widths = [width for _, width in passes]
    assert widths == sorted(widths)  # shortest pairs first: each pass pads only to its own longest
    for pairs, scores in zip(requests, results, strict=True):
        np.testing.assert_allclose(probabilities(scores), reference.probabilities(pairs), atol=1e-5)


def test_a_request_is_split_by_the_pair_limit(tiny_model_dir, reference):
    sizes: list[int] = []
    batcher = started(tiny_model_dir, sizes, max_pairs=8, max_wait_ms=0)
    pairs = make_pairs(20, seed=3)
    try:
        scores = asyncio.run(batcher.score(pairs, symmetric=True))
    finally:
        batcher.stop()
    assert sizes == [8, 8, 8, 8, 8]  # 20 pairs, both directions
    np.testing.assert_allclose(
        probabilities(scores), reference.probabilities(pairs, symmetric=True), atol=1e-5
    )


def test_micro_batches_respect_the_token_limit(tiny_model_dir, reference):
    sizes: list[int] = []
    pairs = make_pairs(12, seed=5)
    longest = max(token_counts(reference, pairs))
    batcher = started(tiny_model_dir, sizes, max_pairs=64, max_tokens=3 * longest, max_wait_ms=0)
    try:
        scores = asyncio.run(batcher.score(pairs))
    finally:
        batcher.stop()
    assert sum(sizes) == 12
    assert max(sizes) <= 3
    np.testing.assert_allclose(probabilities(scores), reference.probabilities(pairs), atol=1e-5)


def test_queue_limit_in_tokens_and_retry_after(tiny_model_dir, reference):
    flood_pairs = make_pairs(200, seed=1)
    limit = sum(token_counts(reference, flood_pairs))  # the flood alone fills the queue exactly
    batcher = started(tiny_model_dir, max_pairs=1, max_wait_ms=0, queue_max_tokens=limit)

    async def flood_then_probe():
        flood = asyncio.ensure_future(batcher.score(flood_pairs))
        while batcher.pending < 200:
            await asyncio.sleep(0)
        with pytest.raises(QueueFullError) as caught:
            await batcher.score(make_pairs(10, seed=2))
        return caught.value, await flood

    try:
        error, flooded = asyncio.run(flood_then_probe())
    finally:
        batcher.stop()
    assert error.limit == limit and "queue_max_tokens" in str(error)
    assert 1 <= error.retry_after_s <= 60
    assert len(flooded) == 200
    assert batcher.pending == 0 and batcher.pending_tokens == 0


def test_a_request_larger_than_the_whole_queue_is_413(tiny_model_dir, reference):
    pairs = make_pairs(10, seed=4)
    batcher = started(tiny_model_dir, max_wait_ms=0, queue_max_tokens=sum(token_counts(reference, pairs)) - 1)
    try:
        with pytest.raises(RequestTooLargeError) as caught:
            asyncio.run(batcher.score(pairs))
        assert caught.value.status == 413
        assert len(asyncio.run(batcher.score(pairs[:3]))) == 3  # smaller ones still fit
    finally:
        batcher.stop()
    assert batcher.pending_tokens == 0


def test_a_small_request_rides_in_the_next_micro_batch_not_behind_a_large_one(tiny_model_dir, reference):
    """Round-robin: the 1-pair request queued right behind a 40-pair one shares the first
    micro-batch (FIFO would have served it in the 11th)."""
    sizes: list[int] = []
    batcher = started(tiny_model_dir, sizes, max_pairs=4, max_wait_ms=200)
    large, small = make_pairs(40, seed=1), make_pairs(1, seed=2)
    batches_before_small: list[int] = []

    async def run_both():
        async def small_request():
            scores = await batcher.score(small)
            batches_before_small.append(len(sizes))
            return scores

        return await asyncio.gather(batcher.score(large), small_request())

    try:
        large_scores, small_scores = asyncio.run(run_both())
    finally:
        batcher.stop()
    assert batches_before_small[0] <= 2  # the first, or the second when it arrived a moment late
    assert sizes[0] == 4 and sum(sizes) == 41
    np.testing.assert_allclose(probabilities(small_scores), reference.probabilities(small), atol=1e-5)
    np.testing.assert_allclose(probabilities(large_scores), reference.probabilities(large), atol=1e-5)


def test_cancelled_request_is_dropped_from_the_queue(tiny_model_dir):
    sizes: list[int] = []
    batcher = started(tiny_model_dir, sizes, max_pairs=1, max_wait_ms=0)

    async def cancel_one():
        doomed = asyncio.ensure_future(batcher.score(make_pairs(300, seed=1)))
        while not sizes:
            await asyncio.sleep(0.001)
        doomed.cancel()
        return await batcher.score(make_pairs(2, seed=2))

    try:
        survivors = asyncio.run(cancel_one())
    finally:
        batcher.stop()
    assert len(survivors) == 2
    assert sum(sizes) < 300 + 2  # the cancelled request's remaining pairs were never scored
    assert batcher.pending == 0


def test_not_ready_before_start_and_after_stop(tiny_model_dir):
    batcher = DynamicBatcher(lambda: NLIScorer(str(tiny_model_dir)))
    with pytest.raises(NotReadyError, match="loading"):
        asyncio.run(batcher.score(make_pairs(1, seed=0)))
    batcher.start()
    assert batcher.wait_ready(60)
    assert len(asyncio.run(batcher.score(make_pairs(1, seed=0)))) == 1
    batcher.stop()
    assert not batcher.ready
    with pytest.raises(NotReadyError, match="shutting down"):
        asyncio.run(batcher.score(make_pairs(1, seed=0)))


def test_load_failure_is_reported(tmp_path):
    batcher = DynamicBatcher(lambda: NLIScorer(str(tmp_path / "missing")))
    batcher.start()
    batcher._thread.join(60)
    assert batcher.load_error is not None
    with pytest.raises(NotReadyError, match="failed to load"):
        asyncio.run(batcher.score(make_pairs(1, seed=0)))
    batcher.stop()


def test_empty_request_needs_no_model():
    batcher = DynamicBatcher(lambda: pytest.fail("must not load"))
    assert asyncio.run(batcher.score([])) == []


class CountingTokenizer:
    """The scorer's real tokenizer, counting the pairs it tokenises (every path goes through ``encode``)."""

    def __init__(self, inner):
        self.inner = inner
        self.pairs = 0

    def encode(self, pairs):
        self.pairs += len(pairs)
        return self.inner.encode(pairs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_each_pair_is_tokenised_once(tiny_model_dir, reference):
    """Admission tokenises a request; the micro-batches reuse those encodings (symmetric: both
    directions, each once). The token limit splits requests across micro-batches here, the case
    where the old batcher tokenised pairs again."""
    counting: list[CountingTokenizer] = []

    def load() -> NLIScorer:
        scorer = NLIScorer(str(tiny_model_dir))
        scorer.tokenizer = CountingTokenizer(scorer.tokenizer)
        counting.append(scorer.tokenizer)
        return scorer

    batcher = DynamicBatcher(load, max_pairs=4, max_wait_ms=0)
    batcher.start()
    assert batcher.wait_ready(60)
    tokenizer = counting[0]
    warm_up = tokenizer.pairs
    requests = [(make_pairs(7, seed=i), i % 2 == 1) for i in range(6)]

    async def run_all():
        return await asyncio.gather(*(batcher.score(pairs, symmetric=sym) for pairs, sym in requests))

    try:
        results = asyncio.run(run_all())
    finally:
        batcher.stop()
    assert tokenizer.pairs - warm_up == sum(len(pairs) * (2 if sym else 1) for pairs, sym in requests)
    for (pairs, sym), scores in zip(requests, results, strict=True):
        np.testing.assert_allclose(
            probabilities(scores), reference.probabilities(pairs, symmetric=sym), atol=1e-5
        )


def test_a_request_the_tokenizer_refuses_fails_alone(tiny_model_dir):
    """A lone surrogate makes the tokenizer raise; only that request fails, with the error."""
    batcher = started(tiny_model_dir, max_pairs=64, max_wait_ms=50)
    bad = [("A lone surrogate \ud800 here.", "Something else entirely.")]

    async def run_both():
        return await asyncio.gather(
            batcher.score(make_pairs(3, seed=1)), batcher.score(bad), return_exceptions=True
        )

    try:
        good, failed = asyncio.run(run_both())
        after = asyncio.run(batcher.score(make_pairs(2, seed=2)))
    finally:
        batcher.stop()
    assert len(good) == 3
    assert isinstance(failed, Exception)
    assert len(after) == 2 and batcher.pending == 0


@pytest.mark.parametrize(
    "text",
    [
        "한국어" * 4,
        "한국어 뉴스 기사",
        "Ça a été déjà vu, naïve café",
        "東京都の人口",
        "ﬁne ﬂow",
        "e\u0301\u0302\u0303 x",
        "😀👍🏽 ok",
    ],
)
def test_the_admission_bound_is_never_below_the_exact_token_count(tiny_model_dir, text):
    """The queue admits a request on this bound before tokenising it; a Hangul syllable is three
    tokens, so two per character was not an upper bound."""
    batcher = started(tiny_model_dir)
    try:
        for pair in [(text, text), (text * 3, "Short."), ("Short.", text)]:
            assert batcher._token_bound([pair]) >= len(batcher.scorer.encode([pair])[0]), pair
    finally:
        batcher.stop()


def test_a_drain_serves_the_oldest_request_first_whatever_the_rotation():
    """Round-robin rotates the backlog; once draining, whole requests go oldest first, so the one
    that arrived first (perhaps half scored already) is the one that gets its answer in time."""
    batcher = DynamicBatcher(lambda: None, max_pairs=4)
    loop = asyncio.new_event_loop()

    def job(arrived: float) -> _Job:
        made = _Job(
            pairs=[("a", "b")] * 4,
            requested=4,
            symmetric=False,
            truncate=True,
            future=loop.create_future(),
            loop=loop,
            reserved=20,
            arrived=arrived,
        )
        made.lengths = [5] * 4
        return made

    oldest, middle, newest = job(1.0), job(2.0), job(3.0)
    batcher._pending, batcher._pending_tokens = 12, 60
    backlog = deque([newest, oldest, middle])  # as the round-robin's rotation can leave it
    try:
        assert [(s.job, s.start, s.stop) for s in batcher._take(deque(backlog))] == [
            (newest, 0, 2),
            (oldest, 0, 1),
            (middle, 0, 1),
        ]  # not draining: one pair from each in turn, in the backlog's order
        for made in (oldest, middle, newest):
            made.dispatched = 0
        batcher._pending, batcher._pending_tokens = 12, 60
        batcher.drain()
        batch = batcher._take(backlog)
    finally:
        loop.close()
    assert [(s.job, s.start, s.stop) for s in batch] == [(oldest, 0, 4)]
    assert list(backlog) == [newest, middle]
