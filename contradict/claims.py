"""Check a claim against whole documents: does this article contradict it, support it, or neither?

A fact-checker's question is rarely "do these two sentences contradict": it is "what does this
article say about the claim". The cross-encoder reads two short texts, and an article's evidence is
spread over sentences the claim does not name, so a document is cut into *windows* of ``size``
consecutive statements (the corpus scan's segmenter), the claim is scored against every window
(window as premise, claim as hypothesis: the direction the news stance data trains), and the
windows' probabilities are pooled into the document's stance (:func:`pool`):

- ``contradiction_share``: the sum of P(contradiction) over the windows divided by the sum of
  P(contradiction) + P(entailment). Of the evidence that bears on the claim either way, the share
  that contradicts it. Windows that do not bear on the claim (neutral, most of a long article)
  weigh almost nothing, so a long article is not diluted and one stray sentence does not decide.
- ``bearing``: the mean over windows of P(contradiction) + P(entailment): how much of the document
  speaks to the claim at all. An unrelated document has a share (of almost nothing) but no bearing.

Why this pool: chosen on held-out ARC and FNC-1 *validation* bodies against the maximum, the mean,
similarity-weighted and top-k pools and one- to three-sentence windows (docs/model.md, "Claim vs
document").

The flow is the corpus scan's: build windows and pairs (:func:`claim_pairs`), score them with any
scorer (the in-process core, or the service's batcher), pool per document (:func:`stances`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from contradict.corpus.reader import Article, statement_view
from contradict.corpus.segment import Segmenter
from contradict.labels import CONTRADICTION_COLUMN, ENTAILMENT_COLUMN, LABELS, NEUTRAL_COLUMN

DEFAULT_WINDOW = 2  # statements per window (chosen on validation: docs/model.md, "Claim vs document")
MAX_WINDOW = 5  # statements per window a caller may ask for: more is past the 128 tokens the model reads


@dataclass(frozen=True)
class Window:
    """``size`` consecutive statements of one document: ``text`` is what the model reads (the
    statements joined by a space); ``start``/``end`` are character offsets of the whole span in the
    document, so ``document.text[start:end]`` is the passage as published."""

    start: int
    end: int
    text: str


def document_windows(
    document: Article, size: int = DEFAULT_WINDOW, segmenter: Segmenter | None = None
) -> list[Window]:
    """Every run of ``size`` consecutive statements (one window of all of them when there are fewer).

    A headline marked on the article (``headline_end``) is context, not a statement, as in the corpus
    scan. A document with no statement the segmenter keeps (only fragments) has no window.
    ``segmenter`` defaults to the built-in statement rules; the CLI and the service pass one built
    from the ``corpus_*`` settings.
    """
    if size < 1:
        raise ValueError(f"window size must be at least 1, got {size}")
    statements = (segmenter or Segmenter()).segment(0, statement_view(document))
    if not statements:
        return []
    runs = [statements[i : i + size] for i in range(max(1, len(statements) - size + 1))]
    return [Window(run[0].start, run[-1].end, " ".join(s.text for s in run)) for run in runs]


@dataclass(frozen=True)
class Evidence:
    """One window with its calibrated probabilities against the claim."""

    start: int
    end: int
    text: str
    contradiction: float
    entailment: float
    neutral: float


@dataclass(frozen=True)
class ClaimStance:
    """A document's stance toward a claim, pooled over its windows (module docstring)."""

    contradiction_share: float
    bearing: float
    windows: int
    most_contradicting: Evidence
    most_entailing: Evidence

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pool(probabilities: np.ndarray) -> tuple[float, float]:
    """(contradiction_share, bearing) of one document's window probabilities (``LABELS`` columns)."""
    contradiction = float(probabilities[:, CONTRADICTION_COLUMN].sum())
    entailment = float(probabilities[:, ENTAILMENT_COLUMN].sum())
    either = contradiction + entailment
    share = contradiction / either if either > 0 else 0.5
    return share, either / len(probabilities)


def _evidence(window: Window, row: np.ndarray) -> Evidence:
    return Evidence(
        window.start,
        window.end,
        window.text,
        float(row[CONTRADICTION_COLUMN]),
        float(row[ENTAILMENT_COLUMN]),
        float(row[NEUTRAL_COLUMN]),
    )


def stance_of(windows: Sequence[Window], probabilities: np.ndarray) -> ClaimStance:
    """The stance of one document from its windows' probabilities (one row per window)."""
    if len(windows) == 0 or len(windows) != len(probabilities):
        raise ValueError(f"{len(windows)} windows but {len(probabilities)} rows of probabilities")
    share, bearing = pool(probabilities)
    contradicting = int(probabilities[:, CONTRADICTION_COLUMN].argmax())
    entailing = int(probabilities[:, ENTAILMENT_COLUMN].argmax())
    return ClaimStance(
        contradiction_share=share,
        bearing=bearing,
        windows=len(windows),
        most_contradicting=_evidence(windows[contradicting], probabilities[contradicting]),
        most_entailing=_evidence(windows[entailing], probabilities[entailing]),
    )


def claim_pairs(checks: Sequence[tuple[str, Sequence[Window]]]) -> list[tuple[str, str]]:
    """The (window, claim) pairs to score for each (claim, document windows) check, checks in order."""
    return [(window.text, claim) for claim, windows in checks for window in windows]


def stances(
    checks: Sequence[tuple[str, Sequence[Window]]], probabilities: np.ndarray
) -> list[ClaimStance | None]:
    """One stance per check from the probabilities of :func:`claim_pairs` (rows in its order);
    ``None`` for a check whose document has no window."""
    expected = sum(len(windows) for _, windows in checks)
    if probabilities.shape != (expected, len(LABELS)):
        raise ValueError(
            f"expected {expected} rows of {len(LABELS)} probabilities, got {probabilities.shape}"
        )
    out: list[ClaimStance | None] = []
    start = 0
    for _, windows in checks:
        stop = start + len(windows)
        out.append(stance_of(windows, probabilities[start:stop]) if windows else None)
        start = stop
    return out
