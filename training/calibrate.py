"""Post-hoc calibration on the validation split: a temperature and a contradiction threshold.

Temperature scaling (Guo et al., 2017) divides logits by one scalar fitted to minimise validation
NLL; it changes confidence, never the argmax. The ``is_contradiction`` threshold is then chosen on the
calibrated validation probabilities to maximise contradiction F1 (the decision users act on).
Both are written to ``calibration.json`` in the model folder, where the scoring core reads them.

    python -m training.calibrate --model runs/minilm-vitaminc/final
"""

from __future__ import annotations

import argparse
import logging

import numpy as np

from contradict.scorer import Calibration, NLIScorer, softmax
from training.metrics import binary_f1, expected_calibration_error, negative_log_likelihood

logger = logging.getLogger("training.calibrate")


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """Minimise NLL over log-temperature: a coarse grid, then a finer grid around the best."""
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 200))
    for _ in range(3):
        losses = [negative_log_likelihood(softmax(logits, t), gold) for t in grid]
        best = int(np.argmin(losses))
        low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
        grid = np.linspace(low, high, 50)
    return float(grid[int(np.argmin([negative_log_likelihood(softmax(logits, t), gold) for t in grid]))])


def choose_threshold(contradiction_probability: np.ndarray, is_contradiction: np.ndarray) -> float:
    """The probability cut that maximises contradiction F1; ties go to the higher (stricter) cut."""
    candidates = np.unique(np.round(contradiction_probability, 4))
    best_threshold, best_f1 = 0.5, -1.0
    for threshold in candidates:
        f1 = binary_f1(contradiction_probability >= threshold, is_contradiction)
        if f1 >= best_f1:
            best_threshold, best_f1 = float(threshold), f1
    return best_threshold


def calibrate(logits: np.ndarray, gold: np.ndarray) -> tuple[Calibration, dict]:
    """Fit both parts on canonical-order logits; return the calibration and before/after figures."""
    temperature = fit_temperature(logits, gold)
    before, after = softmax(logits, 1.0), softmax(logits, temperature)
    threshold = choose_threshold(after[:, 0], gold == 0)
    calibration = Calibration(
        temperature=temperature,
        threshold=threshold,
        rule="temperature: min validation NLL; threshold: max validation contradiction F1",
    )
    report = {
        "temperature": temperature,
        "threshold": threshold,
        "validation_ece_before": expected_calibration_error(before, gold),
        "validation_ece_after": expected_calibration_error(after, gold),
        "validation_nll_before": negative_log_likelihood(before, gold),
        "validation_nll_after": negative_log_likelihood(after, gold),
    }
    return calibration, report


def main(argv: list[str] | None = None) -> dict:
    from pathlib import Path

    from training.evaluate import gold_ids, load_split, pairs_of

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model folder to calibrate (written in place)")
    parser.add_argument("--dataset", default="vitaminc")
    parser.add_argument("--split", default="validation")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    scorer = NLIScorer(args.model, calibration=Calibration())
    split = load_split(args.dataset, args.split)
    logits = scorer.canonical_logits(pairs_of(split))
    calibration, report = calibrate(logits, gold_ids(split))
    calibration.save(Path(args.model))
    logger.info("calibration %s", report)
    return report


if __name__ == "__main__":
    main()
