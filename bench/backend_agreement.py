"""Do the torch and ONNX backends give the same labels? (a script, not a test)

    .venv/bin/python bench/backend_agreement.py --model models/contradict-minilm-l6-nli

Scores the VitaminC test split (every pair) through the scoring core with each backend and prints
the share of pairs with the same label under the model's decision rule, the same argmax, and the
largest probability difference. The floor from issue 9: >= 99% same labels.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.throughput import vitaminc_pairs  # noqa: E402
from contradict.scorer import NLIScorer, decide_labels  # noqa: E402
from contradict.settings import default_model  # noqa: E402

FLOOR = 0.99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=default_model())
    parser.add_argument(
        "--pairs", type=int, default=100_000, help="at most this many test pairs (default all)"
    )
    args = parser.parse_args()
    pairs = vitaminc_pairs(args.pairs)
    if not pairs:
        raise SystemExit("no VitaminC cache (python -m training.evaluate downloads it)")
    probabilities, seconds = {}, {}
    for backend in ("torch", "onnx"):
        scorer = NLIScorer(args.model, backend=backend)
        started = time.perf_counter()
        probabilities[backend] = scorer.probabilities(pairs)
        seconds[backend] = time.perf_counter() - started
    threshold = scorer.calibration.threshold
    labels = {name: decide_labels(p, threshold) for name, p in probabilities.items()}
    result = {
        "model": f"{scorer.name} {scorer.version}",
        "pairs": len(pairs),
        "same_label": float((labels["torch"] == labels["onnx"]).mean()),
        "same_argmax": float((probabilities["torch"].argmax(1) == probabilities["onnx"].argmax(1)).mean()),
        "max_probability_diff": float(np.abs(probabilities["torch"] - probabilities["onnx"]).max()),
        "seconds": seconds,
    }
    print(json.dumps(result, indent=2))
    verdict = "met" if result["same_label"] >= FLOOR else "NOT met"
    print(f"same labels on {100 * result['same_label']:.2f}% of {len(pairs)} pairs (floor 99%: {verdict})")


if __name__ == "__main__":
    main()
