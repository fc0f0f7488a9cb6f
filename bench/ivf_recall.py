"""The Ray engine's two candidate searches on real news embeddings: IVF recall and the switch point
(a script, not a test; needs the ``ray`` extra).

    .venv/bin/python bench/ivf_recall.py                        # 2,975 articles, probes 4..32, x1/x2/x4
    .venv/bin/python bench/ivf_recall.py --articles 300 --scales 1 --probes 16      # smoke run

Statements are bench/corpus_speed.py's corpus (real news plus re-reports) through the local reader and
segmenter, embedded by the real bi-encoder (cached under the contradict cache folder). Both searches
are the engine's own stage (``ray_candidates.search_candidates`` on a local Ray with the engine's
settings: 2 CPUs here, its 512 MB object store), timed from the statements dataset to the counted
checkpoint of pairs:

- recall: the share of the true candidate pairs (the local rules, searched flat: exact) that each
  search finds; for IVF at several ``ray_ivf_probe`` values, the cells at their default (4·√n);
- seconds: exact (one task, the local engine's flat search, HNSW from 20k statements) against IVF at
  the default probe, at growing sizes. Past the real corpus's size the statements are scaled up: copy
  ``c`` of every embedding gets Gaussian noise (sigma ``--noise`` per dimension, renormalised) and
  counts as another article with other text. The copies change the neighbourhoods (each statement has
  near twins), so recall is read at scale 1 only and the scaled sizes are for time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.corpus_speed import build_corpus  # noqa: E402
from contradict.corpus.candidates import CandidateOptions, Embedder, find_candidates, text_keys  # noqa: E402
from contradict.corpus.pipeline import CorpusOptions, segmentable  # noqa: E402
from contradict.corpus.reader import read_corpus  # noqa: E402
from contradict.corpus.segment import segment_articles  # noqa: E402
from contradict.settings import RaySettings, Settings  # noqa: E402
from training.fact_verification import cache_dir  # noqa: E402


def real_statements(articles: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(embeddings, article of each statement, text key of each) of the benchmark corpus."""
    options = CorpusOptions()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corpus.jsonl"
        path.write_text("".join(json.dumps(a) + "\n" for a in build_corpus(articles)), encoding="utf-8")
        corpus = read_corpus(path).articles
    statements = segment_articles(segmentable(corpus, options), options.segment)
    texts = [s.text for s in statements]
    embedder = Embedder.from_settings(Settings())
    digest = hashlib.sha256("\n".join([embedder.identity, *texts]).encode("utf-8", "surrogatepass"))
    cache = cache_dir() / "bench" / f"ivf-embeddings-{digest.hexdigest()[:16]}.npy"
    if cache.is_file():
        embeddings = np.load(cache)
    else:
        unique = sorted(set(texts))  # re-reports repeat sentences: embed each text once
        start = time.perf_counter()
        vectors = embedder.encode(unique)
        print(f"embedded {len(unique):,} texts in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        row = {text: number for number, text in enumerate(unique)}
        embeddings = vectors[[row[text] for text in texts]]
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, embeddings)
    groups = np.array([s.article for s in statements], dtype=np.int64)
    return embeddings, groups, text_keys(statements)


def scaled(
    embeddings: np.ndarray, groups: np.ndarray, keys: np.ndarray, scale: int, noise: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``scale`` copies of the statements, each copy after the first moved by noise (see the top)."""
    rng = np.random.default_rng(0)
    parts = [embeddings]
    for _ in range(1, scale):
        moved = embeddings + rng.normal(0.0, noise, embeddings.shape).astype(np.float32)
        parts.append(moved / np.linalg.norm(moved, axis=1, keepdims=True))
    copies = np.repeat(np.arange(scale, dtype=np.int64), len(embeddings))
    span_groups, span_keys = groups.max() + 1, keys.max() + 1
    return (
        np.ascontiguousarray(np.concatenate(parts), dtype=np.float32),
        np.tile(groups, scale) + copies * span_groups,
        np.tile(keys, scale) + copies * span_keys,
    )


def dataset(embeddings: np.ndarray, groups: np.ndarray, keys: np.ndarray):
    """The statements as the engine's search stage sees them (``pos`` = the statement's number)."""
    import pyarrow as pa
    import ray

    flat = pa.array(embeddings.reshape(-1), type=pa.float32())
    table = pa.table(
        {
            "pos": pa.array(np.arange(len(embeddings), dtype=np.int64)),
            "group": pa.array(groups),
            "key": pa.array(keys),
            "embedding": pa.FixedSizeListArray.from_arrays(flat, embeddings.shape[1]),
        }
    )
    blocks = max(2, len(table) // 20_000)
    return ray.data.from_arrow(table).repartition(blocks).materialize()


def engine_search(statements, options: CandidateOptions, ray_settings: RaySettings) -> tuple[set, float]:
    """The engine's search stage, timed: its pairs as a set of ``(a, b)`` and its seconds."""
    from contradict.corpus.ray_candidates import search_candidates

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        pairs, count = search_candidates(statements, options, ray_settings, Path(folder) / "candidates")
        seconds = time.perf_counter() - start
        table = pairs.to_arrow_refs() if pairs is not None else []
        import ray

        found = {
            (a, b)
            for part in ray.get(table)
            for a, b in zip(part["a_pos"].to_pylist(), part["b_pos"].to_pylist(), strict=True)
        }
    assert len(found) == count
    return found, seconds


