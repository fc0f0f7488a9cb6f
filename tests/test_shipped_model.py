"""The shipped model: loads offline with the core, transformers and sentence-transformers; the
headline pair comes out a contradiction; a small accuracy smoke test on hand-written pairs."""

from __future__ import annotations

import json

import pytest
import torch

from contradict.scorer import NLIScorer
from training.model_card import HEADLINE_PAIR

# All slow: every test loads the shipped model (skipped where models/ holds none).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scorer(shipped_model_dir) -> NLIScorer:
    return NLIScorer(str(shipped_model_dir))


def test_loads_offline_and_labels_map(scorer, shipped_model_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert sorted(scorer.id2label.values()) == ["contradiction", "entailment", "neutral"]
    assert scorer.calibration.temperature > 0
    assert 0 < scorer.calibration.threshold < 1
    metrics = json.loads((shipped_model_dir / "metrics.json").read_text())
    assert metrics["test"]["examples"] > 5000


def test_torch_backend_computes_in_float32(shipped_model_dir):
    """The weights are stored in fp16 to stay small; the torch backend must still compute in fp32."""
    scorer = NLIScorer(str(shipped_model_dir), backend="torch")
    assert all(param.dtype == torch.float32 for param in scorer.backend.model.parameters())


def test_headline_pair_is_a_contradiction(scorer):
    result = scorer.score([HEADLINE_PAIR])[0]
    assert result.label == "contradiction"
    assert result.is_contradiction
    assert scorer.score([HEADLINE_PAIR], symmetric=True)[0].is_contradiction


def test_accuracy_smoke_on_clear_pairs(scorer):
    pairs = [
        (
            "The company reported a profit of $5 million in 2019.",
            "The company lost money in 2019.",
            "contradiction",
        ),
        (
            "The film grossed $900 million worldwide.",
            "The film grossed over a billion dollars.",
            "contradiction",
        ),
        ("Everest is 8,848 metres tall.", "Everest is under 8,000 metres tall.", "contradiction"),
        (
            "The film grossed $1.3 billion worldwide.",
            "The film grossed over a billion dollars.",
            "entailment",
        ),
        (
            "The city has a population of 2.1 million.",
            "More than two million people live in the city.",
            "entailment",
        ),
        ("She was born in Paris in 1970.", "She was born in 1970.", "entailment"),
    ]
    results = scorer.score([(premise, hypothesis) for premise, hypothesis, _ in pairs])
    correct = sum(result.label == gold for result, (_, _, gold) in zip(results, pairs))
    # Model 2.0.0 gets 4 of 6: it calls "$900 million" -> "over a billion" and "8,848 m" -> "under
    # 8,000 m" entailment (1.1.0, trained on VitaminC alone, got 5). Numeric comparison is a known
    # weakness in its card; the behaviour suite below measures it by category.
    assert correct >= 4, [result.label for result in results]


def test_behaviour_suite_through_the_core_matches_the_record(scorer, shipped_model_dir):
    from training.behaviour import load_suite, run_suite

    report = run_suite(scorer, load_suite())
    recorded = json.loads((shipped_model_dir / "metrics.json").read_text())["behaviour"]
    assert report["passed"] == recorded["passed"] and report["total"] == recorded["total"] >= 100
    assert report["overall"] >= 0.6


def test_loads_unchanged_with_transformers_and_cross_encoder(shipped_model_dir):
    from sentence_transformers import CrossEncoder
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(shipped_model_dir)
    assert model.config.num_labels == 3
    encoder = CrossEncoder(str(shipped_model_dir), device="cpu")
    scores = encoder.predict([HEADLINE_PAIR])
    assert scores.shape == (1, 3)


def test_claim_ranks_the_contradicting_report_above_the_supporting_one(scorer):
    """Claim vs document (`contradict claim`) on two short reports of the story this project started
    from, stated directly (attributed statements are the model's weak side: docs/model.md, "Attribution"):
    the report of a porous border ranks above the report of a guarded one, and both bear on the
    claim more than an unrelated report."""
    from contradict.claims import claim_pairs, document_windows, stances
    from contradict.corpus.reader import Article

    claim = "The border is well guarded from both the Afghan and Tajik side."
    reports = [
        Article(
            id="porous",
            text=(
                "The border in the district is porous. "
                "It is almost entirely controlled by the Taliban. "
                "Militants crossed it freely two weeks ago."
            ),
        ),
        Article(
            id="guarded",
            text=(
                "The border is well guarded on both the Afghan and the Tajik side. "
                "Guards on both sides would stop any attempt to cross it illegally. "
                "The attackers must have come from elsewhere."
            ),
        ),
        Article(
            id="unrelated",
            text=(
                "The city council approved a new budget for public libraries on Tuesday. "
                "Opening hours will be extended on weekends. "
                "The budget also funds two new reading rooms."
            ),
        ),
    ]
    checks = [(claim, document_windows(report)) for report in reports]
    porous, guarded, unrelated = stances(checks, scorer.probabilities(claim_pairs(checks)))
    assert porous.contradiction_share > 0.5 > guarded.contradiction_share
    assert "porous" in porous.most_contradicting.text
    assert min(porous.bearing, guarded.bearing) > unrelated.bearing
