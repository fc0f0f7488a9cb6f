"""Run the service under uvicorn (what ``contradict serve`` calls)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr

from contradict.scorer import resolve_model_folder
from contradict.settings import ENV_PREFIX, FLAT_NAMES, GROUPS, NESTED_DELIMITER, Settings
from service.app import create_app
from service.connections import GuardedHttpToolsProtocol

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


def uvicorn_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn options from the settings: timeouts and sizes that keep stalled or oversized clients
    from holding connections (the head deadline and size cap come with the protocol class)."""
    service = settings.service
    return {
        "log_level": service.log_level.lower(),
        "timeout_graceful_shutdown": service.graceful_timeout_s,  # above shutdown_drain_s (validated)
        "http": GuardedHttpToolsProtocol.configured(settings),
        "timeout_keep_alive": service.keep_alive_timeout_s,
        "h11_max_incomplete_event_size": service.max_header_bytes,  # if h11 is ever chosen
        # A backstop at the connection level (uvicorn answers it in plain text); requests beyond
        # max_concurrent_requests are refused before this, in JSON, by the app's middleware.
        "limit_concurrency": 2 * service.max_concurrent_requests,
    }


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
    options = {"host": service.host, "port": service.port, **uvicorn_limits(settings)}
    if service.workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    export_settings(settings)
    options["http"] = GuardedHttpToolsProtocol  # by name into the workers, which read the exported limits
    uvicorn.run("service.server:app_from_env", factory=True, workers=service.workers, **options)
