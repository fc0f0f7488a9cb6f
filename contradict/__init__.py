"""contradict: score how strongly statement pairs contradict each other with an NLI cross-encoder.

The heavy names (torch, transformers) load on first use, so ``contradict --help`` and the settings
module stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contradict.labels import CONTRADICTION, ENTAILMENT, LABELS, NEUTRAL, LabelMappingError

if TYPE_CHECKING:
    from contradict.scorer import Calibration, NLIScorer, PairScore

__all__ = [
    "CONTRADICTION",
    "ENTAILMENT",
    "LABELS",
    "NEUTRAL",
    "Calibration",
    "LabelMappingError",
    "NLIScorer",
    "PairScore",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in {"Calibration", "NLIScorer", "PairScore"}:
        from contradict import scorer

        return getattr(scorer, name)
    raise AttributeError(f"module 'contradict' has no attribute {name!r}")
