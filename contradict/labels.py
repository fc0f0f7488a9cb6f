"""Canonical NLI label names and the mapping of a model's ``id2label`` onto them.

Real NLI checkpoints disagree on label order (MNLI-style models use contradiction/entailment/neutral,
others entailment/neutral/contradiction, ...) and on spelling ("CONTRADICTION", "contradictory",
"LABEL_0"). Every consumer goes through :func:`canonical_label` so the order is never assumed.
"""

from __future__ import annotations

from collections.abc import Mapping

CONTRADICTION = "contradiction"
ENTAILMENT = "entailment"
NEUTRAL = "neutral"
LABELS: tuple[str, str, str] = (CONTRADICTION, ENTAILMENT, NEUTRAL)
# Column of each label in every probability array the scoring core returns (LABELS order).
CONTRADICTION_COLUMN = LABELS.index(CONTRADICTION)
ENTAILMENT_COLUMN = LABELS.index(ENTAILMENT)
NEUTRAL_COLUMN = LABELS.index(NEUTRAL)

# The order the project's own models are trained with; other models keep theirs.
DEFAULT_ID2LABEL: dict[int, str] = {0: CONTRADICTION, 1: ENTAILMENT, 2: NEUTRAL}

_ALIASES: dict[str, str] = {
    "contradiction": CONTRADICTION,
    "contradictory": CONTRADICTION,
    "contradicts": CONTRADICTION,
    "contradict": CONTRADICTION,
    "refutes": CONTRADICTION,
    "refuted": CONTRADICTION,
    "false": CONTRADICTION,
    "entailment": ENTAILMENT,
    "entails": ENTAILMENT,
    "entailed": ENTAILMENT,
    "supports": ENTAILMENT,
    "supported": ENTAILMENT,
    "true": ENTAILMENT,
    "neutral": NEUTRAL,
    "neither": NEUTRAL,
    "not enough info": NEUTRAL,
    "not_enough_info": NEUTRAL,
    "nei": NEUTRAL,
}


class LabelMappingError(ValueError):
    """Raised when a model's or a dataset's labels cannot be mapped onto the three NLI labels."""


def canonical_label(name: str) -> str | None:
    """Return the canonical NLI label for ``name`` or ``None`` when it is not an NLI label."""
    key = str(name).strip().lower().replace("-", "_")
    return _ALIASES.get(key) or _ALIASES.get(key.replace("_", " "))


def label_indices(id2label: Mapping[int | str, str]) -> dict[str, int]:
    """Map each canonical label to the model's output index, refusing anything ambiguous.

    ``LABEL_0``-style names carry no meaning, so a model with those is refused rather than guessed.
    """
    mapping: dict[str, int] = {}
    for index, name in id2label.items():
        label = canonical_label(name)
        if label is None:
            raise LabelMappingError(
                f"model label {name!r} (id {index}) is not an NLI label; expected names like "
                f"{', '.join(LABELS)} in config.id2label"
            )
        if label in mapping:
            raise LabelMappingError(f"model labels map {label!r} twice: {dict(id2label)}")
        mapping[label] = int(index)
    missing = [label for label in LABELS if label not in mapping]
    if missing:
        raise LabelMappingError(
            f"model config.id2label {dict(id2label)} lacks {missing}; a 3-way NLI model is required"
        )
    return mapping
