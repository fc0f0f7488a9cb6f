"""Run the service under uvicorn (what ``contradict serve`` calls)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr

from contradict.scorer import resolve_model_folder
from contradict.settings import ENV_PREFIX, FLAT_NAMES, GROUPS, NESTED_DELIMITER, Settings
from service.app import create_app

logger = logging.getLogger(__name__)


def check_model(settings: Settings) -> None:
    """Fail before binding the port when the model folder is plainly missing: a clear message at
    start beats a server that never turns ready. Hub ids are left to transformers."""
    model = settings.scoring.model
    try:
        folder = resolve_model_folder(model)
    except FileNotFoundError:
        folder = Path(model).expanduser()
    if folder is not None and not (folder / "config.json").is_file():
        raise SystemExit(
            f"model not found: {model} has no config.json. Set CONTRADICT_MODEL (or --model) to a "
            "model folder; `make model` rebuilds the shipped one."
        )


def export_settings(settings: Settings) -> None:
    """Put the effective settings into ``CONTRADICT_*`` variables so worker processes see the same
    values (including ones given as command-line flags): each under its flat name, with the nested
    spellings, which would win over it, removed."""
    for group in GROUPS:
        os.environ.pop(ENV_PREFIX + group.upper(), None)  # a whole group as JSON
    flat = settings.flat()
    for name, (group, field) in FLAT_NAMES.items():
        value = flat[name]
        os.environ.pop(ENV_PREFIX + (group + NESTED_DELIMITER + field).upper(), None)
        key = ENV_PREFIX + name.upper()
        if value is None:
            os.environ.pop(key, None)
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        os.environ[key] = str(value)


def app_from_env() -> FastAPI:
    """uvicorn factory for multi-process mode: every worker builds its app (and model) from env."""
    return create_app(Settings())


def run(settings: Settings) -> None:
    service = settings.service
    logging.basicConfig(
        level=service.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings.log()
    check_model(settings)
    options = {
        "host": service.host,
        "port": service.port,
        "log_level": service.log_level.lower(),
        "timeout_graceful_shutdown": 30,
    }
    if service.workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    export_settings(settings)
    uvicorn.run("service.server:app_from_env", factory=True, workers=service.workers, **options)
