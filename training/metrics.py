"""Classification and calibration metrics for 3-way NLI, in plain numpy.

Kept dependency-free so the evaluation runs anywhere the service runs; each function is small
enough to check by hand, and the tests do exactly that.
"""

from __future__ import annotations

import numpy as np

from contradict.labels import CONTRADICTION_COLUMN, ENTAILMENT_COLUMN, LABELS
from contradict.scorer import decide_labels


def confusion_matrix(gold: np.ndarray, predicted: np.ndarray, num_labels: int = 3) -> np.ndarray:
    """Rows are gold labels, columns predictions."""
    matrix = np.zeros((num_labels, num_labels), dtype=np.int64)
    np.add.at(matrix, (gold, predicted), 1)
    return matrix


def per_class_scores(matrix: np.ndarray) -> list[dict[str, float]]:
    scores = []
    for index in range(matrix.shape[0]):
        true_positive = matrix[index, index]
        predicted = matrix[:, index].sum()
        actual = matrix[index, :].sum()
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(
            {"precision": float(precision), "recall": float(recall), "f1": float(f1), "support": int(actual)}
        )
    return scores


def macro_f1(gold: np.ndarray, predicted: np.ndarray, num_labels: int = 3) -> float:
    """Mean F1 over the labels present in ``gold``: FEVER has no neutral pairs, and a class with
    nothing to find would add a constant 0 (or reward never predicting it)."""
    scores = per_class_scores(confusion_matrix(gold, predicted, num_labels))
    return float(np.mean([item["f1"] for item in scores if item["support"]]))


def binary_auroc(positive_scores: np.ndarray, is_positive: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum (Mann-Whitney U) formula, ties averaged."""
    is_positive = is_positive.astype(bool)
    n_pos, n_neg = int(is_positive.sum()), int((~is_positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(positive_scores, kind="mergesort")
    ranks = np.empty(len(positive_scores), dtype=np.float64)
    sorted_scores = positive_scores[order]
    # Average ranks over runs of tied scores.
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(sorted_scores)]])
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    return float((ranks[is_positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def expected_calibration_error(probabilities: np.ndarray, gold: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE with equal-width confidence bins (Guo et al., 2017)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == gold
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            error += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(error)


def negative_log_likelihood(probabilities: np.ndarray, gold: np.ndarray) -> float:
    picked = probabilities[np.arange(len(gold)), gold]
    return float(-np.log(np.clip(picked, 1e-12, 1.0)).mean())


def binary_f1(predicted: np.ndarray, actual: np.ndarray) -> float:
    true_positive = float((predicted & actual).sum())
    denominator = float(predicted.sum() + actual.sum())
    return 2 * true_positive / denominator if denominator else 0.0


def classification_report(
    probabilities: np.ndarray, gold: np.ndarray, threshold: float | None = None
) -> dict:
    """Everything the model card and ``metrics.json`` report, columns in ``LABELS`` order.

    With ``threshold``, predictions follow the service's decision rule
    (:func:`contradict.scorer.decide_labels`), so accuracy is that of the labels users get, and the
    binary ``is_contradiction`` figures are added; without it, predictions are the argmax.
    ``contradiction_vs_entailment_auroc`` ranks gold contradictions above gold entailments only:
    the stance measure for news data, where neutral ("discuss") is most of the pairs.
    """
    c = CONTRADICTION_COLUMN
    predicted = probabilities.argmax(axis=1) if threshold is None else decide_labels(probabilities, threshold)
    matrix = confusion_matrix(gold, predicted, len(LABELS))
    stance = (gold == c) | (gold == ENTAILMENT_COLUMN)
    per_class = dict(zip(LABELS, per_class_scores(matrix)))
    report = {
        "examples": int(len(gold)),
        "accuracy": float((predicted == gold).mean()),
        "macro_f1": macro_f1(gold, predicted, len(LABELS)),
        "per_class": per_class,
        "confusion_matrix": {"labels": list(LABELS), "rows_gold_columns_predicted": matrix.tolist()},
        "contradiction_auroc": binary_auroc(probabilities[:, c], gold == c),
        "contradiction_vs_entailment_auroc": binary_auroc(probabilities[stance, c], gold[stance] == c),
        "ece": expected_calibration_error(probabilities, gold),
        "nll": negative_log_likelihood(probabilities, gold),
    }
    if threshold is not None:
        flagged, actual = predicted == c, gold == c
        report["is_contradiction"] = {
            "threshold": float(threshold),
            "f1": binary_f1(flagged, actual),
            "precision": float((flagged & actual).sum() / max(flagged.sum(), 1)),
            "recall": float((flagged & actual).sum() / max(actual.sum(), 1)),
        }
    return report
