"""Speed and memory of the corpus scan at growing corpus sizes (a script, not a test).

    .venv/bin/python bench/corpus_speed.py                          # shipped model, 100/300/1000/2975
    .venv/bin/python bench/corpus_speed.py --sizes 30,60 --model /path/to/tiny-model   # smoke run
    .venv/bin/python bench/corpus_speed.py --sizes 1000 --backends torch,onnx   # scoring backends
    .venv/bin/python bench/corpus_speed.py --sizes 300 --backends openvino --embedders torch,openvino

With several ``--backends`` (``CONTRADICT_BACKEND`` of each child) or ``--embedders``
(``CONTRADICT_CORPUS_EMBEDDER_BACKEND``) every size runs once per combination, and the table gains
each one's end-to-end speed-up over the first on the same corpus, with a check that both scored the
same candidate pairs and how many labels differ.

Articles are real news: the sources of BIG-bench ``factuality_of_summary`` (CNN/DM and XSum), the
summaries written for them (as short "other outlet" reports), and ../shared/examples/*.txt. Past
the pool's size, extra articles are re-reports: a random window of a pool article's sentences, as
syndicated copy is. Each size runs in its own process (its own peak RSS), models loaded and warmed
before the clock starts. Floor: the per-article cost at 1000 articles is at most 1.5x that at 100
(the scan must grow about linearly, not quadratically).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.machine import describe_cpu  # noqa: E402
from contradict.settings import default_model  # noqa: E402

EXAMPLES_DIR = REPO.parent / "shared" / "examples"
SUMMARY_TASK = "factuality_of_summary"
FLOOR = 1.5
ARTICLES_PER_EVENT = 5  # source, summaries, 3 re-reports: 595 events give 2,975 articles
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _summary_rows(name: str) -> list[dict]:
    from training.fact_verification import bigbench_task_file

    path = bigbench_task_file(SUMMARY_TASK, f"{name}.json")
    # One JSON object per line after a canary comment header.
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("{")
    ]


def _candidates(row: dict) -> list[str]:
    value = row.get("list_candidates") or []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = ast.literal_eval(value)
    return [str(v) for v in value]


def _events() -> list[list[dict]]:
    """Each news event: its source article, then one article made of its summaries."""
    events = []
    for name in ("cnn_dm", "xsum"):
        for row in _summary_rows(name):
            base = f"{name}/{row['idx']}"
            event = [{"id": base, "text": row["source"], "source": name}]
            summaries = [row.get("true_cnd", "")] + _candidates(row)
            text = "\n\n".join(s.strip() for s in summaries if s.strip())
            if text:
                event.append({"id": f"{base}/summaries", "text": text, "source": f"{name}-summaries"})
            events.append(event)
    for path in sorted(EXAMPLES_DIR.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        events.append([{"id": f"examples/{path.name}", "text": text, "source": "example"}])
    return events


def _rereport(article: dict, number: int, rng: random.Random) -> dict:
    sentences = SENTENCE_END.split(article["text"])
    length = max(1, int(len(sentences) * rng.uniform(0.6, 0.9)))
    start = rng.randrange(0, len(sentences) - length + 1)
    text = " ".join(sentences[start : start + length])
    return {"id": f"{article['id']}/rereport-{number}", "text": text, "source": "re-report"}


def build_corpus(size: int, seed: int = 0) -> list[dict]:
    """The first ``size`` articles of shuffled events, each event ``ARTICLES_PER_EVENT`` articles.

    Whole events (not single articles) are sampled so that the share of articles about the same
    event, and so the candidate pairs per statement, stays the same at every size.
    """
    rng = random.Random(seed)
    events = _events()
    rng.shuffle(events)
    corpus: list[dict] = []
    for event in events:
        articles = list(event)
        for number in range(ARTICLES_PER_EVENT - len(event)):
            articles.append(_rereport(event[0], number, rng))
        corpus.extend(articles)
        if len(corpus) >= size:
            return corpus[:size]
    raise SystemExit(f"at most {len(corpus)} articles can be built; asked for {size}")


# -- one size, in a child process ---------------------------------------------------------------------


def measure(size: int, model: str, top_k: int | None, min_similarity: float | None) -> dict:
    from contradict.corpus.candidates import Embedder
    from contradict.corpus.pipeline import CorpusOptions, CorpusRun
    from contradict.scorer import NLIScorer
    from contradict.settings import Settings

    settings = Settings(model=model)
    options = CorpusOptions.from_settings(settings, top_k=top_k, min_similarity=min_similarity)
    scorer = NLIScorer.from_settings(settings)
    embedder = Embedder.from_settings(settings)
    embedder.encode(["Warm-up sentence for the bi-encoder."])
    scorer.probabilities([("The museum opens at nine.", "The museum is closed all morning.")])
    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corpus.jsonl"
        path.write_text("".join(json.dumps(a) + "\n" for a in build_corpus(size)), encoding="utf-8")
        result = CorpusRun(
            path, Path(folder) / "out.jsonl", scorer=scorer, embedder=embedder, options=options
        ).run()
    summary = result.summary
    keys = {
        f"{row['a']['article']}#{row['a']['sentence']}|{row['b']['article']}#{row['b']['sentence']}": row
        for row in result.rows
    }
    return {
        "backend": f"{scorer.backend.name}, embedder {embedder.backend}",
        "contradiction_keys": sorted(key for key, row in keys.items() if row["is_contradiction"]),
        "pair_keys": sorted(keys),
        "articles": size,
        "statements": summary["statements"],
        "candidates": summary["candidates"],
        "seconds": summary["seconds"],
        "total_s": round(sum(summary["seconds"].values()), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "models_rss_mb": round(baseline_rss / 1024),
    }


def run_child(size: int, args, backend: str | None = None, embedder: str | None = None) -> dict:
    command = [sys.executable, __file__, "--child", str(size), "--model", args.model]
    env = dict(os.environ)
    if backend:
        env["CONTRADICT_BACKEND"] = backend
    if embedder:
        env["CONTRADICT_CORPUS_EMBEDDER_BACKEND"] = embedder
    if args.top_k:
        command += ["--top-k", str(args.top_k)]
    if args.min_similarity is not None:
        command += ["--min-similarity", str(args.min_similarity)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"size {size} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare_backends(results: list[dict]) -> None:
    """Each backend against the first on the same corpus: speed-up, same pairs, flagged pairs."""
    first = results[0]["backend"]
    for r in results:
        base = next(b for b in results if b["articles"] == r["articles"] and b["backend"] == first)
        if r is base:
            continue
        only_one = set(base["contradiction_keys"]) ^ set(r["contradiction_keys"])
        pairs_only_one = len(set(base["pair_keys"]) ^ set(r["pair_keys"]))
        speedup = base["total_s"] / r["total_s"]
        print(
            f"{r['articles']} articles: {r['backend']} {speedup:.2f}x {first} end to end "
            f"(scoring {base['seconds']['score'] / r['seconds']['score']:.2f}x); candidate pairs "
            f"{'the same' if not pairs_only_one else f'DIFFER: {pairs_only_one} in only one'} "
            f"({r['candidates']} vs {base['candidates']}); "
            f"flagged {len(r['contradiction_keys'])} vs {len(base['contradiction_keys'])}, "
            f"{len(only_one)} pairs flagged by only one"
        )


def report(results: list[dict]) -> None:
    stages = list(results[0]["seconds"])
    columns = ["backend", "articles", "statements", "pairs", *(f"{s} s" for s in stages)]
    columns += ["total s", "ms/article", "ms/statement", "peak RSS MB"]
    print(f"CPU: {describe_cpu()}\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---:|" * len(columns))
    for r in results:
        per_article = 1000 * r["total_s"] / r["articles"]
        per_statement = 1000 * r["total_s"] / max(1, r["statements"])
        cells = [r["backend"], r["articles"], r["statements"], r["candidates"]]
        cells += [f"{r['seconds'][s]:.2f}" for s in stages]
        cells += [f"{r['total_s']:.2f}", f"{per_article:.1f}", f"{per_statement:.2f}", r["peak_rss_mb"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    if len({r["backend"] for r in results}) > 1:
        compare_backends(results)
    results = [r for r in results if r["backend"] == results[0]["backend"]]
    by_size = {r["articles"]: r for r in results}
    small, large = (
        (100, 1000) if {100, 1000} <= set(by_size) else (results[0]["articles"], results[-1]["articles"])
    )
    ratio = (by_size[large]["total_s"] / large) / (by_size[small]["total_s"] / small)
    verdict = "PASS" if ratio <= FLOOR else "FAIL"
    print(f"\nper-article cost at {large} / at {small}: {ratio:.2f}x (floor <= {FLOOR}x): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=default_model())
    parser.add_argument("--sizes", default="100,300,1000,2975")
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--min-similarity", type=float, default=None)
    parser.add_argument("--backends", default="", help="comma-separated CONTRADICT_BACKEND values")
    parser.add_argument(
        "--embedders", default="", help="comma-separated CONTRADICT_CORPUS_EMBEDDER_BACKEND values"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.model, args.top_k, args.min_similarity)))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        for backend in args.backends.split(",") if args.backends else [None]:
            for embedder in args.embedders.split(",") if args.embedders else [None]:
                results.append(run_child(size, args, backend, embedder))
            print(f"{size} articles, {results[-1]['backend']}: {results[-1]['total_s']} s", file=sys.stderr)
    report(results)


if __name__ == "__main__":
    main()
