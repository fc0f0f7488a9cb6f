"""Fixtures of the corpus tests: the tiny NLI scorer and the real bi-encoder, one of each per session."""

from __future__ import annotations

import pytest

from contradict.corpus.candidates import Embedder
from contradict.scorer import NLIScorer


@pytest.fixture(scope="session")
def scorer(tiny_model_dir) -> NLIScorer:
    return NLIScorer(str(tiny_model_dir))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()
