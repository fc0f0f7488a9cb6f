"""How to pool a claim's window scores into a document's stance: the comparison behind
:mod:`contradict.claims` (its pool and its default window), on the news stance sets of
``training.evaluate.CLAIM_SETS`` (agree/disagree pairs, claim vs the whole article).

For each window size, every claim is scored against every window of its article once, through the
scoring core; each pool then turns the window probabilities into one score per pair, and the table
gives its AUROC for disagree against agree. Choose on the validation sets; the test set is shown so
the choice can be checked, not made, on it.

    python bench/claim_pools.py --model models/contradict-minilm-l6-nli --windows 1,2,3
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contradict.claims import claim_pairs, document_windows, pool  # noqa: E402
from contradict.corpus.candidates import Embedder  # noqa: E402
from contradict.corpus.reader import Article  # noqa: E402
from contradict.labels import CONTRADICTION_COLUMN as C  # noqa: E402
from contradict.labels import ENTAILMENT_COLUMN as E  # noqa: E402
from contradict.scorer import NLIScorer  # noqa: E402
from training.evaluate import CLAIM_SETS  # noqa: E402
from training.metrics import binary_auroc  # noqa: E402
from training.nli_sources import stance_documents  # noqa: E402

Pool = Callable[[np.ndarray, np.ndarray], float]  # (window probabilities, claim-window similarity)


def _top_by_similarity(count: int) -> Pool:
    def score(rows: np.ndarray, similarity: np.ndarray) -> float:
        top = rows[np.argsort(-similarity)[:count]]
        return float((top[:, C] / (top[:, C] + top[:, E])).mean())

    return score


POOLS: dict[str, Pool] = {
    "max P(C)": lambda rows, _: float(rows[:, C].max()),
    "mean P(C)": lambda rows, _: float(rows[:, C].mean()),
    "max P(C) - max P(E)": lambda rows, _: float(rows[:, C].max() - rows[:, E].max()),
    "mean P(C) - P(E)": lambda rows, _: float((rows[:, C] - rows[:, E]).mean()),
    "mean P(C) / (P(C) + P(E))": lambda rows, _: float((rows[:, C] / (rows[:, C] + rows[:, E])).mean()),
    "most similar window, P(C) / (P(C) + P(E))": _top_by_similarity(1),
    "3 most similar windows, mean P(C) / (P(C) + P(E))": _top_by_similarity(3),
    "sum P(C) / (sum P(C) + sum P(E)) (shipped)": lambda rows, _: pool(rows)[0],
}


def pooled_scores(scorer: NLIScorer, embedder: Embedder, name: str, window: int) -> dict[str, float]:
    pairs, texts = stance_documents(name)
    windows = {key: document_windows(Article(id=key, text=text), window) for key, text in texts.items()}
    checks = [(pair.claim, windows[pair.body_id]) for pair in pairs]
    probabilities = scorer.probabilities(claim_pairs(checks))
    window_vectors = embedder.encode([w.text for _, ws in checks for w in ws])
    claim_vectors = embedder.encode([claim for claim, _ in checks])
    disagree = np.array([pair.stance == "disagree" for pair in pairs])
    scores: dict[str, list[float]] = {key: [] for key in POOLS}
    start = 0
    for (_, ws), claim_vector in zip(checks, claim_vectors, strict=True):
        stop = start + len(ws)
        for key, score in POOLS.items():
            scores[key].append(
                score(probabilities[start:stop], window_vectors[start:stop] @ claim_vector) if ws else 0.5
            )
        start = stop
    return {key: binary_auroc(np.array(values), disagree) for key, values in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="models/contradict-minilm-l6-nli")
    parser.add_argument("--windows", default="1,2,3", help="statements per window, comma-separated")
    args = parser.parse_args()
    scorer = NLIScorer(args.model)
    embedder = Embedder(backend="torch")
    print(f"model {scorer.name} {scorer.version}, runtime {scorer.backend.describe()}")
    for window in (int(value) for value in args.windows.split(",")):
        table = {name: pooled_scores(scorer, embedder, name, window) for name in CLAIM_SETS}
        print(f"\nwindow {window}: C-vs-E AUROC\n\n| pool | " + " | ".join(CLAIM_SETS) + " |")
        print("|---|" + "---:|" * len(CLAIM_SETS))
        for key in POOLS:
            print(f"| {key} | " + " | ".join(f"{table[name][key]:.3f}" for name in CLAIM_SETS) + " |")


if __name__ == "__main__":
    main()
