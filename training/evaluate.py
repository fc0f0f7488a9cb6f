"""Evaluate an NLI model on a labelled split through the same scoring core the service uses.

Writes accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix, contradiction
AUROC, ECE and NLL (with the model's calibration applied, and without it for comparison).

    python -m training.evaluate --model models/contradict-minilm-l6-nli --split test
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import datasets
import numpy as np

from contradict.labels import LABELS
from contradict.scorer import NLIScorer, softmax
from training.data import load_nli_dataset
from training.metrics import classification_report

logger = logging.getLogger("training.evaluate")


def load_split(dataset: str, split: str) -> datasets.Dataset:
    data = load_nli_dataset(dataset)
    if split not in data:
        raise SystemExit(f"{dataset} has no split {split!r} (has {sorted(data)})")
    return data[split]


def pairs_of(split: datasets.Dataset) -> list[tuple[str, str]]:
    return list(zip(split["premise"], split["hypothesis"]))


def gold_ids(split: datasets.Dataset) -> np.ndarray:
    index = {label: position for position, label in enumerate(LABELS)}
    return np.array([index[label] for label in split["label"]], dtype=np.int64)


def evaluate(scorer: NLIScorer, split: datasets.Dataset, symmetric: bool = False) -> dict:
    """Metrics of ``scorer`` on ``split``, calibrated as the service would serve it."""
    started = time.perf_counter()
    pairs = pairs_of(split)
    gold = gold_ids(split)
    if symmetric:
        calibrated = scorer.probabilities(pairs, symmetric=True)
        raw = None
    else:
        logits = scorer.canonical_logits(pairs)
        calibrated = softmax(logits, scorer.calibration.temperature)
        raw = softmax(logits, 1.0)
    report = classification_report(calibrated, gold, threshold=scorer.calibration.threshold)
    if raw is not None:
        uncalibrated = classification_report(raw, gold)
        report["uncalibrated"] = {key: uncalibrated[key] for key in ("ece", "nll", "accuracy")}
    report["symmetric"] = symmetric
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--dataset", default="vitaminc")
    parser.add_argument("--split", default="test")
    parser.add_argument("--symmetric", action="store_true", help="score both directions")
    parser.add_argument("--output", type=Path, help="write the report as JSON here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    scorer = NLIScorer(args.model)
    report = evaluate(scorer, load_split(args.dataset, args.split), symmetric=args.symmetric)
    report.update({"dataset": args.dataset, "split": args.split, "model": scorer.name})
    text = json.dumps(report, indent=2)
    if args.output:
        args.output.write_text(text + "\n")
    print(text)
    return report


if __name__ == "__main__":
    main()
