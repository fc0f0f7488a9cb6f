"""Training end to end on a tiny random model, metrics on hand-made predictions, calibration."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest
import torch

from contradict.claims import claim_pairs, document_windows, stances
from contradict.corpus.reader import Article
from contradict.scorer import METRICS_FILE, NLIScorer, decide_labels, records_from, softmax
from tests.support import paths
from tests.support.models import tiny_training_args
from training.average_weights import average_weights
from training.average_weights import main as average_main
from training.calibrate import calibrate, choose_threshold, fit_temperature
from training.calibrate import main as calibrate_main
from training.evaluate import CLAIM_REPORTS, CLAIMS_NEGATED, evaluate_claims
from training.export import export
from training.metrics import (
    binary_auroc,
    classification_report,
    confusion_matrix,
    expected_calibration_error,
    macro_f1,
)
from training.model_card import HEADLINE_PAIR
from training.train import class_weights
from training.train import main as train_main

CUES = {
    "contradiction": "never wrong false no",
    "entailment": "always right true yes",
    "neutral": "maybe perhaps unknown",
}


def write_split(path, count: int) -> None:
    rows = []
    labels = list(CUES)
    for index in range(count):
        label = labels[index % 3]
        rows.append(
            {
                "premise": f"statement number {index} about the border",
                "hypothesis": CUES[label],
                "label": label,
            }
        )
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")


@pytest.fixture(scope="module")
def trained_run(tiny_model_dir, tmp_path_factory):
    """A tiny random model trained for 80 steps on cue words; shared by the train and export tests."""
    tmp_path = tmp_path_factory.mktemp("train")
    data = tmp_path / "data"
    data.mkdir()
    write_split(data / "train.jsonl", 96)
    write_split(data / "validation.jsonl", 12)
    write_split(data / "test.jsonl", 12)
    final = train_main(
        tiny_training_args(
            tiny_model_dir, data, tmp_path / "run", max_steps=80, learning_rate="3e-3", logging_steps=5
        )
    )
    return final, data


@pytest.mark.slow  # trains a model (trained_run)
def test_a_few_training_steps_lower_the_loss_and_save_a_loadable_model(trained_run):
    final, _ = trained_run
    history = json.loads((final / "log_history.json").read_text())
    losses = [entry["loss"] for entry in history if "loss" in entry]
    assert len(losses) >= 4
    assert np.mean(losses[-2:]) < 0.7 * np.mean(losses[:2])

    scorer = NLIScorer(str(final))
    assert scorer.id2label == {0: "contradiction", 1: "entailment", 2: "neutral"}
    results = scorer.score([("statement number 5 about the border", CUES[label]) for label in CUES])
    assert [result.label for result in results] == list(CUES)


@pytest.mark.slow  # trains a model (trained_run)
def test_calibrate_command_writes_the_calibration_into_the_model(trained_run, tmp_path):
    final, data = trained_run
    model = tmp_path / "model"
    shutil.copytree(final, model)
    report = calibrate_main(["--model", str(model), "--dataset", str(data), "--split", "validation"])
    assert report["validation_examples"] == 12
    scorer = NLIScorer(str(model))
    assert scorer.max_length == 32  # the run's record (run_args.json), as trained
    assert scorer.calibration.temperature == pytest.approx(report["temperature"])
    assert scorer.calibration.threshold == report["threshold"]


@pytest.mark.slow  # trains a model (trained_run)
def test_export_ships_fp16_weights_with_calibration_metrics_and_card(
    trained_run, tiny_model_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("CONTRADICT_NLI_DATA", str(paths.FIXTURES / "nli"))  # claim vs document sets
    monkeypatch.setenv("CONTRADICT_CACHE_DIR", str(tmp_path / "cache"))
    final, data = trained_run
    output = tmp_path / "models" / "tiny-nli"
    output.parent.mkdir()
    sets = (f"{data}/validation", f"{data}/test")
    metrics = export(final, output, version="9.9.9", calibration_data=str(data), sets=sets)
    assert metrics["promoted"]

    shipped = json.loads((output / METRICS_FILE).read_text())
    written = {key: value for key, value in metrics.items() if key != "promoted"}
    assert json.dumps(written, indent=2) + "\n" == (output / METRICS_FILE).read_text()
    assert [report["examples"] for report in shipped["evaluation"].values()] == [12, 12]
    assert shipped["calibration"]["validation_examples"] == 12
    assert shipped["training"]["max_length"] == 32
    assert shipped["training"]["base_model"] == str(tiny_model_dir)
    # The data in the weights comes from the run's records, with its licence.
    assert shipped["datasets_in_weights"] == [str(data)]
    assert set(shipped["licences"]) == {str(data)}
    assert shipped["behaviour"]["total"] >= 100
    headline = shipped["headline"]
    assert (headline["premise"], headline["hypothesis"]) == HEADLINE_PAIR
    assert headline["forward"]["label"] in {"contradiction", "entailment", "neutral"}
    card = (output / "README.md").read_text()
    assert "version 9.9.9" in card and HEADLINE_PAIR[0] in card
    assert f"labels it **{headline['forward']['label']}**" in card
    assert f"| {data}/test | 12 |" in card
    claims = shipped["claim_vs_document"]
    assert list(claims) == list(CLAIM_REPORTS)
    assert claims["fnc1/validation"]["pairs"] == 2 and claims["fnc1/validation"]["disagree"] == 1
    assert "| fnc1/validation | 2 (1) | 1 |" in card

    # fp16 on disk, fp32 once loaded, with the fitted calibration applied by the core.
    config = json.loads((output / "config.json").read_text())
    assert config["dtype"] == "float32"
    scorer = NLIScorer(str(output))
    assert scorer.calibration.temperature == pytest.approx(shipped["calibration"]["temperature"])

    # No selection score (these sets are not the selection sets): never replaces a shipped
    # model unless forced.
    again = export(final, output, version="10.0.0", calibration_data=str(data), sets=sets)
    assert again["version"] == "10.0.0" and not again["promoted"]
    assert json.loads((output / METRICS_FILE).read_text())["version"] == "9.9.9"
    export(final, output, version="10.0.0", calibration_data=str(data), sets=sets, force=True)
    assert json.loads((output / METRICS_FILE).read_text())["version"] == "10.0.0"


def test_claim_evaluation_pools_every_window_of_the_whole_article(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("CONTRADICT_NLI_DATA", str(paths.FIXTURES / "nli"))
    monkeypatch.setenv("CONTRADICT_CACHE_DIR", str(tmp_path / "cache"))
    scorer = NLIScorer(str(tiny_model_dir))
    report = evaluate_claims(scorer, "fnc1/validation", window=1)
    # Body 3101 (held out): one agree and one disagree headline, each against all its statements.
    windows = document_windows(Article(id="3101", text=_body_3101()), 1)
    assert report["pairs"] == 2 and report["disagree"] == 1 and report["documents"] == 1
    assert report["windows"] == 2 * len(windows) and len(windows) > 1 and report["window"] == 1
    checks = [
        ("Hallam town hall clock stops after gear snaps inside tower", windows),
        ("Hallam clock stopped by vandals, police say", windows),
    ]
    agree, disagree = stances(checks, scorer.probabilities(claim_pairs(checks)))
    expected = float(disagree.contradiction_share > agree.contradiction_share)
    assert report["contradiction_vs_entailment_auroc"] == expected
    # The polarity check reads the claims the rule can negate negated, agree and disagree swapped: of
    # FNC-1's two headlines neither ("... clock stops after ...", headlinese passive "... stopped by
    # vandals"); ARC validation's one agreeing claim becomes a disagreeing one.
    negated = evaluate_claims(scorer, "fnc1/validation" + CLAIMS_NEGATED, window=1)
    assert negated["pairs"] == negated["documents"] == negated["windows"] == 0
    original = evaluate_claims(scorer, "arc/validation", window=1)
    negated = evaluate_claims(scorer, "arc/validation" + CLAIMS_NEGATED, window=1)
    assert (original["pairs"], original["disagree"]) == (1, 0)
    assert (negated["pairs"], negated["disagree"], negated["windows"]) == (1, 1, original["windows"])


def _body_3101() -> str:
    from training.nli_sources import read_stance_csv

    _, texts = read_stance_csv([], paths.FIXTURES / "nli" / "fnc1_train" / "train_bodies.csv")
    return texts["3101"]


def test_time_budget_stops_training_early_and_still_saves(tiny_model_dir, tmp_path, caplog):
    """A lent GPU or a session with a hard end: the run stops at the budget and keeps its model."""
    data = tmp_path / "data"
    data.mkdir()
    write_split(data / "train.jsonl", 48)
    caplog.set_level(logging.WARNING)
    args = tiny_training_args(
        tiny_model_dir, data, tmp_path / "run", max_steps=500, learning_rate="1e-3", logging_steps=1
    )
    final = train_main([*args, "--max_train_minutes", "0.0001"])
    history = json.loads((final / "log_history.json").read_text())
    steps = max(entry["step"] for entry in history)
    assert 1 <= steps < 500
    assert f"time budget of 0.0 min spent at step {steps} of 500: stopping and saving" in caplog.text
    assert NLIScorer(str(final)).id2label[0] == "contradiction"
    assert json.loads((final / "run_args.json").read_text())["max_train_minutes"] == 0.0001


def test_class_weights_lift_the_rare_class():
    labels = [0] * 40 + [1] * 50 + [2] * 10
    inverse = class_weights(labels, 3, "inverse")
    sqrt = class_weights(labels, 3, "sqrt_inverse")
    assert inverse[2] > inverse[0] > inverse[1]
    assert float(inverse.mean()) == pytest.approx(1.0)
    assert 1.0 < float(sqrt[2]) < float(inverse[2])
    assert class_weights(labels, 3, "none") is None


def test_metrics_on_hand_made_predictions():
    gold = np.array([0, 0, 1, 1, 2, 2])
    probabilities = np.array(
        [
            [0.8, 0.1, 0.1],  # right
            [0.3, 0.6, 0.1],  # contradiction predicted as entailment
            [0.1, 0.8, 0.1],  # right
            [0.1, 0.7, 0.2],  # right
            [0.2, 0.2, 0.6],  # right
            [0.5, 0.1, 0.4],  # neutral predicted as contradiction
        ]
    )
    matrix = confusion_matrix(gold, probabilities.argmax(axis=1))
    assert matrix.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    report = classification_report(probabilities, gold, threshold=0.45)
    assert report["accuracy"] == pytest.approx(4 / 6)
    # contradiction: precision 1/2, recall 1/2 -> F1 0.5; entailment: P 2/3, R 1 -> 0.8; neutral: P 1, R 1/2
    assert report["per_class"]["contradiction"]["f1"] == pytest.approx(0.5)
    assert report["per_class"]["entailment"]["f1"] == pytest.approx(0.8)
    assert report["per_class"]["neutral"]["f1"] == pytest.approx(2 / 3)
    assert report["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    # contradiction scores 0.8, 0.3 vs others 0.1, 0.1, 0.2, 0.5: 7 of 8 positive-negative pairs ordered right
    assert report["contradiction_auroc"] == pytest.approx(7 / 8)
    assert report["is_contradiction"] == pytest.approx(
        {"threshold": 0.45, "f1": 0.5, "precision": 0.5, "recall": 0.5}
    )


def test_auroc_handles_ties_and_ece_of_a_perfectly_calibrated_case():
    assert binary_auroc(np.array([0.5, 0.5]), np.array([1, 0])) == pytest.approx(0.5)
    assert binary_auroc(np.array([0.9, 0.1]), np.array([1, 0])) == pytest.approx(1.0)
    # Confidence 0.75 in every row and 3 of 4 right: calibrated, ECE 0.
    probabilities = np.tile([0.75, 0.25, 0.0], (4, 1))
    assert expected_calibration_error(probabilities, np.array([0, 0, 0, 1])) == pytest.approx(0.0)
    assert expected_calibration_error(probabilities, np.array([1, 1, 1, 1])) == pytest.approx(0.75)


def test_temperature_scaling_lowers_ece_of_an_overconfident_model():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, size=3000)
    # Logits that are right 70% of the time but far too confident.
    predicted = np.where(rng.random(3000) < 0.7, gold, rng.integers(0, 3, size=3000))
    logits = rng.normal(0, 0.5, size=(3000, 3))
    logits[np.arange(3000), predicted] += 6.0
    temperature = fit_temperature(logits, gold)
    assert temperature > 1.5
    before = expected_calibration_error(softmax(logits), gold)
    after = expected_calibration_error(softmax(logits, temperature), gold)
    assert after < before / 3
    calibration, report = calibrate(logits, gold)
    assert calibration.temperature == pytest.approx(temperature)
    assert report["validation_ece_after"] < report["validation_ece_before"]
    assert 0.0 < calibration.threshold < 1.0


def test_threshold_maximises_macro_f1_of_the_decision_rule():
    # Contradictions sit at 0.45-0.6 contradiction probability, below the entailment/neutral mass:
    # argmax never says contradiction, the fitted rule does.
    probabilities = np.array(
        [
            [0.60, 0.30, 0.10],
            [0.45, 0.50, 0.05],
            [0.48, 0.10, 0.42],
            [0.20, 0.70, 0.10],
            [0.30, 0.60, 0.10],
            [0.25, 0.15, 0.60],
            [0.35, 0.10, 0.55],
        ]
    )
    gold = np.array([0, 0, 0, 1, 1, 2, 2])
    threshold = choose_threshold(probabilities, gold)
    assert 0.35 < threshold <= 0.45
    assert list(decide_labels(probabilities, threshold)) == list(gold)
    assert macro_f1(gold, decide_labels(probabilities, threshold)) == 1.0
    assert macro_f1(gold, probabilities.argmax(axis=1)) < 1.0


def test_decision_rule_label_and_is_contradiction_never_disagree(tiny_model_dir):
    from contradict.scorer import Calibration

    probabilities = np.array([[0.40, 0.55, 0.05], [0.20, 0.30, 0.50], [0.31, 0.34, 0.35], [0.9, 0.05, 0.05]])
    assert list(decide_labels(probabilities, 0.31)) == [0, 2, 0, 0]
    assert list(decide_labels(probabilities, 0.95)) == [1, 2, 2, 1]
    scorer = NLIScorer(str(tiny_model_dir), calibration=Calibration(threshold=0.31))
    for score in records_from(probabilities, scorer.calibration.threshold):
        assert score.is_contradiction == (score.label == "contradiction")
        assert score.is_contradiction == (score.contradiction >= 0.31)
    rng = np.random.default_rng(0)
    random = rng.dirichlet(np.ones(3), size=500)
    for threshold in (0.1, 0.33, 0.5, 0.8):
        labels = decide_labels(random, threshold)
        assert np.array_equal(labels == 0, random[:, 0] >= threshold)
        below = random[:, 0] < threshold
        assert np.array_equal(labels[below], 1 + random[below, 1:].argmax(axis=1))


def test_macro_f1_averages_only_the_labels_present():
    gold = np.array([0, 0, 1, 1])
    assert macro_f1(gold, np.array([0, 0, 1, 1])) == 1.0
    assert macro_f1(gold, np.array([0, 1, 1, 1])) == pytest.approx((2 / 3 + 0.8) / 2)


def test_weight_average_is_the_mean_of_the_checkpoints_and_refuses_other_labels(tmp_path):
    from safetensors.torch import load_file

    from tests.support.models import build_tiny_model

    labels = {0: "contradiction", 1: "entailment", 2: "neutral"}
    first = build_tiny_model(tmp_path / "a", labels, seed=1)
    second = build_tiny_model(tmp_path / "b", labels, seed=2)
    soup = average_weights([first, second], tmp_path / "soup")

    a, b, mean = (load_file(folder / "model.safetensors") for folder in (first, second, soup))
    name = "classifier.weight"
    assert not torch.equal(a[name], b[name])
    assert torch.allclose(mean[name], (a[name] + b[name]) / 2)
    assert NLIScorer(str(soup)).id2label == labels
    assert json.loads((soup / "run_args.json").read_text())["averaged_from"] == [str(first), str(second)]
    # The command takes the checkpoints positionally, as training/reproduce.sh gives them.
    again = average_main([str(first), str(second), "--output", str(tmp_path / "again")])
    assert torch.equal(load_file(again / "model.safetensors")[name], mean[name])

    other = build_tiny_model(tmp_path / "c", {0: "entailment", 1: "neutral", 2: "contradiction"})
    with pytest.raises(ValueError, match="differ"):
        average_weights([first, other], tmp_path / "bad")
    with pytest.raises(ValueError, match="two"):
        average_weights([first], tmp_path / "one")


def test_reversed_contradictions_are_added_and_other_labels_are_not():
    import datasets

    from training.train import with_reversed_contradictions

    rows = [
        {
            "premise": "The bridge opened in 1990.",
            "hypothesis": "The bridge opened in 1985.",
            "label": "contradiction",
        },
        {"premise": "The bridge opened in 1990.", "hypothesis": "The bridge is open.", "label": "entailment"},
        {"premise": "The bridge opened in 1990.", "hypothesis": "The bridge is red.", "label": "neutral"},
    ]
    augmented = with_reversed_contradictions(datasets.Dataset.from_list(rows), seed=0).to_list()
    assert len(augmented) == 4
    swapped = {"premise": rows[0]["hypothesis"], "hypothesis": rows[0]["premise"], "label": "contradiction"}
    assert swapped in augmented
    assert all(row in augmented for row in rows)
