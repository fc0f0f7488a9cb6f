"""Pairs longer than the model reads: how many each held-out set has, and whether reading more helps.

Not a test: a script that prints one line per set. The model is fine-tuned on pairs of at most
``max_length`` (128) tokens, and the scorer cuts longer pairs to that (the longer text first) and
marks their results ``truncated``. This measures, on every set ``training.evaluate`` reports, how
many pairs that cuts and how many of those the decision rule gets right when the same model reads
them at 128 tokens and at each of ``--lengths`` (its position table allows 512):

    .venv/bin/python bench/long_pairs.py                     # shipped model, torch, 256 and 512
    .venv/bin/python bench/long_pairs.py --backend openvino --lengths 256
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from contradict.scorer import NLIScorer, decide_labels  # noqa: E402
from contradict.settings import default_model  # noqa: E402
from training.evaluate import EVAL_SETS, gold_ids, held_out_sets, pairs_of  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=str(default_model()), help="NLI model folder")
    parser.add_argument("--backend", default="torch", help="scoring backend (torch, onnx, openvino)")
    parser.add_argument("--lengths", default="256,512", help="longer max_length values to compare")
    args = parser.parse_args()

    shipped = NLIScorer(args.model, backend=args.backend)
    lengths = [int(value) for value in args.lengths.split(",")]
    longer = {n: NLIScorer(args.model, backend=args.backend, max_length=n) for n in lengths}
    threshold = shipped.calibration.threshold
    print(f"{shipped.name} {shipped.version}, max_length {shipped.max_length} against {lengths}")
    totals = {"cut": 0, shipped.max_length: 0, **dict.fromkeys(lengths, 0)}
    for name, rows in held_out_sets(EVAL_SETS):
        pairs, gold = pairs_of(rows), gold_ids(rows)
        cut = np.array([item.truncated for item in shipped.encode(pairs)], dtype=bool)
        if not cut.any():
            print(f"{name}: none of {len(pairs)} cut")
            continue
        long_pairs = [pair for pair, was_cut in zip(pairs, cut, strict=True) if was_cut]
        correct = {}
        for n, scorer in [(shipped.max_length, shipped), *longer.items()]:
            decided = decide_labels(scorer.probabilities(long_pairs), threshold)
            correct[n] = int((decided == gold[cut]).sum())
            totals[n] += correct[n]
        totals["cut"] += len(long_pairs)
        shown = " / ".join(str(correct[n]) for n in correct)
        print(
            f"{name}: {len(long_pairs)} of {len(pairs)} cut ({len(long_pairs) / len(pairs):.1%}); "
            f"right at {' / '.join(map(str, correct))} tokens: {shown}",
            flush=True,
        )
    read = (shipped.max_length, *lengths)
    shown = " / ".join(str(totals[n]) for n in read)
    print(f"every cut pair: {totals['cut']}; right at {' / '.join(map(str, read))} tokens: {shown}")


if __name__ == "__main__":
    main()
