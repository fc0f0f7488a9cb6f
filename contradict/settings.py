"""All settings in one typed place, read from ``CONTRADICT_*`` environment variables (or ``.env``)."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL_NAME = "contradict-minilm-l6-vitaminc"
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

    def log(self) -> None:
        """Log every setting once at start-up, with secrets masked."""
        shown = self.model_dump()
        if self.api_key is not None:
            shown["api_key"] = "***"
        logger.info("settings: %s", shown)


@lru_cache
def get_settings() -> Settings:
    return Settings()
