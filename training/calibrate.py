"""Post-hoc calibration on validation data: a temperature and a contradiction threshold.

Temperature scaling (Guo et al., 2017) divides logits by one scalar fitted to minimise validation
NLL; it changes confidence, never the argmax. The threshold then fixes the decision rule
(:func:`contradict.scorer.decide_labels`: contradiction exactly when its calibrated probability
reaches the threshold, else the more probable of the other two) and is chosen to maximise the
macro-F1 of the labels that rule gives on validation -- the labels users see, all three of them,
not contradiction F1 alone, which pushes the cut so low that entailments turn into contradictions.
Both are written to ``calibration.json`` in the model folder, where the scoring core reads them.
Fit them on *pooled* validation data (a mixture spec), not on one source.

    python -m training.calibrate --model runs/model2/final --dataset "mnli=1,snli=1,vitaminc=1"
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from transformers import HfArgumentParser

from contradict.scorer import Calibration, NLIScorer, Pair, Scorer, decide_labels, softmax
from training.logs import configure_logging
from training.metrics import expected_calibration_error, macro_f1, negative_log_likelihood

logger = logging.getLogger("training.calibrate")


def temperature_free_logits(scorer: Scorer, pairs: Sequence[Pair], **kwargs: Any) -> np.ndarray:
    """Logits, as far as a temperature can tell, in ``LABELS`` order: the log of the uncalibrated
    probabilities (``kwargs`` go to :meth:`Scorer.probabilities`).

    log softmax(z) = z - logsumexp(z) differs from the logits z by one constant per row, and a
    softmax ignores such a constant, so softmax(log p / T) == softmax(z / T) for every T (up to
    float rounding): fitting or applying a temperature to these is doing it to the logits.
    """
    with np.errstate(divide="ignore"):  # a probability that underflowed to 0 is a logit of -inf
        return np.log(scorer.probabilities(pairs, calibrated=False, **kwargs))


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """Minimise NLL over log-temperature: a coarse grid, then a finer grid around the best."""
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 200))
    for _ in range(3):
        losses = [negative_log_likelihood(softmax(logits, t), gold) for t in grid]
        best = int(np.argmin(losses))
        low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
        grid = np.linspace(low, high, 50)
    return float(grid[int(np.argmin([negative_log_likelihood(softmax(logits, t), gold) for t in grid]))])


def choose_threshold(probabilities: np.ndarray, gold: np.ndarray) -> float:
    """The cut (0.05 .. 0.95, step 0.01) with the best decision-rule macro-F1; ties go to the
    higher (stricter) cut."""
    best_threshold, best_f1 = 0.5, -1.0
    for threshold in np.round(np.arange(0.05, 0.951, 0.01), 2):
        f1 = macro_f1(gold, decide_labels(probabilities, float(threshold)))
        if f1 >= best_f1:
            best_threshold, best_f1 = float(threshold), f1
    return best_threshold


def calibrate(logits: np.ndarray, gold: np.ndarray) -> tuple[Calibration, dict]:
    """Fit both parts on ``LABELS``-order logits (or :func:`temperature_free_logits`); return the
    calibration and before/after figures."""
    temperature = fit_temperature(logits, gold)
    before, after = softmax(logits, 1.0), softmax(logits, temperature)
    threshold = choose_threshold(after, gold)
    calibration = Calibration(
        temperature=temperature,
        threshold=threshold,
        rule="temperature: min validation NLL; threshold: max validation macro-F1 of the decision rule "
        "(contradiction iff its probability >= threshold, else the larger of entailment and neutral)",
    )
    report = {
        "temperature": temperature,
        "threshold": threshold,
        "validation_ece_before": expected_calibration_error(before, gold),
        "validation_ece_after": expected_calibration_error(after, gold),
        "validation_nll_before": negative_log_likelihood(before, gold),
        "validation_nll_after": negative_log_likelihood(after, gold),
        "validation_macro_f1_argmax": macro_f1(gold, after.argmax(axis=1)),
        "validation_macro_f1_decision": macro_f1(gold, decide_labels(after, threshold)),
        "validation_examples": int(len(gold)),
    }
    return calibration, report


@dataclass
class CalibrateArguments:
    model: str = field(metadata={"help": "model folder to calibrate (written in place)"})
    dataset: str = field(
        default="vitaminc", metadata={"help": "dataset or mixture whose split fits temperature and threshold"}
    )
    split: str = field(default="validation", metadata={"help": "split of --dataset"})


def main(argv: list[str] | None = None) -> dict:
    from training.evaluate import gold_ids, load_split, pairs_of

    parser = HfArgumentParser(CalibrateArguments, description=__doc__.splitlines()[0])
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    configure_logging()

    scorer = NLIScorer(args.model)
    split = load_split(args.dataset, args.split)
    calibration, report = calibrate(temperature_free_logits(scorer, pairs_of(split)), gold_ids(split))
    calibration.save(Path(args.model))
    logger.info("calibration %s", report)
    return report


if __name__ == "__main__":
    main()
