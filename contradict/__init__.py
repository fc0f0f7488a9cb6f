"""contradict: score how strongly statement pairs contradict each other with an NLI cross-encoder."""

from contradict.labels import CONTRADICTION, ENTAILMENT, LABELS, NEUTRAL, LabelMappingError
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
