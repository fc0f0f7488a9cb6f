"""schemathesis over the whole OpenAPI schema, against a real uvicorn server on loopback (the options
`contradict serve` uses) with the tiny NLI model and the real bi-encoder.

Every operation, at most MAX_EXAMPLES generated requests per operation and phase (examples, coverage,
fuzzing), valid and invalid, and every check schemathesis has: no server error, status codes, content
types, headers and bodies as the schema says, invalid data refused, valid data accepted. Deterministic,
so CI replays the same requests. The schemathesis command line runs it (its pytest plugin does not
load under pytest 9); tests/service/schemathesis_hooks.py adds the one rule JSON Schema cannot state
(document ids unique). About 20 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contradict.settings import Settings
from tests.support.paths import REPO
from tests.support.service import production_server

pytestmark = [pytest.mark.slow, pytest.mark.fuzz]

MAX_EXAMPLES = 50
SCHEMATHESIS = Path(sys.executable).parent / "st"


@pytest.fixture(scope="module")
def server(tiny_model_dir):
    limits = Settings(
        model=str(tiny_model_dir),
        max_pairs_per_request=16,
        max_statement_chars=400,
        corpus_api_max_documents=4,
        corpus_api_max_document_chars=1500,
        log_level="critical",
    )
    live = production_server(limits).start()
    yield live
    live.stop()


def test_every_operation_conforms_to_the_schema(server):
    command = [
        str(SCHEMATHESIS), "run", f"{server.url}/openapi.json",
        "--max-examples", str(MAX_EXAMPLES), "--checks", "all", "--generation-deterministic",
        "--no-color", "--output-truncate", "false", "--request-timeout", "60",
    ]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.service.schemathesis_hooks", "PYTHONPATH": str(REPO)}
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "No issues found" in report and "6 selected / 6 total" in report, report
