"""Scored candidate pairs as ranked result rows, shared by the CLI files and the HTTP answer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from contradict.corpus.candidates import Candidates
from contradict.corpus.reader import Article
from contradict.corpus.segment import Statement
from contradict.labels import CONTRADICTION_COLUMN

SCORE_FIELDS = ("contradiction", "entailment", "neutral")
STATEMENT_FIELDS = (
    "article",
    "title",
    "source",
    "url",
    "published",
    "sentence",
    "start",
    "end",
    "paragraph_start",
    "paragraph_end",
    "text",
)
FLAT_COLUMNS = (
    "rank",
    *SCORE_FIELDS,
    "is_contradiction",
    "similarity",
    *(f"a_{name}" for name in STATEMENT_FIELDS),
    *(f"b_{name}" for name in STATEMENT_FIELDS),
)
DIGITS = 6  # printed precision; ranking uses the unrounded values


def statement_record(article: Article, statement: Statement) -> dict:
    return {
        "article": article.id,
        "title": article.title,
        "source": article.source,
        "url": article.url,
        "published": article.published,
        "sentence": statement.sentence,
        "start": statement.start,
        "end": statement.end,
        "paragraph_start": statement.para_start,
        "paragraph_end": statement.para_end,
        "text": statement.text,
    }


def ranking(candidates: Candidates, probabilities: np.ndarray) -> np.ndarray:
    """Order by contradiction, then similarity, then position: total and reproducible."""
    contradiction = probabilities[:, CONTRADICTION_COLUMN]
    return np.lexsort((candidates.b, candidates.a, -candidates.similarity, -contradiction))


def ranked_rows(
    articles: Sequence[Article],
    statements: Sequence[Statement],
    candidates: Candidates,
    probabilities: np.ndarray,
    threshold: float,
) -> list[dict]:
    """One row per scored pair, best contradiction first, ``rank`` starting at 1."""
    rows = []
    for rank, i in enumerate(ranking(candidates, probabilities), start=1):
        first, second = statements[candidates.a[i]], statements[candidates.b[i]]
        a = statement_record(articles[first.article], first)
        b = statement_record(articles[second.article], second)
        rows.append(pair_row(rank, probabilities[i], float(candidates.similarity[i]), a, b, threshold))
    return rows


def pair_row(
    rank: int, probs: Sequence[float], similarity: float, a: dict, b: dict, threshold: float
) -> dict:
    """The row of one scored pair; also what the Ray engine builds per pair before its global sort."""
    return {
        "rank": rank,
        **{name: round(float(p), DIGITS) for name, p in zip(SCORE_FIELDS, probs, strict=True)},
        "is_contradiction": bool(probs[CONTRADICTION_COLUMN] >= threshold),
        "similarity": round(float(similarity), DIGITS),
        "a": a,
        "b": b,
    }


def flat_row(row: dict) -> dict:
    """The nested row with ``a_``/``b_`` prefixed columns, for CSV and JSONL files."""
    flat = {key: value for key, value in row.items() if key not in ("a", "b")}
    for side in ("a", "b"):
        flat.update({f"{side}_{name}": value for name, value in row[side].items()})
    return {column: flat[column] for column in FLAT_COLUMNS}
