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


def _percent(value: float) -> str:
    return f"{100 * value:.1f}"


def _experiments_table() -> str:
    if not EXPERIMENTS_FILE.is_file():
        return "_No experiment log._"
    experiments = json.loads(EXPERIMENTS_FILE.read_text())
    rows = [
        "| run | change | validation | test | note |",
        "|---|---|---|---|---|",
    ]
    for run in experiments:
        validation = run.get("validation") or run.get("validation_accuracy", "-")
        test = run.get("test") or run.get("test_accuracy", "-")
        rows.append(f"| {run['run']} | {run['change']} | {validation} | {test} | {run.get('note', '')} |")
    return "\n".join(rows)


def _headline_line(metrics: dict) -> str:
    headline = metrics.get("headline")
    if not headline:
        return "it was not scored at export."
    forward, symmetric = headline["forward"], headline["symmetric"]
    return (
        f"this version labels it **{forward['label']}** forward (contradiction probability "
        f"{forward['contradiction']:.3f}) and **{symmetric['label']}** in symmetric mode "
        f"({symmetric['contradiction']:.3f})."
    )


def floor_checks(metrics: dict) -> list[tuple[str, str, bool | None]]:
    """The project's floors for this model (issue 8), each as (floor, measured, met); ``None`` when
    the figure was not measured."""
    sets = metrics.get("evaluation", {})
    checks: list[tuple[str, str, bool | None]] = []

    def figure(name: str, label: str, key: str, floor: float, table: dict = sets) -> None:
        if name not in table:
            checks.append((f"{label} >= {floor}", "not measured", None))
            return
        value = table[name][key]
        checks.append((f"{label} >= {floor}", f"{value:.3f}", bool(value >= floor)))

    headline = metrics.get("headline")
    if headline:
        labels = (headline["forward"]["label"], headline["symmetric"]["label"])
        checks.append(
            (
                "headline pair is a contradiction, forward and symmetric",
                f"{labels[0]} / {labels[1]}",
                labels == ("contradiction", "contradiction"),
            )
        )
    figure("mnli/validation", "MNLI matched held-out accuracy", "accuracy", 0.66)
    figure("snli/validation", "SNLI dev held-out accuracy", "accuracy", 0.80)
    figure("vitaminc/test", "VitaminC test accuracy", "accuracy", 0.67)
    figure(
        "fnc1/validation",
        "FNC-1 held-out bodies contradiction-vs-entailment AUROC",
        "contradiction_vs_entailment_auroc",
        0.75,
    )
    figure(
        "arc/test", "ARC test contradiction-vs-entailment AUROC", "contradiction_vs_entailment_auroc", 0.75
    )
    if "claim_vs_document" in metrics:
        figure(
            "arc/test",
            "ARC test C-vs-E AUROC, claim vs whole post (`contradict claim`)",
            "contradiction_vs_entailment_auroc",
            0.75,
            metrics["claim_vs_document"],
        )
    suite = metrics.get("behaviour")
    if suite:
        checks.append(
            ("behaviour suite overall >= 0.85", f"{suite['overall']:.3f}", suite["overall"] >= 0.85)
        )
        name, rate = suite["min_category"]
        checks.append(("behaviour suite, every category >= 0.60", f"{name} {rate:.3f}", rate >= 0.60))
    calibration = metrics.get("calibration")
    if calibration:
        ece = calibration["validation_ece_after"]
        checks.append(("ECE on pooled validation <= 0.05", f"{ece:.3f}", ece <= 0.05))
    return checks