def truth(embeddings: np.ndarray, groups: np.ndarray, keys: np.ndarray, options: CandidateOptions) -> set:
    """The local rules searched flat (exact) however many statements: the pairs recall is counted on."""
    flat = replace(options, hnsw_min_statements=len(embeddings) + 1)
    found = find_candidates(embeddings, groups, keys, flat)
    return set(zip(found.a.tolist(), found.b.tolist(), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=2975)
    parser.add_argument("--probes", default="4,8,16,32", help="ray_ivf_probe values for recall (scale 1)")
    parser.add_argument("--scales", default="1,2,4", help="copies of the statements for the timings")
    parser.add_argument("--noise", type=float, default=0.02, help="per-dimension sigma of a copy's noise")
    args = parser.parse_args()

    from contradict.ray_support import ray_session

    settings = Settings()
    options = CorpusOptions.from_settings(settings).candidates
    embeddings, groups, keys = real_statements(args.articles)
    n = len(embeddings)
    print(f"{args.articles:,} articles, {n:,} statements (real)", file=sys.stderr)
    exact_settings = settings.ray.model_copy(update={"exact_max_statements": 10**12})
    results: dict = {"date": datetime.now(UTC).isoformat(timespec="minutes"), "statements": n}
    ivf_default = settings.ray.model_copy(update={"exact_max_statements": 2})
    with ray_session(settings.ray, quiet=True):
        statements = dataset(embeddings, groups, keys)
        true = truth(embeddings, groups, keys, options)
        exact, exact_s = engine_search(statements, options, exact_settings)
        recall = {"exact (engine)": round(len(exact & true) / len(true), 4)}
        runs = {1: (exact, exact_s)}  # scale 1: the exact run and the default probe's run are reused
        for probe in (int(p) for p in args.probes.split(",")):
            found, seconds = engine_search(
                statements, options, ivf_default.model_copy(update={"ivf_probe": probe})
            )
            recall[f"ivf probe {probe}"] = round(len(found & true) / len(true), 4)
            print(f"probe {probe}: recall {recall[f'ivf probe {probe}']} in {seconds:.1f} s", file=sys.stderr)
            if probe == ivf_default.ivf_probe:
                runs[1] += (found, seconds)
        results.update(true_pairs=len(true), recall=recall)
        timings = []
        for scale in (int(s) for s in args.scales.split(",")):
            data = scaled(embeddings, groups, keys, scale, args.noise)
            if len(runs.get(scale, ())) < 4:
                statements = dataset(*data)
                runs[scale] = engine_search(statements, options, exact_settings)
                runs[scale] += engine_search(statements, options, ivf_default)
            exact, exact_s, found, ivf_s = runs[scale]
            row = {
                "statements": len(data[0]),
                "exact_s": round(exact_s, 1),
                "ivf_s": round(ivf_s, 1),
                "found_of_exact": round(len(found & exact) / max(1, len(exact)), 4),
            }
            timings.append(row)
            print(f"x{scale}: {row}", file=sys.stderr)
        results["timings"] = timings
    print(json.dumps(results, indent=1))
    print(f"\n| statements | exact s | IVF s (probe {ivf_default.ivf_probe}) | exact's pairs IVF finds |")
    print("|---:|---:|---:|---:|")
    for row in timings:
        share = f"{row['found_of_exact']:.1%}"
        print(f"| {row['statements']:,} | {row['exact_s']} | {row['ivf_s']} | {share} |")


if __name__ == "__main__":
    main()
