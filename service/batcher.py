"""Cross-request dynamic batching: one worker thread owns the model and scores micro-batches.

Why one thread: HF fast tokenizers are not safe to call from several threads, and on CPU one
forward pass of 32 pairs is far cheaper than 32 passes of one pair. Concurrent requests therefore
queue their pairs here; the worker gathers pairs from several requests (up to ``max_pairs`` pairs and
``max_tokens`` padded tokens, waiting at most ``max_wait_ms`` for a batch to fill), scores them with
:meth:`Scorer.probabilities_encoded` and hands every
request its own rows back on its event loop, as records (:func:`records_from`) once all its rows are in.
Each pair is tokenised once, when its request is admitted (:meth:`Scorer.encode`): the encodings
wait with the request and are padded once per forward pass.
A request's pairs may be spread over several micro-batches, so one large request does not block the
queue for the others any longer than its share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from contradict.scorer import (
    EncodedPair,
    PairScore,
    Scorer,
    both_directions,
    combine_both_directions,
    records_from,
)
from contradict.settings import SERVICE_DEFAULTS, Settings

logger = logging.getLogger(__name__)

Pair = tuple[str, str]
WARM_UP_PAIR: Pair = ("The museum opens at nine every morning.", "The museum is closed in the morning.")


class BatcherError(RuntimeError):
    """Base of the errors :meth:`DynamicBatcher.score` raises for a request it cannot take."""

    retry_after_s: int = 1


class QueueFullError(BatcherError):
    """Too many pairs are waiting; the client should retry after ``retry_after_s`` seconds."""

    def __init__(self, pending: int, requested: int, limit: int, retry_after_s: int):
        super().__init__(
            f"the scoring queue is full: {pending} pairs waiting, this request adds {requested}, "
            f"limit queue_max_pairs={limit}"
        )
        self.pending, self.requested, self.limit = pending, requested, limit
        self.retry_after_s = retry_after_s


class NotReadyError(BatcherError):
    """The model is still loading, failed to load, or the batcher is shutting down."""


@dataclass(eq=False)
class _Job:
    """One request's work: its flat pairs (reversed ones appended when symmetric) and its future."""

    pairs: list[Pair]
    requested: int
    symmetric: bool
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    arrived: float = field(default_factory=time.monotonic)
    encoded: list[EncodedPair] = field(default_factory=list)  # one per pair, from admission
    lengths: list[int] = field(default_factory=list)
    probabilities: np.ndarray | None = None
    dispatched: int = 0  # items handed to a micro-batch
    scored: int = 0  # items with probabilities
    cancelled: bool = False

    @property
    def waiting(self) -> int:
        return len(self.pairs) - self.dispatched


@dataclass(frozen=True)
class _Slice:
    job: _Job
    start: int
    stop: int