def _distillation_line(training: dict) -> str:
    """Say so when the last stage learnt from a teacher's soft labels (``training.teacher``)."""
    if not training.get("soft_labels"):
        return ""
    return (
        f"The last stage distils a teacher (`{training['soft_labels']}`, described in the `.meta.json` "
        f"beside it): loss = (1 - alpha) x weighted cross-entropy on the gold label + alpha x T^2 x "
        f"KL(teacher || student at T), alpha = {training.get('distill_alpha')}, "
        f"T = {training.get('distill_temperature')}."
        + (
            f" It also learns unlabelled pairs (`{training['unlabelled_pairs']}`, at most "
            f"{training.get('max_unlabelled_pairs') or 'all'} of them, `training.news_pairs`) on the "
            "teacher's soft labels alone (no cross-entropy term)."
            if training.get("unlabelled_pairs")
            else ""
        )
        + "\n"
    )


def _floors_table(metrics: dict) -> str:
    rows = ["| floor | measured | met |", "|---|---|---|"]
    for floor, measured, met in floor_checks(metrics):
        rows.append(f"| {floor} | {measured} | {'-' if met is None else ('yes' if met else '**no**')} |")
    return "\n".join(rows)


def _attributed_line(metrics: dict) -> str:
    """The suite with both sides attributed (``training.behaviour.attributed``), where measured."""
    report = metrics.get("behaviour_attributed")
    if not report:
        return ""
    rates = ", ".join(
        f"{name} {100 * stats['pass_rate']:.0f}%" for name, stats in report["categories"].items()
    )
    labels = ", ".join(f"{name} {100 * rate:.1f}%" for name, rate in report.get("labels", {}).items())
    return (
        f"The same suite as news reports it, both sides put in a source's mouth ({report['total']} cases; "
        f"contradictions and neutral pairs from two different sources): {100 * report['overall']:.1f}% "
        f"overall; by expected label {labels}; {rates}.\n"
    )


def _claims_section(metrics: dict) -> str:
    """The news stance sets read claim vs whole article, as `contradict claim` and
    `/v1/claims/stance` serve them (``contradict.claims``); empty for models measured before."""
    from training.evaluate import claims_table

    reports = metrics.get("claim_vs_document")
    if not reports:
        return ""
    window = next(iter(reports.values()))["window"]
    return (
        "The news stance sets read claim vs the whole article (`contradict claim`, `/v1/claims/stance`): "
        f"the claim against every window of {window} consecutive statements, pooled into the share of "
        "the evidence that contradicts it; C-vs-E AUROC of that share, disagree vs agree:\n\n"
        f"{claims_table(reports)}\n\n"
    )


def _datasets_table(metrics: dict) -> str:
    rows = ["| dataset | licence |", "|---|---|"]
    for name, licence in metrics.get("licences", {}).items():
        rows.append(f"| {name} | {licence} |")
    return "\n".join(rows)


