"""Retrieval and end-to-end quality of the corpus scan on VitaminC (a script, not a test).

    .venv/bin/python bench/corpus_eval.py                                   # shipped model
    .venv/bin/python bench/corpus_eval.py --model /path/tiny --max-claims 150   # smoke run

VitaminC pairs each claim with Wikipedia evidence sentences before and after a revision: one
supports the claim, the other refutes it, so those two evidence texts contradict each other. Every
distinct evidence text becomes its own article and the scan runs over all of them at once, so a
known pair must be found among every other page's sentences.

1. Sweep ``top_k`` x ``min_similarity`` on validation pages: recall of the known contradicting
   article pairs among the candidates, and candidates per statement (the scoring cost).
2. Choose the setting with the best recall within the ``--budget`` of candidates per statement.
3. On test pages, with the chosen setting: candidate recall, then the NLI scores: precision and
   recall at the model's threshold and at the top-N ranked pairs. Only known pairs count as right
   (pairs of unrelated pages may truly contradict too, so precision is a lower bound); the
   share of known pairs among all candidates is printed as the baseline a random ranking gets.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from contradict.corpus.candidates import Embedder, find_candidates, text_keys  # noqa: E402
from contradict.corpus.pipeline import CorpusOptions, statement_pairs  # noqa: E402
from contradict.corpus.reader import Article  # noqa: E402
from contradict.corpus.segment import segment_articles  # noqa: E402
from contradict.labels import CONTRADICTION_COLUMN  # noqa: E402
from contradict.settings import Settings, default_model  # noqa: E402

VITAMINC_TASK = "vitaminc_fact_verification"
SUPPORTS, REFUTES = "entailment", "contradiction"


@dataclass
class EvalCorpus:
    articles: list[Article]
    positives: set[tuple[int, int]]  # article pairs known to contradict


def build(rows: list[dict], max_claims: int | None) -> EvalCorpus:
    """Articles = distinct evidence texts; known pairs from claims with both labels."""
    by_claim: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if row["label"] in (SUPPORTS, REFUTES):
            by_claim[row["hypothesis"]].append(row)
    claims = sorted(by_claim)
    if max_claims:
        claims = claims[:max_claims]
    index: dict[str, int] = {}
    positives = set()
    for claim in claims:
        evidence = [(index.setdefault(row["premise"], len(index)), row["label"]) for row in by_claim[claim]]
        for (a, label_a), (b, label_b) in itertools.combinations(evidence, 2):
            if a == b:
                continue
            if label_a != label_b:
                positives.add((min(a, b), max(a, b)))
    articles = [Article(id=f"evidence-{i}", text=text) for text, i in index.items()]
    return EvalCorpus(articles, positives)


@dataclass
class Prepared:
    corpus: EvalCorpus
    statements: list
    embeddings: np.ndarray
    groups: np.ndarray
    keys: np.ndarray


def prepare(corpus: EvalCorpus, options: CorpusOptions, embedder: Embedder) -> Prepared:
    statements = segment_articles(corpus.articles, options.segment)
    embeddings = embedder.encode([s.text for s in statements])
    groups = np.array([s.article for s in statements], dtype=np.int64)
    return Prepared(corpus, statements, embeddings, groups, text_keys(statements))


def article_pairs(prepared: Prepared, candidates) -> list[tuple[int, int]]:
    groups = prepared.groups
    return [
        (min(groups[a], groups[b]), max(groups[a], groups[b]))
        for a, b in zip(candidates.a, candidates.b, strict=True)
    ]


def sweep(prepared: Prepared, options: CorpusOptions, top_ks, similarities) -> list[dict]:
    results = []
    for top_k, min_similarity in itertools.product(top_ks, similarities):
        setting = replace(options.candidates, top_k=top_k, min_similarity=min_similarity)
        found = find_candidates(prepared.embeddings, prepared.groups, prepared.keys, setting)
        pairs = set(article_pairs(prepared, found))
        results.append(
            {
                "top_k": top_k,
                "min_similarity": min_similarity,
                "candidates": len(found),
                "per_statement": len(found) / max(1, len(prepared.statements)),
                "recall": len(pairs & prepared.corpus.positives) / max(1, len(prepared.corpus.positives)),
            }
        )
    return results


def choose(results: list[dict], budget: float) -> dict:
    """Best recall within the cost budget; on a tie, the cheaper setting."""
    affordable = [r for r in results if r["per_statement"] <= budget] or results
    return max(affordable, key=lambda r: (round(r["recall"], 3), -r["candidates"]))


def end_to_end(prepared: Prepared, options: CorpusOptions, scorer, top_ns) -> dict:
    found = find_candidates(prepared.embeddings, prepared.groups, prepared.keys, options.candidates)
    started = time.perf_counter()
    probabilities = scorer.probabilities(statement_pairs(prepared.statements, found), symmetric=True)
    seconds = time.perf_counter() - started
    # An article pair's score is its most contradicting statement pair.
    best: dict[tuple[int, int], float] = {}
    contradiction = probabilities[:, CONTRADICTION_COLUMN]
    for pair, score in zip(article_pairs(prepared, found), contradiction, strict=True):
        best[pair] = max(best.get(pair, 0.0), float(score))
    ranked = sorted(best, key=lambda p: (-best[p], p))
    positives = prepared.corpus.positives

    def quality(selected: list[tuple[int, int]]) -> dict:
        hits = sum(p in positives for p in selected)
        return {
            "pairs": len(selected),
            "precision": hits / max(1, len(selected)),
            "recall": hits / max(1, len(positives)),
        }

    threshold = scorer.calibration.threshold
    return {
        "articles": len(prepared.corpus.articles),
        "statements": len(prepared.statements),
        "known_contradicting_pairs": len(positives),
        "candidates": len(found),
        "candidate_recall": len(set(ranked) & positives) / max(1, len(positives)),
        "score_seconds": round(seconds, 1),
        "threshold": threshold,
        "baseline_precision": quality(ranked)["precision"],
        "at_threshold": quality([p for p in ranked if best[p] >= threshold]),
        "top_n": {n: quality(ranked[:n]) for n in top_ns},
    }


def print_sweep(results: list[dict], chosen: dict) -> None:
    print("| top_k | min_similarity | candidates | per statement | recall of known pairs |")
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        mark = " **chosen**" if r is chosen else ""
        print(
            f"| {r['top_k']} | {r['min_similarity']:.2f} | {r['candidates']} | {r['per_statement']:.2f} "
            f"| {r['recall']:.3f}{mark} |"
        )


def print_end_to_end(result: dict) -> None:
    print(
        f"\ntest pages: {result['articles']} articles, {result['statements']} statements, "
        f"{result['known_contradicting_pairs']} known contradicting pairs, "
        f"{result['candidates']} candidates, "
        f"candidate recall {result['candidate_recall']:.3f}, scoring {result['score_seconds']} s\n"
    )
    print(f"baseline precision (all candidates, unranked): {result['baseline_precision']:.3f}\n")
    print("| selection | pairs | precision | recall |")
    print("|---|---:|---:|---:|")
    rows = [(f"contradiction >= {result['threshold']:.3f}", result["at_threshold"])]
    rows += [(f"top {n}", q) for n, q in result["top_n"].items()]
    for name, q in rows:
        print(f"| {name} | {q['pairs']} | {q['precision']:.3f} | {q['recall']:.3f} |")


def floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=default_model(), help="NLI model folder")
    parser.add_argument("--max-claims", type=int, default=None, help="claims per split (smoke runs)")
    parser.add_argument("--top-k", default="1,2,3,5,10", help="sweep values")
    parser.add_argument("--min-similarity", default="0.3,0.4,0.5,0.6,0.7", help="sweep values")
    parser.add_argument("--budget", type=float, default=3.0, help="max candidate pairs per statement")
    parser.add_argument("--top-n", default="50,200,1000", help="ranked pairs to judge")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()

    from contradict.scorer import NLIScorer
    from training.fact_verification import bigbench_task_file, iter_task_examples, parse_examples

    settings = Settings(model=args.model)
    options = CorpusOptions.from_settings(settings)
    splits = parse_examples(iter_task_examples(bigbench_task_file(VITAMINC_TASK)))
    embedder = Embedder.from_settings(settings)

    validation = prepare(build(splits["validation"], args.max_claims), options, embedder)
    print(
        f"validation pages: {len(validation.corpus.articles)} articles, "
        f"{len(validation.statements)} statements, "
        f"{len(validation.corpus.positives)} known contradicting pairs\n"
    )
    results = sweep(validation, options, [int(v) for v in args.top_k.split(",")], floats(args.min_similarity))
    chosen = choose(results, args.budget)
    print_sweep(results, chosen)
    print(
        f"\nchosen: top_k={chosen['top_k']} min_similarity={chosen['min_similarity']} "
        f"(budget {args.budget} candidates/statement)"
    )

    options = replace(
        options,
        candidates=replace(
            options.candidates, top_k=chosen["top_k"], min_similarity=chosen["min_similarity"]
        ),
    )
    test = prepare(build(splits["test"], args.max_claims), options, embedder)
    scorer = NLIScorer.from_settings(settings)
    result = end_to_end(test, options, scorer, [int(v) for v in args.top_n.split(",")])
    print_end_to_end(result)
    if args.json:
        args.json.write_text(
            json.dumps({"sweep": results, "chosen": chosen, "test": result}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
