"""Do the torch and ONNX backends give the same labels? (a script, not a test)

    .venv/bin/python bench/backend_agreement.py --model models/contradict-minilm-l6-nli
    .venv/bin/python bench/backend_agreement.py --schemes compact,int8-dynamic,int8-smooth --work DIR
    .venv/bin/python bench/backend_agreement.py --runtimes onnx,openvino:f32,openvino:bf16

Scores the VitaminC test split (every pair) through the scoring core with torch and with ONNX and
prints, per ONNX file, the share of pairs with the same label under the model's decision rule, the
same argmax, and the largest probability difference. Without ``--schemes`` the ONNX file is the
model folder's own; with it, each scheme is exported into a copy of the folder under ``--work``
(bench/onnx_variants.py), so the shipped folder is never written. Each file runs on every runtime of
``--runtimes`` (``onnx``: ONNX Runtime, the default; ``openvino``, ``openvino:PRECISION``). The floor
from issue 9: >= 99% same labels.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.onnx_variants import DEFAULT_WORK, scheme_folder  # noqa: E402
from bench.throughput import backend_and_precision, vitaminc_pairs  # noqa: E402
from contradict.scorer import NLIScorer, decide_labels  # noqa: E402
from contradict.settings import default_model  # noqa: E402

FLOOR = 0.99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=default_model())
    parser.add_argument(
        "--pairs", type=int, default=100_000, help="at most this many test pairs (default all)"
    )
    parser.add_argument(
        "--schemes", default="", help="comma-separated export schemes (default: the folder's file)"
    )
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="where --schemes copies go")
    parser.add_argument(
        "--runtimes", default="onnx", help="comma-separated: onnx, openvino, openvino:f32, openvino:bf16"
    )
    args = parser.parse_args()
    pairs = vitaminc_pairs(args.pairs)
    if not pairs:
        raise SystemExit("no VitaminC cache (python -m training.evaluate downloads it)")
    schemes = [name.strip() for name in args.schemes.split(",") if name.strip()]
    folders = {name: str(scheme_folder(Path(args.model), name, args.work)) for name in schemes}
    scorer = NLIScorer(args.model, backend="torch")
    reference, seconds = scored(scorer, pairs)
    threshold = scorer.calibration.threshold
    results = []
    runtimes = [entry.strip() for entry in args.runtimes.split(",") if entry.strip()]
    for (name, folder), runtime in itertools.product(
        (folders or {"model folder": args.model}).items(), runtimes
    ):
        backend, precision = backend_and_precision(runtime)
        candidate = NLIScorer(folder, backend=backend, precision=precision)
        probabilities, onnx_seconds = scored(candidate, pairs)
        same = decide_labels(reference, threshold) == decide_labels(probabilities, threshold)
        results.append(
            {
                "model": f"{scorer.name} {scorer.version}",
                "onnx": name,
                "runtime": candidate.backend.describe(),
                "pairs": len(pairs),
                "same_label": float(same.mean()),
                "same_argmax": float((reference.argmax(1) == probabilities.argmax(1)).mean()),
                "max_probability_diff": float(np.abs(reference - probabilities).max()),
                "seconds": {"torch": seconds, "onnx": onnx_seconds},
            }
        )
        print(json.dumps(results[-1], indent=2))
    for result in results:
        verdict = "met" if result["same_label"] >= FLOOR else "NOT met"
        print(
            f"{result['onnx']} on {result['runtime']['backend']} "
            f"({result['runtime'].get('precision', 'f32')}): same labels on "
            f"{100 * result['same_label']:.2f}% of {len(pairs)} pairs (floor 99%: {verdict})"
        )


def scored(scorer: NLIScorer, pairs: list[tuple[str, str]]) -> tuple[np.ndarray, float]:
    """Calibrated probabilities of ``pairs`` and the seconds they took (a rough figure, not a benchmark)."""
    started = time.perf_counter()
    probabilities = scorer.probabilities(pairs)
    return probabilities, time.perf_counter() - started


if __name__ == "__main__":
    main()