def write_model_card(folder: Path, metrics: dict) -> None:
    from training.behaviour import format_table
    from training.evaluate import markdown_table

    calibration = metrics["calibration"]
    training = metrics.get("training", {})
    selection = metrics.get("selection")
    selection_line = (
        f"Selection score {selection['score']:.4f}: {selection['rule']}."
        if selection
        else "No selection score."
    )
    base = training.get("base_model", "unknown")
    suite = metrics.get("behaviour")
    card = f"""---
license: other
language: en
pipeline_tag: text-classification
tags: [nli, contradiction-detection, cross-encoder]
---

# {metrics["name"]} (version {metrics["version"]})

A 3-way NLI cross-encoder (contradiction / entailment / neutral) for the `contradict` service.
Input: a (premise, hypothesis) text pair; output: one logit per label, `config.id2label` =
{json.dumps({str(k): v for k, v in enumerate(LABELS)})}. Architecture: all-MiniLM-L6-v2 (BERT, 6 layers,
hidden 384, 22.7M parameters) with a classification head on the pooled [CLS] output.

## Base and data

- **Fine-tuned from**: `{base}` (the last stage's starting weights; earlier stages are in the
  experiment log below).
- **Data of the last stage**: `{training.get("dataset", "-")}` (source=weight: each source's train
  split repeated or sub-sampled by its weight; see `training/data.py`).
- **Every dataset in these weights** (through this stage or the ones it started from), with its licence:

{_datasets_table(metrics)}

Splits never leak: VitaminC by Wikipedia page, MultiNLI matched dev (2,000 held out) and SNLI dev
(about 3,000) by premise, FEVER by evidence text, FNC-1 and ARC by article body, Emergent by claim;
a training pair whose premise is held out by any source is dropped. ANLI (CC BY-NC) is evaluation
only and is not in the weights. News stance pairs (FNC-1, ARC) become sentence-level pairs: the 2
body sentences most similar to the headline under all-MiniLM-L6-v2, in body order, as premise.

## Training

transformers `Trainer`, weighted cross-entropy (sqrt-inverse class frequency), AdamW, linear
schedule, length-grouped batches, max length {training.get("max_length", "-")} tokens. Last stage:
{json.dumps({key: value for key, value in training.items() if key not in ("dataset", "base_model")})}.
{_distillation_line(training)}Reproduce with `make model` (see the repository README for the time it takes).

## Calibration and the decision rule

Temperature scaling fitted on pooled validation data ({calibration.get("validation_examples", "-")} pairs,
at most 1,000 per source of `{calibration.get("data", "-")}`): T = {calibration["temperature"]:.3f}, ECE
{calibration["validation_ece_before"]:.3f} -> {calibration["validation_ece_after"]:.3f}.
**Decision rule**: a pair is labelled contradiction exactly when its calibrated contradiction
probability reaches the threshold ({calibration["threshold"]:.2f}); otherwise it takes the larger of
entailment and neutral. `is_contradiction` is the same test, so `label` and `is_contradiction`
never disagree. The threshold maximises the pooled validation macro-F1 of that rule
({calibration.get("validation_macro_f1_argmax", float("nan")):.3f} with a plain argmax,
{calibration.get("validation_macro_f1_decision", float("nan")):.3f} with the rule). Both live in
`calibration.json`, which the `contradict` scoring core applies; plain `transformers`/`CrossEncoder`
users get raw logits.

## Results

Every held-out set, scored through the service's scoring core (calibrated, decision rule applied;
C-vs-E AUROC ranks gold contradictions above gold entailments, the stance measure for news;
`*_negated` sets and "(claims negated)" rows: the news stance pairs with each claim the rule of
`training/claim_negation.py` can negate negated and agree / disagree swapped, so a model that reads
which way the claim points scores them like the originals, and one that judges the article alone
scores them below 0.5):

{markdown_table(metrics.get("evaluation", {}))}

{selection_line}

{_claims_section(metrics)}Behaviour suite (`training/behaviour_suite.jsonl`, hand-written pairs, forward
direction):

{f"```{chr(10)}{format_table(suite)}{chr(10)}```" if suite else "_not run_"}

{_attributed_line(metrics)}

The project's floors for this model:

{_floors_table(metrics)}

## What was tried

{_experiments_table()}

## Limitations

- A small model (6 layers, 22.7M parameters) trained on about a hundred thousand pairs: it misses
  negation scope, quantifiers and world knowledge that larger NLI models get; ANLI shows it.
- The headline pair this project started from ("{HEADLINE_PAIR[0]}" / "{HEADLINE_PAIR[1]}"):
  {_headline_line(metrics)}
- News stance labels (FNC-1, ARC) are article-level; the sentence windows built from them are
  noisy labels for sentence pairs.
- English only. Max {training.get("max_length", 128)} tokens per pair in training.
- Weights are stored in fp16 to stay under 50 MB and are loaded in fp32.

## License

Weights derived from all-MiniLM-L6-v2 (Apache-2.0) and the datasets above; the most restrictive
terms among them (CC BY-SA share-alike) apply, and some sources state no licence (see the table).
Use with `AutoModelForSequenceClassification` or `sentence_transformers.CrossEncoder`.
"""
    (folder / "README.md").write_text(card)
