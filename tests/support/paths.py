"""Paths the tests share: the repository, the fixture data and the shipped model."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
SHIPPED_MODEL = REPO / "models" / "contradict-minilm-l6-nli"
