"""The Ray engine on one machine against the local engine, same corpus, same model (a script, not a test).

    .venv/bin/python bench/ray_speed.py                                     # shipped model, 300 and 1000
    .venv/bin/python bench/ray_speed.py --sizes 30 --model /path/to/tiny    # smoke run
    .venv/bin/python bench/ray_speed.py --pause-pid "$(cat /work/runs/train.pid)"

Each run is the real command (``contradict corpus ... [--engine ray]``) in a fresh process, timed
from start to exit: Python and model start-up, Ray's start and its actors included, since that is
what a user waits for. The corpus is bench/corpus_speed.py's (real news plus re-reports). Stage
seconds come from the command's own summary line. ``--pause-pid`` SIGSTOPs that process (a training
job) for each run and SIGCONTs it after, whatever happens. Floor: Ray local <= 1.5x the local
engine's wall time at the largest size. The rows of both engines are compared too (same pairs,
scores within 1e-5, same order).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.corpus_speed import build_corpus  # noqa: E402
from contradict.settings import default_model  # noqa: E402

FLOOR = 1.5
STAGES = re.compile(r"(\w+) ([\d.]+)s")


def run_engine(
    engine: str, corpus: Path, out: Path, model: str, pause_pid: int | None, extra: list[str]
) -> dict:
    command = [
        sys.executable,
        "-m",
        "contradict.cli",
        "corpus",
        str(corpus),
        "-o",
        str(out),
        "--model",
        model,
    ]
    command += ["--engine", engine, *extra]
    if pause_pid:
        os.kill(pause_pid, signal.SIGSTOP)
    try:
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
    finally:
        if pause_pid:
            os.kill(pause_pid, signal.SIGCONT)
    if done.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{done.stderr[-3000:]}")
    lines = [
        line
        for line in done.stderr.splitlines()
        if "candidate pair" in line or re.match(r"read [\d.]+s", line)
    ]
    counts = {
        noun: int(n.replace(",", ""))
        for n, noun in re.findall(r"([\d,]+) (article|statement|candidate pair)", lines[0])
    }
    return {
        "engine": engine,
        "wall_s": round(wall, 1),
        "stages": {k: float(v) for k, v in STAGES.findall(lines[1])},
        **counts,
    }


def rows(out: Path) -> list[dict]:
    files = sorted(out.glob("part-*.jsonl")) if out.is_dir() else [out]
    return [json.loads(line) for path in files for line in path.read_text(encoding="utf-8").splitlines()]


def agreement(local: list[dict], ray: list[dict]) -> str:
    """How many ranked rows match: same pair at the same rank, every score within 1e-5."""

    def key(row: dict) -> tuple:
        return (row["a_article"], row["a_start"], row["b_article"], row["b_start"])

    same = sum(
        key(a) == key(b)
        and all(abs(a[f] - b[f]) <= 1e-5 for f in ("contradiction", "entailment", "neutral", "similarity"))
        for a, b in zip(local, ray)
    )
    pairs = len({key(r) for r in local} & {key(r) for r in ray})
    found = f"{pairs}/{len(local)} pairs in both ({len(ray)} Ray rows)"
    return f"{same}/{len(local)} rows identical in place, {found}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=default_model())
    parser.add_argument("--sizes", default="300,1000")
    parser.add_argument("--pause-pid", type=int, default=None)
    parser.add_argument("--top-k", type=int, default=None, help="default: the setting (corpus_top_k)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            corpus = Path(folder) / f"corpus-{size}.jsonl"
            corpus.write_text("".join(json.dumps(a) + "\n" for a in build_corpus(size)), encoding="utf-8")
            local_out, ray_out = Path(folder) / f"local-{size}.jsonl", Path(folder) / f"ray-{size}.jsonl"
            extra = ["--top-k", str(args.top_k)] if args.top_k else []
            local = run_engine("local", corpus, local_out, args.model, args.pause_pid, extra)
            print(f"{size} local: {local}", file=sys.stderr)
            ray = run_engine("ray", corpus, ray_out, args.model, args.pause_pid, extra)
            print(f"{size} ray: {ray}", file=sys.stderr)
            results.append((size, local, ray, agreement(rows(local_out), rows(ray_out))))
    print(json.dumps(results, indent=1))
    print(
        "\n| articles | statements | pairs | engine | "
        + " | ".join(f"{s} s" for s in results[0][2]["stages"])
        + " | wall s |"
    )
    print("|---:|---:|---:|---|" + "---:|" * (len(results[0][2]["stages"]) + 1))
    for size, local, ray, _ in results:
        for run in (local, ray):
            stages = run["stages"]
            if "candidates" in stages:  # the local engine times embed + search as one stage
                cells = [
                    stages.get("read"),
                    stages.get("segment"),
                    f"{stages['candidates']} (embed+search)",
                    "",
                    stages.get("score"),
                    stages.get("report"),
                ]
            else:
                cells = [
                    stages.get(name) for name in ("read", "segment", "embed", "search", "score", "report")
                ]
            print(
                f"| {size} | {run['statement']} | {run['candidate pair']} | {run['engine']} | "
                + " | ".join(str(c) for c in cells)
                + f" | {run['wall_s']} |"
            )
    for size, local, ray, agree in results:
        ratio = ray["wall_s"] / local["wall_s"]
        print(f"\n{size} articles: Ray local / local engine = {ratio:.2f}x; rows: {agree}")
    size, local, ray, _ = results[-1]
    ratio = ray["wall_s"] / local["wall_s"]
    print(f"floor at {size} articles: {ratio:.2f}x <= {FLOOR}x: {'PASS' if ratio <= FLOOR else 'FAIL'}")


if __name__ == "__main__":
    main()
