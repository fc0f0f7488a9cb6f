"""A tiny news corpus about one event, reported differently, for the corpus tests."""

from __future__ import annotations

import json
from pathlib import Path

from contradict.corpus.candidates import CandidateOptions
from contradict.corpus.pipeline import CorpusOptions, CorpusRun

ARTICLES = [
    {
        "id": "herald-1",
        "title": "Bridge collapse: twelve dead",
        "source": "The Herald",
        "url": "https://herald.example/bridge",
        "published": "2026-11-02",
        "text": (
            "The Elm Street bridge collapsed on Monday morning during rush hour.\n\n"
            "Officials said twelve people were killed when the bridge collapsed. "
            "The mayor called the collapse a tragedy & promised an inquiry.\n\n"
            "Engineers had inspected the bridge last spring and found no serious faults."
        ),
    },
    {
        "id": "courier-7",
        "title": "No deaths as <b>bridge</b> falls",
        "source": "Daily Courier",
        "url": "javascript:alert(1)",
        "text": (
            "The Elm Street bridge collapsed on Tuesday evening after a heavy storm.\n\n"
            "Officials said nobody was killed when the bridge collapsed. "
            "Rescue teams <script>alert('x')</script> searched the river through the night.\n\n"
            "The bridge had never been inspected since it opened in 1962, engineers said."
        ),
    },
    {
        "id": "gazette-3",
        "title": "City mourns",
        "text": (
            "Twelve people died when the Elm Street bridge collapsed on Monday. "
            "The mayor said the bridge had been inspected last spring. Short bit."
        ),
    },
]


def write_jsonl(path: Path, records: list[dict] | None = None) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in (records or ARTICLES)), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# Threshold 0 marks every candidate a contradiction (the tiny random model scores about 1/3); shards of
# three pairs give a resume something to resume.
SMALL_OPTIONS = CorpusOptions(
    candidates=CandidateOptions(top_k=3, min_similarity=0.3), threshold=0.0, shard_pairs=3
)


def run_corpus(corpus_file: Path, out: Path, scorer, embedder, options=SMALL_OPTIONS, **kwargs):
    """One scan of ``corpus_file`` into ``out`` with CSV and HTML beside it (``out`` with their suffixes)."""
    return CorpusRun(
        corpus_file,
        out,
        scorer=scorer,
        embedder=embedder,
        options=options,
        csv_path=out.with_suffix(".csv"),
        report_path=out.with_suffix(".html"),
        **kwargs,
    ).run()
