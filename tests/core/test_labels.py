"""Unit tests of the label mapping (contradict/labels.py): names to canonical labels, id2label to indices.

How a scorer uses the mapping (label orders of real checkpoints, unmappable models) is tested with
the scorer, in test_scorer.py.
"""

from __future__ import annotations

import pytest

from contradict.labels import (
    CONTRADICTION,
    ENTAILMENT,
    NEUTRAL,
    LabelMappingError,
    canonical_label,
    label_indices,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CONTRADICTION", CONTRADICTION),
        ("Contradictory", CONTRADICTION),
        ("contradiction ", CONTRADICTION),
        ("ENTAILMENT", ENTAILMENT),
        ("Neutral", NEUTRAL),
        ("not-enough-info", NEUTRAL),
        ("LABEL_0", None),
        ("not_entailment", None),
    ],
)
def test_canonical_label(name, expected):
    assert canonical_label(name) == expected


@pytest.mark.parametrize(
    "id2label",
    [
        {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"},
        {0: "entailment", 1: "not_entailment"},
        {0: "contradiction", 1: "entailment"},
        {0: "contradiction", 1: "CONTRADICTION", 2: "neutral"},
    ],
)
def test_label_indices_refuses_unmappable(id2label):
    with pytest.raises(LabelMappingError):
        label_indices(id2label)


def test_label_indices_accepts_string_keys():
    assert label_indices({"0": "ENTAILMENT", "1": "NEUTRAL", "2": "CONTRADICTION"}) == {
        ENTAILMENT: 0,
        NEUTRAL: 1,
        CONTRADICTION: 2,
    }
