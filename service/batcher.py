"""Cross-request dynamic batching: one worker thread owns the model and scores micro-batches.

Why one thread: HF fast tokenizers are not safe to call from several threads, and on CPU one
forward pass of 32 pairs is far cheaper than 32 passes of one pair. Concurrent requests therefore
queue their pairs here; the worker gathers pairs from several requests (up to ``max_pairs`` pairs and
``max_tokens`` padded tokens, waiting at most ``max_wait_ms`` for a batch to fill), scores them with
:meth:`Scorer.probabilities_encoded` in length-sorted forward passes of ``forward_pairs`` and hands every
request its own rows back on its event loop, as records (:func:`records_of`) once all its rows are in.
Each pair is tokenised once, when its request is admitted (:meth:`Scorer.encode`): the encodings
wait with the request and are padded once per forward pass.
Fairness: micro-batches are cut round-robin over the waiting requests (one pair from each in turn, up
to the pair and padded-token limits), so a single pair sent behind a 300-pair request rides in the
next micro-batch instead of waiting for all 300. The queue is bounded in tokens
(``queue_max_tokens``), not pairs: 503 when full, 413 for a request larger than the whole bound.
A request whose awaiting task is cancelled (its client went away: service.disconnect) has its
unscored pairs dropped. :meth:`DynamicBatcher.drain` (SIGTERM) refuses new work and gives the queue
``drain_s`` to finish before failing the rest with 503, well within uvicorn's graceful timeout.
The worker outlives any exception: a micro-batch the model fails on is scored again request by
request, and only the request that fails alone gets an error.
The loop knows nothing of the model beyond the :class:`Scorer` calls: batch, predict, unbatch.
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
    records_of,
)
from contradict.settings import SERVICE_DEFAULTS, Settings

logger = logging.getLogger(__name__)

Pair = tuple[str, str]
_WAKE = object()  # put in the inbox to wake an idle worker (a drain began); carries no work
WARM_UP_PAIR: Pair = ("The museum opens at nine every morning.", "The museum is closed in the morning.")


class BatcherError(RuntimeError):
    """Base of the errors :meth:`DynamicBatcher.score` raises for a request it cannot serve; ``status``
    is the HTTP status it maps to (service.errors), ``retry_after_s`` its Retry-After when 503."""

    status: int = 503
    retry_after_s: int = 1

    def __init__(self, message: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        if retry_after_s is not None:
            self.retry_after_s = retry_after_s


class QueueFullError(BatcherError):
    """Too many tokens are waiting; the client should retry after ``retry_after_s`` seconds."""

    def __init__(self, pending: int, requested: int, limit: int, retry_after_s: int):
        super().__init__(
            f"the scoring queue is full: {pending} tokens waiting, this request adds up to {requested}, "
            f"limit queue_max_tokens={limit}",
            retry_after_s=retry_after_s,
        )
        self.pending, self.requested, self.limit = pending, requested, limit


class RequestTooLargeError(BatcherError):
    """One request holds more tokens than the whole queue may: retrying cannot help (413)."""

    status = 413

    def __init__(self, tokens: int, limit: int):
        super().__init__(
            f"this request has {tokens} tokens to score, more than the whole queue holds "
            f"(queue_max_tokens={limit}); send fewer or shorter pairs"
        )
        self.tokens, self.limit = tokens, limit


class PairTooLongError(BatcherError):
    """Pairs longer than the model reads, in a request that asked not to be truncated (422)."""

    status = 422

    def __init__(self, indices: list[int], max_length: int):
        super().__init__(
            f"{len(indices)} of this request's pairs have more tokens than the model reads "
            f"(max_length={max_length}) and the request asked not to truncate"
        )
        self.indices, self.max_length = indices, max_length


class UnreadableTextError(BatcherError):
    """The tokenizer refused this request's text (e.g. a lone surrogate): the request's fault (422)."""

    status = 422

    def __init__(self) -> None:
        super().__init__("the tokenizer could not read the text of this request's pairs")


class ScoringError(BatcherError):
    """The model failed on this request's pairs even when scored apart from any other request (500);
    the server log has the traceback."""

    status = 500

    def __init__(self) -> None:
        super().__init__("scoring this request failed; the server log has the details")


class NotReadyError(BatcherError):
    """The model is still loading, failed to load, or the batcher is shutting down."""


@dataclass(eq=False)
class _Job:
    """One request's work: its flat pairs (reversed ones appended when symmetric) and its future."""

    pairs: list[Pair]
    requested: int
    symmetric: bool
    truncate: bool  # False: refuse the request when a pair is longer than the model reads
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    reserved: int  # tokens counted against queue_max_tokens: an upper bound until admission, then exact
    arrived: float = field(default_factory=time.monotonic)
    encoded: list[EncodedPair] = field(default_factory=list)  # one per pair, from admission
    lengths: list[int] = field(default_factory=list)
    probabilities: np.ndarray | None = None
    dispatched: int = 0  # items handed to a micro-batch
    scored: int = 0  # items with probabilities
    cancelled: bool = False

    def truncated_pairs(self) -> list[int]:
        """Indices of the requested pairs (either direction) the tokenizer had to cut."""
        return sorted({i % self.requested for i, item in enumerate(self.encoded) if item.truncated})

    @property
    def waiting(self) -> int:
        return len(self.pairs) - self.dispatched

    @property
    def waiting_tokens(self) -> int:
        """Tokens counted against the queue bound and not yet handed to a micro-batch."""
        return sum(self.lengths[self.dispatched :]) if self.lengths else self.reserved


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
    ``batch_max_tokens``, ``batch_max_wait_ms``, ``batch_forward_pairs``, ``queue_max_tokens``,
    ``shutdown_drain_s``).
    """

    def __init__(
        self,
        load: Callable[[], Scorer],
        *,
        max_pairs: int = SERVICE_DEFAULTS.batch_max_pairs,
        max_tokens: int = SERVICE_DEFAULTS.batch_max_tokens,
        max_wait_ms: float = SERVICE_DEFAULTS.batch_max_wait_ms,
        forward_pairs: int = SERVICE_DEFAULTS.batch_forward_pairs,
        queue_max_tokens: int = SERVICE_DEFAULTS.queue_max_tokens,
        drain_s: float = SERVICE_DEFAULTS.shutdown_drain_s,
        on_batch: Callable[[int, float], None] | None = None,
        on_ready: Callable[[Scorer], None] | None = None,
    ) -> None:
        self._load = load
        self.max_pairs = max_pairs
        self.max_tokens = max_tokens
        self.max_wait_s = max_wait_ms / 1000.0
        self.forward_pairs = forward_pairs
        self.queue_max_tokens = queue_max_tokens
        self.drain_s = drain_s
        self._on_batch = on_batch
        self._on_ready = on_ready
        self.scorer: Scorer | None = None
        self.load_error: BaseException | None = None
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()  # _Job, _WAKE or None (stop)
        self._lock = threading.Lock()
        self._pending = 0  # pairs queued, not yet in a micro-batch
        self._pending_tokens = 0  # their tokens (upper bounds for jobs not yet tokenised)
        self._closed = False
        self._drain_until: float | None = None  # set by drain(): refuse new work, finish by then
        self._stopping = False  # stop() was called: the worker ends on purpose
        self._in_flight: list[_Slice] = []  # the micro-batch being scored
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
            forward_pairs=service.batch_forward_pairs,
            queue_max_tokens=service.queue_max_tokens,
            drain_s=service.shutdown_drain_s,
            on_batch=on_batch,
            on_ready=on_ready,
        )

    # -- state ------------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and not self._closed and not self.draining and self.worker_alive

    @property
    def draining(self) -> bool:
        return self._drain_until is not None

    @property
    def worker_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def worker_failed(self) -> bool:
        """The worker thread ended although nobody stopped it and the model had loaded: nothing will
        be scored again (``/readyz`` answers 503)."""
        return (
            self._ready.is_set()
            and self._thread is not None
            and not self._thread.is_alive()
            and not self._stopping
        )

    @property
    def pending(self) -> int:
        """Pairs queued and not yet handed to a micro-batch (the queue depth)."""
        return self._pending

    @property
    def pending_tokens(self) -> int:
        """Tokens of those pairs (counted against ``queue_max_tokens``)."""
        return self._pending_tokens

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("DynamicBatcher.start() called twice")
        self._thread = threading.Thread(target=self._worker, name="contradict-batcher", daemon=True)
        self._thread.start()

    def drain(self) -> None:
        """Begin a shutdown: refuse new work from now on (503 + Retry-After), score what is queued for
        up to ``drain_s``, then fail what is left with a 503. Safe to call from a signal handler (no
        lock: the handler may interrupt a thread that holds it; ``SimpleQueue.put`` is reentrant)."""
        if self._drain_until is None:
            self._drain_until = time.monotonic() + self.drain_s
            self._inbox.put(_WAKE)  # wake an idle worker so it sees the deadline

    def stop(self, timeout: float = 30.0) -> None:
        """Refuse new work, let the current micro-batch finish, fail what still waits, join."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stopping = True
            self._inbox.put(None)
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("batcher worker did not stop within %.0f s", timeout)

    # -- the request side (event loop) ------------------------------------------------------------

    async def score(
        self, pairs: Sequence[Pair], symmetric: bool = False, truncate: bool = True
    ) -> list[PairScore]:
        """Score ``pairs`` with the shared model; one :class:`PairScore` per pair, in order.

        A pair longer than the model reads is scored on the part that fits and marked ``truncated``;
        with ``truncate=False`` the request fails instead (:class:`PairTooLongError`).

        Raises :class:`QueueFullError` when the queue cannot take the pairs now,
        :class:`NotReadyError` before the model is ready or once shutdown began, and (from the worker)
        :class:`RequestTooLargeError`, :class:`PairTooLongError`, :class:`UnreadableTextError` or
        :class:`ScoringError` for this request alone. Cancelling the awaiting task (a client that
        went away) drops the pairs of the request that are not scored yet.
        """
        pairs = list(pairs)
        if not pairs:
            return []
        items = both_directions(pairs) if symmetric else pairs
        loop = asyncio.get_running_loop()
        with self._lock:
            self._check_can_take()
            bound = self._token_bound(items)
            self._check_room(bound)
            job = _Job(
                pairs=items,
                requested=len(pairs),
                symmetric=symmetric,
                truncate=truncate,
                future=loop.create_future(),
                loop=loop,
                reserved=bound,
            )
            self._pending += len(items)
            self._pending_tokens += bound
            self._inbox.put(job)  # under the lock, so nothing lands behind stop()'s sentinel
        try:
            return await job.future
        except asyncio.CancelledError:
            job.cancelled = True  # the worker drops what it has not scored yet
            raise

    def _check_can_take(self) -> None:
        if self.worker_failed:
            raise NotReadyError("the scoring worker stopped; the server log has the reason")
        if self._closed or self.draining:
            raise NotReadyError("the service is shutting down", retry_after_s=math.ceil(self.drain_s))
        if not self._ready.is_set():
            if self.load_error is not None:  # the reason is in the server log, not in an answer
                raise NotReadyError("the model failed to load; the server log has the reason")
            raise NotReadyError("the model is still loading")

    def _token_bound(self, items: Sequence[Pair]) -> int:
        """An upper bound of the tokens ``items`` will have, without tokenising on the event loop:
        at most ``max_length`` a pair, and at most three per character (with 3 special tokens) — a
        WordPiece token covers at least one character of the normalised text, and BERT's normaliser
        (NFD) splits a character into at most three: a Hangul syllable into its jamo, each a token
        of the MiniLM vocabulary. Admission replaces it with the exact count."""
        limit = self.scorer.max_length
        return sum(min(limit, 3 + 3 * (len(premise) + len(hypothesis))) for premise, hypothesis in items)

    def _check_room(self, tokens: int) -> None:
        # A lone request larger than the whole queue is taken (and answered 413 by the worker once
        # its exact count is known, if that is still too large): refusing it here with a 503 would
        # only look like a transient condition.
        if self._pending_tokens and self._pending_tokens + tokens > self.queue_max_tokens:
            raise QueueFullError(
                self._pending_tokens, tokens, self.queue_max_tokens, self._retry_after(tokens)
            )

    def _retry_after(self, tokens: int) -> int:
        rate, pairs = self._pairs_per_s, self._pending
        if not rate or not pairs:
            return 1
        tokens_per_pair = max(1.0, self._pending_tokens / pairs)
        return int(min(60, max(1, math.ceil((pairs + tokens / tokens_per_pair) / rate))))

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
                try:
                    stopping = self._step(backlog)
                except Exception:  # noqa: BLE001 - the worker must outlive any one failure
                    logger.exception("the batcher loop failed; failing the requests it held")
                    for part in self._in_flight:
                        self._drop(part.job, ScoringError())
                    self._fail_all(backlog, ScoringError())
        finally:  # stopped, or a BaseException ended the worker: nobody may be left waiting
            self._closed = True
            if self._stopping:
                gone = NotReadyError("the service is shutting down")
            else:
                logger.critical("the scoring worker ended; /readyz answers 503 from now on")
                gone = NotReadyError("the scoring worker stopped; the server log has the reason")
            for part in self._in_flight:
                self._drop(part.job, gone)
            self._fail_all(backlog, gone)

    def _step(self, backlog: deque[_Job]) -> bool:
        """Gather, cut and score one micro-batch; True when the stop sentinel arrived."""
        fresh: list[_Job] = []
        if not backlog:
            job = self._inbox.get()
            if job is None:
                return True
            if job is not _WAKE:
                fresh.append(job)
        stopping = self._fill(backlog, fresh)
        if self._drain_until is not None and time.monotonic() >= self._drain_until:
            late = NotReadyError(
                "the service is shutting down and could not score this in time",
                retry_after_s=math.ceil(self.drain_s),
            )
            self._fail_all(backlog, late)
            return stopping
        self._expected = min(self.max_pairs, sum(job.waiting for job in backlog))
        self._in_flight = self._take(backlog)
        if self._in_flight:
            self._run(self._in_flight)
        self._in_flight = []
        return stopping

    def _fill(self, backlog: deque[_Job], fresh: list[_Job]) -> bool:
        """Gather queued jobs into the backlog; returns True when the stop sentinel arrived.

        Waits only until as many pairs are queued as the previous micro-batch had on offer: under
        steady concurrent load that many requests are on their way, while a lone client is never
        held back waiting for company. Each arrival buys another ``max_wait`` (requests answered
        together come back spread over the event loop's turns), but the oldest pair never waits
        longer than ``max_wait`` or the previous micro-batch's model time, whichever is longer.
        Nothing waits once a drain began.
        """
        stopping = False
        if fresh or backlog:
            waiting = sum(job.waiting for job in backlog) + sum(len(job.pairs) for job in fresh)
            oldest = backlog[0].arrived if backlog else fresh[0].arrived
            give_up = oldest + max(self.max_wait_s, self._last_batch_s)
            deadline = oldest + self.max_wait_s
            while waiting < min(self.max_pairs, self._expected) and not self.draining:
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
                if job is _WAKE:
                    continue
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
            elif job is not _WAKE:
                fresh.append(job)
        self._admit(fresh, backlog)
        return stopping

    def _admit(self, jobs: list[_Job], backlog: deque[_Job]) -> None:
        """Tokenise newly arrived jobs (one tokenizer call for all of them) and append them to the
        backlog with their encodings, their exact token counts replacing the bounds they were
        admitted with. When that call fails, each job is tokenised alone, so only the request with
        the text the tokenizer refuses fails (422), never its neighbours."""
        for job in [job for job in jobs if job.cancelled]:  # its client left while it was queued
            jobs.remove(job)
            self._drop(job, None)
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
                except Exception:  # noqa: BLE001 - this request's own failure
                    logger.exception("tokenising a request of %d pairs failed", len(job.pairs))
                    self._drop(job, UnreadableTextError())
                    continue
            lengths = [len(item) for item in job.encoded]
            self._release(0, job.reserved - sum(lengths))
            job.reserved, job.lengths = sum(lengths), lengths
            if job.reserved > self.queue_max_tokens:
                self._drop(job, RequestTooLargeError(job.reserved, self.queue_max_tokens))
                continue
            if not job.truncate and (too_long := job.truncated_pairs()):
                self._drop(job, PairTooLongError(too_long, self.scorer.max_length))
                continue
            job.probabilities = np.empty((len(job.pairs), 3), dtype=np.float64)
            backlog.append(job)

    def _take(self, backlog: deque[_Job]) -> list[_Slice]:
        """Cut the next micro-batch round-robin over the requests in the backlog: one pair from each
        request in turn, until the pair or padded-token limit is reached. A request of 300 pairs and
        one of 1 pair share the next micro-batch, so the small one waits for at most the micro-batch
        in progress and its own, not for the large one. The backlog is rotated so that the next
        micro-batch starts with the request after the last one served here (fair when more requests
        wait than fit one micro-batch). While draining, requests are served oldest first instead, whole:
        a request scored in full before the drain ends is worth more than many half-scored ones."""
        for job in [job for job in backlog if job.cancelled]:
            backlog.remove(job)
            self._drop(job, None)
        starts: dict[_Job, int] = {}
        count = longest = 0
        last: _Job | None = None
        full = False
        # The backlog's order is the round-robin's rotation, not arrival: a drain sorts by arrival.
        order = sorted(backlog, key=lambda job: job.arrived) if self.draining else backlog
        while not full:
            served = False
            for job in order:
                for _ in range(job.waiting if self.draining else min(1, job.waiting)):
                    length = max(longest, job.lengths[job.dispatched])
                    if count >= self.max_pairs or (count and length * (count + 1) > self.max_tokens):
                        full = True
                        break
                    starts.setdefault(job, job.dispatched)
                    job.dispatched += 1
                    count, longest, last, served = count + 1, length, job, True
                if full:
                    break
            if not served:
                break
        if last is not None and not self.draining:
            backlog.rotate(-(backlog.index(last) + 1))
        batch = [_Slice(job, start, job.dispatched) for job, start in starts.items()]
        for part in batch:
            self._release(part.stop - part.start, sum(part.job.lengths[part.start : part.stop]))
        for job in [job for job in backlog if not job.waiting]:
            backlog.remove(job)  # all its pairs are in micro-batches; their slices finish it
        return batch

    def _release(self, pairs: int, tokens: int) -> None:
        with self._lock:
            self._pending -= pairs
            self._pending_tokens -= tokens

    def _drop(self, job: _Job, error: BaseException | None) -> None:
        """Take ``job``'s unscored pairs off the queue for good; fail it with ``error`` when given."""
        self._release(job.waiting, job.waiting_tokens)
        job.dispatched = len(job.pairs)
        job.cancelled = True
        if error is not None:
            self._resolve(job, error)

    def _run(self, batch: list[_Slice]) -> None:
        """Score a micro-batch and hand each request its rows. When the model fails on it, each
        request's part is scored again alone: only the request(s) whose pairs fail on their own are
        answered with :class:`ScoringError`; their batch-mates get their scores."""
        flat = [item for part in batch for item in part.job.encoded[part.start : part.stop]]
        started = time.perf_counter()
        try:
            # The scorer splits the micro-batch into length-sorted forward passes of at most
            # forward_pairs pairs (and its max_tokens_per_batch). Single-pair requests arrive in any
            # length order, so a 32-pair pass pads to the longest of 32 random lengths; passes of 4
            # cut that waste (64 clients on ONNX: +11-25% pairs/s over 32-pair passes in alternating
            # runs; docs/benchmarks.md, "Found and fixed: padding").
            probabilities = self.scorer.probabilities_encoded(flat, batch_size=self.forward_pairs)
        except Exception:  # noqa: BLE001 - one bad batch must not kill the worker
            if len(batch) > 1:
                logger.warning("a micro-batch of %d requests failed; scoring each alone", len(batch))
                for part in batch:
                    self._run([part])
                return
            logger.exception("scoring %d pairs of one request failed", len(flat))
            self._drop(batch[0].job, ScoringError())
            return
        elapsed = time.perf_counter() - started
        self._last_batch_s = elapsed
        rate = len(flat) / max(elapsed, 1e-9)
        self._pairs_per_s = rate if self._pairs_per_s is None else 0.8 * self._pairs_per_s + 0.2 * rate
        if self._on_batch is not None:
            try:
                self._on_batch(len(flat), elapsed)
            except Exception:  # noqa: BLE001 - metrics must not cost anyone their answer
                logger.exception("the on_batch callback failed")
        offset = 0
        for part in batch:
            job, size = part.job, part.stop - part.start
            job.probabilities[part.start : part.stop] = probabilities[offset : offset + size]
            offset += size
            job.scored += size
            if job.scored == len(job.pairs) and not job.cancelled:
                self._finish(job)

    def _finish(self, job: _Job) -> None:
        threshold = self.scorer.calibration.threshold
        self._resolve(
            job, records_of(job.probabilities, job.encoded, symmetric=job.symmetric, threshold=threshold)
        )

    def _fail_all(self, backlog: deque[_Job], error: BatcherError) -> None:
        """Fail every job in the backlog and in the inbox with ``error`` (a stop sentinel met in the
        inbox is put back, for the loop to see)."""
        jobs = list(backlog)
        backlog.clear()
        stop_seen = False
        while True:
            try:
                job = self._inbox.get_nowait()
            except queue.Empty:
                break
            if job is None:
                stop_seen = True
            elif job is not _WAKE:
                jobs.append(job)
        if stop_seen:
            self._inbox.put(None)
        for job in jobs:
            self._drop(job, error)

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