class DynamicBatcher:
    """Queue pairs from many requests and score them in micro-batches on one worker thread.

    ``load`` builds the scorer inside the worker thread (so the thread that uses the model is the one
    that made it) and a warm-up pass runs before :attr:`ready` turns true. ``on_batch(pairs, seconds)``
    is called after every micro-batch, for metrics. Limits default to the settings' (``batch_max_pairs``,
    ``batch_max_tokens``, ``batch_max_wait_ms``, ``queue_max_pairs``).
    """

    def __init__(
        self,
        load: Callable[[], Scorer],
        *,
        max_pairs: int = SERVICE_DEFAULTS.batch_max_pairs,
        max_tokens: int = SERVICE_DEFAULTS.batch_max_tokens,
        max_wait_ms: float = SERVICE_DEFAULTS.batch_max_wait_ms,
        queue_max_pairs: int = SERVICE_DEFAULTS.queue_max_pairs,
        on_batch: Callable[[int, float], None] | None = None,
        on_ready: Callable[[Scorer], None] | None = None,
    ) -> None:
        self._load = load
        self.max_pairs = max_pairs
        self.max_tokens = max_tokens
        self.max_wait_s = max_wait_ms / 1000.0
        self.queue_max_pairs = queue_max_pairs
        self._on_batch = on_batch
        self._on_ready = on_ready
        self.scorer: Scorer | None = None
        self.load_error: BaseException | None = None
        self._inbox: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pending = 0
        self._closed = False
        self._ready = threading.Event()
        self._pairs_per_s: float | None = None  # moving average, for Retry-After
        self._expected = max_pairs  # pairs the last micro-batch had on offer; the fill target
        self._last_batch_s = 0.0  # model time of the last micro-batch; bounds the fill wait
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(
        cls,
        load: Callable[[], Scorer],
        settings: Settings,
        *,
        on_batch: Callable[[int, float], None] | None = None,
        on_ready: Callable[[Scorer], None] | None = None,
    ) -> DynamicBatcher:
        """The batcher with the limits of ``settings.service``."""
        service = settings.service
        return cls(
            load,
            max_pairs=service.batch_max_pairs,
            max_tokens=service.batch_max_tokens,
            max_wait_ms=service.batch_max_wait_ms,
            queue_max_pairs=service.queue_max_pairs,
            on_batch=on_batch,
            on_ready=on_ready,
        )

    # -- state ------------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and not self._closed

    @property
    def pending(self) -> int:
        """Pairs queued and not yet handed to a micro-batch (the queue depth)."""
        return self._pending

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("DynamicBatcher.start() called twice")
        self._thread = threading.Thread(target=self._worker, name="contradict-batcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Refuse new work, let the current micro-batch finish, fail what still waits, join."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._inbox.put(None)
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("batcher worker did not stop within %.0f s", timeout)

    # -- the request side (event loop) ------------------------------------------------------------

    async def score(self, pairs: Sequence[Pair], symmetric: bool = False) -> list[PairScore]:
        """Score ``pairs`` with the shared model; one :class:`PairScore` per pair, in order.

        Raises :class:`QueueFullError` when the queue cannot take the pairs now and
        :class:`NotReadyError` before the model is ready or after shutdown began.
        """
        pairs = list(pairs)
        if not pairs:
            return []
        items = both_directions(pairs) if symmetric else pairs
        loop = asyncio.get_running_loop()
        job = _Job(
            pairs=items, requested=len(pairs), symmetric=symmetric, future=loop.create_future(), loop=loop
        )
        with self._lock:
            self._check_can_take(len(items))
            self._pending += len(items)
            self._inbox.put(job)  # under the lock, so nothing lands behind stop()'s sentinel
        try:
            return await job.future
        except asyncio.CancelledError:
            job.cancelled = True  # the worker drops what it has not scored yet
            raise

    def _check_can_take(self, count: int) -> None:
        if self._closed:
            raise NotReadyError("the service is shutting down")
        if not self._ready.is_set():
            if self.load_error is not None:
                raise NotReadyError(f"the model failed to load: {self.load_error}")
            raise NotReadyError("the model is still loading")
        # A lone request larger than the whole queue is still taken: the per-request pair limit
        # bounds it, and refusing it forever would only look like a transient 503.
        if self._pending and self._pending + count > self.queue_max_pairs:
            raise QueueFullError(self._pending, count, self.queue_max_pairs, self._retry_after(count))

    def _retry_after(self, count: int) -> int:
        rate = self._pairs_per_s
        if not rate:
            return 1
        return int(min(60, max(1, math.ceil((self._pending + count) / rate))))

    # -- the worker thread ------------------------------------------------------------------------

    def _worker(self) -> None:
        backlog: deque[_Job] = deque()
        try:
            scorer = self._load()
            scorer.probabilities([WARM_UP_PAIR])  # first pass allocates; keep it off a request
            self.scorer = scorer
            if self._on_ready is not None:
                self._on_ready(scorer)
            self._ready.set()
            logger.info("model %s (%s) loaded and warmed up", scorer.name, scorer.version)
        except BaseException as exc:  # noqa: BLE001 - reported through /readyz and 503s
            self.load_error = exc
            logger.exception("loading the model failed")
            return
        try:
            stopping = False
            while not stopping:
                fresh: list[_Job] = []
                if not backlog:
                    job = self._inbox.get()
                    if job is None:
                        break
                    fresh.append(job)
                stopping = self._fill(backlog, fresh)
                self._expected = min(self.max_pairs, sum(job.waiting for job in backlog))
                batch = self._take(backlog)
                if batch:
                    self._run(batch)
        finally:
            self._closed = True
            self._fail_waiting(backlog)

    def _fill(self, backlog: deque[_Job], fresh: list[_Job]) -> bool:
        """Gather queued jobs into the backlog; returns True when the stop sentinel arrived.

        Waits only until as many pairs are queued as the previous micro-batch had on offer: under
        steady concurrent load that many requests are on their way, while a lone client is never
        held back waiting for company. Each arrival buys another ``max_wait`` (requests answered
        together come back spread over the event loop's turns), but the oldest pair never waits
        longer than ``max_wait`` or the previous micro-batch's model time, whichever is longer.
        """
        waiting = sum(job.waiting for job in backlog) + sum(len(job.pairs) for job in fresh)
        oldest = backlog[0].arrived if backlog else fresh[0].arrived
        give_up = oldest + max(self.max_wait_s, self._last_batch_s)
        deadline = oldest + self.max_wait_s
        stopping = False
        while waiting < min(self.max_pairs, self._expected):
            timeout = min(deadline, give_up) - time.monotonic()
            if timeout <= 0:
                break
            try:
                job = self._inbox.get(timeout=timeout)
            except queue.Empty:
                break
            if job is None:
                stopping = True
                break
            fresh.append(job)
            waiting += len(job.pairs)
            deadline = time.monotonic() + self.max_wait_s
        while not stopping:  # take whatever else is already here, without waiting
            try:
                job = self._inbox.get_nowait()
            except queue.Empty:
                break
            if job is None:
                stopping = True
            else:
                fresh.append(job)
        self._admit(fresh, backlog)
        return stopping

    def _admit(self, jobs: list[_Job], backlog: deque[_Job]) -> None:
        """Tokenise newly arrived jobs (one tokenizer call for all of them) and append them to the
        backlog with their encodings. When that call fails, each job is tokenised alone, so only the
        request with the text the tokenizer refuses fails (with that error), never its neighbours."""
        if not jobs:
            return
        try:
            encoded = self.scorer.encode([pair for job in jobs for pair in job.pairs])
        except Exception:  # noqa: BLE001 - find out whose text it was below
            encoded = None
        offset = 0
        for job in jobs:
            if encoded is not None:
                job.encoded = encoded[offset : offset + len(job.pairs)]
                offset += len(job.pairs)
            else:
                try:
                    job.encoded = self.scorer.encode(job.pairs)
                except Exception as exc:  # noqa: BLE001 - this request's own failure
                    logger.exception("tokenising a request of %d pairs failed", len(job.pairs))
                    self._release(job.waiting)
                    job.cancelled = True
                    self._resolve(job, exc)
                    continue
            job.lengths = [len(item) for item in job.encoded]
            job.probabilities = np.empty((len(job.pairs), 3), dtype=np.float64)
            backlog.append(job)

    def _take(self, backlog: deque[_Job]) -> list[_Slice]:
        """Cut the next micro-batch from the head of the backlog, within the pair and token limits."""
        batch: list[_Slice] = []
        count = longest = 0
        while backlog and count < self.max_pairs:
            job = backlog[0]
            if job.cancelled:
                backlog.popleft()
                self._release(job.waiting)
                continue
            start = job.dispatched
            while job.waiting and count < self.max_pairs:
                length = max(longest, job.lengths[job.dispatched])
                if count and length * (count + 1) > self.max_tokens:
                    break
                longest = length
                count += 1
                job.dispatched += 1
            if job.dispatched > start:
                batch.append(_Slice(job, start, job.dispatched))
                self._release(job.dispatched - start)
            if job.waiting:
                break  # the token limit stopped us inside this job
            backlog.popleft()
        return batch

    def _release(self, count: int) -> None:
        with self._lock:
            self._pending -= count

    def _run(self, batch: list[_Slice]) -> None:
        flat = [item for part in batch for item in part.job.encoded[part.start : part.stop]]
        started = time.perf_counter()
        try:
            # The scorer splits the micro-batch into length-sorted forward passes of its own
            # batch_size / max_tokens_per_batch, which keeps padding low for mixed lengths.
            probabilities = self.scorer.probabilities_encoded(flat)
        except Exception as exc:  # noqa: BLE001 - one bad batch must not kill the worker
            logger.exception("scoring a micro-batch of %d pairs failed", len(flat))
            for part in batch:
                part.job.cancelled = True
                self._resolve(part.job, exc)
            return
        elapsed = time.perf_counter() - started
        self._last_batch_s = elapsed
        rate = len(flat) / max(elapsed, 1e-9)
        self._pairs_per_s = rate if self._pairs_per_s is None else 0.8 * self._pairs_per_s + 0.2 * rate
        if self._on_batch is not None:
            self._on_batch(len(flat), elapsed)
        offset = 0
        for part in batch:
            job, size = part.job, part.stop - part.start
            job.probabilities[part.start : part.stop] = probabilities[offset : offset + size]
            offset += size
            job.scored += size
            if job.scored == len(job.pairs) and not job.cancelled:
                self._finish(job)

    def _finish(self, job: _Job) -> None:
        probabilities = job.probabilities
        if job.symmetric:
            probabilities = combine_both_directions(probabilities)
        self._resolve(job, records_from(probabilities, self.scorer.calibration.threshold))

    def _fail_waiting(self, backlog: deque[_Job]) -> None:
        error = NotReadyError("the service is shutting down")
        jobs = list(backlog)
        while True:
            try:
                job = self._inbox.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                jobs.append(job)
        for job in jobs:
            self._release(job.waiting)
            self._resolve(job, error)

    @staticmethod
    def _resolve(job: _Job, outcome: list[PairScore] | BaseException) -> None:
        def settle() -> None:
            if job.future.done():
                return
            if isinstance(outcome, BaseException):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)

        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            job.loop.call_soon_threadsafe(settle)
