"""How to pool a claim's window scores into a document's stance: the comparison behind
:mod:`contradict.claims` (its pool and its default window), on the news stance sets of
``training.evaluate.CLAIM_SETS`` (agree/disagree pairs, claim vs the whole article).

For each window size, every claim is scored against every window of its article once, through the
scoring core; each pool then turns the window probabilities into one score per pair, and the table
gives its AUROC for disagree against agree. Choose on the validation sets; the test set is shown so
the choice can be checked, not made, on it. ``--directions`` reads each pair other ways than the
shipped one (window as premise, claim as hypothesis): ``backward`` (claim as premise),
``symmetric`` (per window the direction with the higher P(C), as the service's ``symmetric``), and
``c-either`` (P(C) of the more contradicting direction, P(E) forward: contradiction is symmetric,
"the window entails the claim" is not).

    python bench/claim_pools.py --model models/contradict-minilm-l6-nli --windows 1,2,3
    python bench/claim_pools.py --windows 2 --directions forward,backward,symmetric,c-either
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contradict.claims import claim_pairs, document_windows, pool  # noqa: E402
from contradict.corpus.candidates import Embedder  # noqa: E402
from contradict.corpus.reader import Article  # noqa: E402
from contradict.labels import CONTRADICTION_COLUMN as C  # noqa: E402
from contradict.labels import ENTAILMENT_COLUMN as E  # noqa: E402
from contradict.scorer import NLIScorer, combine_directions  # noqa: E402
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


def read_directions(forward: np.ndarray, backward: np.ndarray | None, directions: str) -> np.ndarray:
    """The window probabilities as ``directions`` reads them (module docstring)."""
    if directions == "forward":
        return forward
    if backward is None:
        raise ValueError(f"directions {directions!r} needs the backward scores")
    if directions == "backward":
        return backward
    if directions == "symmetric":
        return combine_directions(forward, backward)
    if directions == "c-either":
        rows = forward.copy()
        rows[:, C] = np.maximum(forward[:, C], backward[:, C])
        return rows
    raise ValueError(f"unknown directions {directions!r}")


DIRECTIONS = ("forward", "backward", "symmetric", "c-either")


def pooled_scores(
    scorer: NLIScorer, embedder: Embedder, name: str, window: int, directions: Sequence[str] = ("forward",)
) -> dict[str, dict[str, float]]:
    """AUROC per reading in ``directions`` and per pool."""
    pairs, texts = stance_documents(name)
    windows = {key: document_windows(Article(id=key, text=text), window) for key, text in texts.items()}
    checks = [(pair.claim, windows[pair.body_id]) for pair in pairs]
    scored = claim_pairs(checks)
    forward = scorer.probabilities(scored)
    backward = None
    if set(directions) != {"forward"}:
        backward = scorer.probabilities([(claim, window) for window, claim in scored])
    window_vectors = embedder.encode([w.text for _, ws in checks for w in ws])
    claim_vectors = embedder.encode([claim for claim, _ in checks])
    # Per check, the slice of its windows' rows and their similarities to its claim.
    spans, similarities, start = [], [], 0
    for (_, ws), claim_vector in zip(checks, claim_vectors, strict=True):
        spans.append(slice(start, start + len(ws)))
        similarities.append(window_vectors[spans[-1]] @ claim_vector)
        start += len(ws)
    disagree = np.array([pair.stance == "disagree" for pair in pairs])
    aurocs = {}
    for reading in directions:
        probabilities = read_directions(forward, backward, reading)
        aurocs[reading] = {
            key: binary_auroc(
                np.array(
                    [
                        score(probabilities[span], similarity) if span.stop > span.start else 0.5
                        for span, similarity in zip(spans, similarities, strict=True)
                    ]
                ),
                disagree,
            )
            for key, score in POOLS.items()
        }
    return aurocs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="models/contradict-minilm-l6-nli")
    parser.add_argument("--windows", default="1,2,3", help="statements per window, comma-separated")
    parser.add_argument(
        "--directions", default="forward", help=f"readings, comma-separated, of: {', '.join(DIRECTIONS)}"
    )
    args = parser.parse_args()
    directions = args.directions.split(",")
    unknown = sorted(set(directions) - set(DIRECTIONS))
    if unknown:
        parser.error(f"--directions: unknown {', '.join(unknown)} (known: {', '.join(DIRECTIONS)})")
    scorer = NLIScorer(args.model)
    embedder = Embedder(backend="torch")
    print(f"model {scorer.name} {scorer.version}, runtime {scorer.backend.describe()}")
    for window in (int(value) for value in args.windows.split(",")):
        table = {name: pooled_scores(scorer, embedder, name, window, directions) for name in CLAIM_SETS}
        for reading in directions:
            print(f"\nwindow {window}, {reading}: C-vs-E AUROC\n\n| pool | " + " | ".join(CLAIM_SETS) + " |")
            print("|---|" + "---:|" * len(CLAIM_SETS))
            for key in POOLS:
                cells = " | ".join(f"{table[name][reading][key]:.3f}" for name in CLAIM_SETS)
                print(f"| {key} | {cells} |")


if __name__ == "__main__":
    main()
