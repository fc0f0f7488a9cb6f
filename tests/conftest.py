"""Shared fixtures: real tokenizers and real (tiny, randomly initialised) BERT classifiers.

The models are built by ``tests.support.models.build_tiny_model``; helpers live in ``tests/support/``
and are imported from there, never from a conftest.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from tests.support.models import build_tiny_model
from tests.support.paths import SHIPPED_MODEL

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random NLI model in the project's own label order."""
    return build_tiny_model(
        tmp_path_factory.mktemp("tiny-nli"), {0: "contradiction", 1: "entailment", 2: "neutral"}
    )


@pytest.fixture
def tiny_model_copy(tiny_model_dir, tmp_path) -> Path:
    """A private copy, for tests that write calibration or metrics files into the folder."""
    return Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))


@pytest.fixture(scope="session")
def shipped_model_dir() -> Path:
    if not (SHIPPED_MODEL / "config.json").is_file():
        pytest.skip("models/ holds no shipped model yet")
    return SHIPPED_MODEL
