"""The corpus scan: read -> segment -> candidates -> score -> report, resumable and timed.

Each expensive stage checkpoints into a work dir (see :mod:`contradict.corpus.workdir`); scoring,
the slow part, checkpoints every ``shard_pairs`` pairs. A checkpoint is used only when its checksum
matches the manifest and its content fits the run (offsets inside the articles, indices inside the
statements, finite probabilities); otherwise it is discarded with a warning and recomputed. A run
killed at any moment and started again with the same arguments picks up the finished stages and
shards and writes the same files.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

import numpy as np

from contradict.corpus.candidates import CandidateOptions, Candidates, Embedder, candidate_pairs
from contradict.corpus.errors import CorpusError
from contradict.corpus.reader import Article, Limits, read_corpus, require_articles, statement_view
from contradict.corpus.report import write_csv, write_html, write_jsonl
from contradict.corpus.rows import ranked_rows
from contradict.corpus.segment import SegmentOptions, Statement, segment_articles
from contradict.corpus.workdir import (
    BadCheckpoint,
    WorkDir,
    fingerprint,
    parse_array,
    parse_arrays,
    parse_json,
    require_finite,
)
from contradict.settings import CORPUS_DEFAULTS, Settings

if TYPE_CHECKING:
    from contradict.scorer import Scorer

Pair = tuple[str, str]
Advance = Callable[[float], None]
# (pairs, progress) -> probabilities [n, 3] in (contradiction, entailment, neutral) order.
ScoreFn = Callable[[list[Pair], Callable[[int], None] | None], np.ndarray]


class Progress(Protocol):
    """Per-stage progress display; ``stage`` returns the function that advances its bar."""

    def stage(self, name: str, total: float | None) -> Advance: ...


class NoProgress:
    def stage(self, name: str, total: float | None) -> Advance:
        return lambda amount: None


@dataclass(frozen=True)
class CorpusOptions:
    """Every option of a scan; defaults are the settings' (``corpus_*``), and :meth:`from_settings`
    is where the settings become segment, candidate and size options."""

    segment: SegmentOptions = field(default_factory=SegmentOptions)
    candidates: CandidateOptions = field(default_factory=CandidateOptions)
    limits: Limits = field(default_factory=Limits)
    threshold: float | None = CORPUS_DEFAULTS.threshold  # None: the scorer's calibrated threshold
    shard_pairs: int = CORPUS_DEFAULTS.shard_pairs
    report_max_pairs: int = CORPUS_DEFAULTS.report_max_pairs
    skip_invalid: bool = False
    headline_statements: bool = False  # True: headlines are scored too, not only shown as context

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        top_k: int | None = None,
        min_similarity: float | None = None,
        threshold: float | None = None,
        within_article: bool = False,
        skip_invalid: bool = False,
        headline_statements: bool = False,
    ) -> CorpusOptions:
        """Options from ``settings.corpus``; the keywords (None = the setting) come from CLI flags or
        requests."""
        corpus = settings.corpus
        return cls(
            segment=SegmentOptions(
                min_chars=corpus.min_statement_chars,
                min_words=corpus.min_statement_words,
                max_chars=corpus.max_statement_chars,
            ),
            candidates=CandidateOptions(
                top_k=corpus.top_k if top_k is None else top_k,
                min_similarity=corpus.min_similarity if min_similarity is None else min_similarity,
                within_article=within_article,
                hnsw_min_statements=corpus.hnsw_min_statements,
                hnsw_m=corpus.hnsw_m,
                hnsw_ef_construction=corpus.hnsw_ef_construction,
                hnsw_ef_search=corpus.hnsw_ef_search,
            ),
            limits=Limits(corpus.max_documents, corpus.max_document_chars),
            threshold=corpus.threshold if threshold is None else threshold,
            shard_pairs=corpus.shard_pairs,
            report_max_pairs=corpus.report_max_pairs,
            skip_invalid=skip_invalid,
            headline_statements=headline_statements,
        )


@dataclass(frozen=True)
class ScorerInfo:
    """What identifies the scores: checkpoints of another model (or calibration) are not reused."""

    name: str
    version: str
    temperature: float
    threshold: float
    max_length: int

    @classmethod
    def of(cls, scorer: Scorer) -> ScorerInfo:
        return cls(
            scorer.name,
            scorer.version,
            scorer.calibration.temperature,
            scorer.calibration.threshold,
            scorer.max_length,
        )


@dataclass
class CorpusResult:
    articles: list[Article]
    statements: list[Statement]
    candidates: Candidates
    probabilities: np.ndarray
    rows: list[dict]
    summary: dict


def statement_pairs(statements: Sequence[Statement], candidates: Candidates) -> list[Pair]:
    return [(statements[a].text, statements[b].text) for a, b in zip(candidates.a, candidates.b, strict=True)]


def segmentable(articles: Sequence[Article], options: CorpusOptions) -> list[Article]:
    """The articles as segmentation sees them: headlines blanked unless they count as statements."""
    return list(articles) if options.headline_statements else [statement_view(a) for a in articles]


def prepare(
    articles: Sequence[Article],
    options: CorpusOptions,
    embedder: Embedder,
    tick: Callable[[int], None] | None = None,
) -> tuple[list[Statement], Candidates]:
    """Segment and pair in one go, without checkpoints: for small, interactive corpora (HTTP).

    ``tick`` is called after every article segmented and every chunk embedded or searched; an
    exception it raises (a deadline passed) stops the work there.
    """
    statements = segment_articles(segmentable(articles, options), options.segment, progress=tick)
    return statements, candidate_pairs(statements, embedder, options.candidates, tick, tick)


def statement_rows(value: object, articles: Sequence[Article]) -> list[list[int]]:
    """A statements checkpoint checked against the articles: six integers per statement, offsets
    inside the article and its paragraph."""
    if not isinstance(value, list) or not articles:
        raise BadCheckpoint("not a list of statements")
    for row in value:
        if not (isinstance(row, list) and len(row) == 6 and all(type(x) is int for x in row)):
            raise BadCheckpoint("a statement is not six integers")
        article, sentence, start, end, para_start, para_end = row
        if not (0 <= article < len(articles) and sentence >= 0):
            raise BadCheckpoint("a statement names no article")
        if not (0 <= para_start <= start < end <= para_end <= len(articles[article].text)):
            raise BadCheckpoint("a statement's offsets fall outside its article")
    return value


def candidate_arrays(arrays: dict[str, np.ndarray], statements: int) -> Candidates:
    """A candidates checkpoint checked against the statements: pairs ``a < b`` of statement indices."""
    if set(arrays) != {"a", "b", "similarity"}:
        raise BadCheckpoint(f"arrays {sorted(arrays)} are not a, b, similarity")
    a, b, similarity = arrays["a"], arrays["b"], arrays["similarity"]
    if not (a.ndim == b.ndim == similarity.ndim == 1 and len(a) == len(b) == len(similarity)):
        raise BadCheckpoint("arrays of different shapes")
    if not (np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer)):
        raise BadCheckpoint("statement indices are not integers")
    if len(a) and not (a.min() >= 0 and b.max() < statements and (a < b).all()):
        raise BadCheckpoint("statement indices out of range")
    require_finite(similarity, "the similarities")
    return Candidates(a, b, similarity)


def probability_rows(probs: np.ndarray, pairs: int) -> np.ndarray:
    """Scores checked: one row of three finite probabilities summing to 1 per pair."""
    if probs.shape != (pairs, 3):
        raise BadCheckpoint(f"shape {probs.shape}, expected ({pairs}, 3)")
    require_finite(probs, "the scores")
    if ((probs < 0) | (probs > 1)).any() or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
        raise BadCheckpoint("rows that are not probabilities")
    return probs


def scorer_fn(scorer: Scorer) -> ScoreFn:
    """The default scoring stage: the core, both directions, its own length-sorted batches."""
    return lambda pairs, progress: scorer.probabilities(pairs, symmetric=True, progress=progress)


class _Timer:
    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.resumed: list[str] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)


class CorpusRun:
    """One scan of one corpus into one output; ``run()`` may be repeated after a crash."""

    def __init__(
        self,
        path: str | Path,
        output: Path,
        *,
        scorer: Scorer,
        embedder: Embedder,
        options: CorpusOptions | None = None,
        csv_path: Path | None = None,
        report_path: Path | None = None,
        work_dir: Path | None = None,
        score_fn: ScoreFn | None = None,
        progress: Progress | None = None,
        stdin: TextIO | None = None,
    ):
        self.path = path
        self.output = Path(output)
        self.scorer = scorer
        self.embedder = embedder
        self.options = options or CorpusOptions()
        self.csv_path = csv_path
        self.report_path = report_path
        self.work = WorkDir(work_dir or self.output.with_name(self.output.name + ".work"))
        self.own_work_dir = work_dir is None  # OUT.jsonl.work holds nothing but this run's files
        self.score_fn = score_fn or scorer_fn(scorer)
        self.progress = progress or NoProgress()
        self.stdin = stdin
        self.timer = _Timer()
        self.skipped: list[CorpusError] = []

    # -- stages ------------------------------------------------------------------------------

    def read(self) -> tuple[list[Article], int]:
        advance = self.progress.stage("read", None)
        result = read_corpus(
            self.path, skip_invalid=self.options.skip_invalid, limits=self.options.limits, stdin=self.stdin
        )
        self.skipped = result.skipped
        minimum = 1 if self.options.candidates.within_article else 2
        require_articles(result.articles, minimum, "<stdin>" if str(self.path) == "-" else str(self.path))
        advance(len(result.articles))
        return result.articles, len(result.skipped)

    def segment(self, articles: list[Article], name: str) -> list[Statement]:
        cached = self.work.load(name, lambda data: statement_rows(parse_json(data), articles))
        advance = self.progress.stage("segment", len(articles))
        if cached is not None:
            self.timer.resumed.append("segment")
            advance(len(articles))
            return [
                Statement(a, s, start, end, articles[a].text[start:end], ps, pe)
                for a, s, start, end, ps, pe in cached
            ]
        statements = segment_articles(segmentable(articles, self.options), self.options.segment, advance)
        self.work.save_json(
            name, [[s.article, s.sentence, s.start, s.end, s.para_start, s.para_end] for s in statements]
        )
        return statements

    def candidates(self, statements: list[Statement], name: str) -> Candidates:
        cached = self.work.load(name, lambda data: candidate_arrays(parse_arrays(data), len(statements)))
        embed = self.progress.stage("embed", len(statements))
        search = self.progress.stage("search", len(statements))
        if cached is not None:
            self.timer.resumed.append("candidates")
            embed(len(statements))
            search(len(statements))
            return cached
        found = candidate_pairs(statements, self.embedder, self.options.candidates, embed, search)
        require_finite(found.similarity, "the similarities")
        self.work.save_arrays(name, a=found.a, b=found.b, similarity=found.similarity)
        return found

    def score(self, pairs: list[Pair], folder: str) -> np.ndarray:
        """Score shard by shard; a sound shard on disk is finished work and is never scored again."""
        out = np.zeros((len(pairs), 3), dtype=np.float32)
        advance = self.progress.stage("score", len(pairs))
        size = self.options.shard_pairs
        loaded = 0
        for number, start in enumerate(range(0, len(pairs), size)):
            chunk = pairs[start : start + size]
            name = f"{folder}/shard-{number:06d}.npy"
            probs = self.work.load(name, lambda data, n=len(chunk): probability_rows(parse_array(data), n))
            if probs is None:
                # Symmetric scoring reports both directions, so a pair is done after two ticks.
                probs = np.asarray(self.score_fn(chunk, lambda n: advance(n / 2)), dtype=np.float32)
                try:
                    probability_rows(probs, len(chunk))
                except BadCheckpoint as error:  # never write (or report) NaN scores
                    raise CorpusError(
                        f"the model scored shard {number} badly: {error}", skippable=False
                    ) from None
                self.work.save_array(name, probs)
            else:
                loaded += 1
                advance(len(chunk))
            out[start : start + len(chunk)] = probs
        if loaded:
            self.timer.resumed.append(f"score ({loaded} shards)")
        return out

    # -- the whole run -------------------------------------------------------------------------

    def keys(self, articles: list[Article]) -> dict[str, str]:
        opts = self.options
        texts = fingerprint([(a.id, a.text) for a in articles])
        headlines = None if opts.headline_statements else [a.headline_end for a in articles]
        statements = fingerprint("statements", texts, asdict(opts.segment), headlines)
        candidates = fingerprint("candidates", statements, asdict(opts.candidates), self.embedder.identity)
        scores = fingerprint("scores", candidates, asdict(ScorerInfo.of(self.scorer)), opts.shard_pairs)
        return {
            "statements": f"statements-{statements}.json",
            "candidates": f"candidates-{candidates}.npz",
            "scores": f"scores-{scores}",
        }

    def run(self) -> CorpusResult:
        timer = self.timer
        with timer.stage("read"):
            articles, skipped = self.read()
        keys = self.keys(articles)
        self.work.prune(set(keys.values()))
        with timer.stage("segment"):
            statements = self.segment(articles, keys["statements"])
        with timer.stage("candidates"):
            candidates = self.candidates(statements, keys["candidates"])
        with timer.stage("score"):
            probabilities = self.score(statement_pairs(statements, candidates), keys["scores"])
        threshold = self.options.threshold
        if threshold is None:
            threshold = self.scorer.calibration.threshold
        with timer.stage("report"):
            rows = ranked_rows(articles, statements, candidates, probabilities, threshold)
            summary = self.summary(articles, skipped, statements, rows, threshold)
            self.write(rows, summary, articles)
        summary["seconds"]["report"] = timer.seconds["report"]
        return CorpusResult(articles, statements, candidates, probabilities, rows, summary)

    def remove_checkpoints(self) -> Path | None:
        """Delete the checkpoints once the outputs are written (a failed run keeps them to resume).

        The default folder (``OUT.jsonl.work``) is removed whole; a ``--work-dir`` given by the user
        loses only this module's files, and itself only when nothing else is left in it. Returns
        the folder when it was there, else None.
        """
        root = self.work.root
        if not root.is_dir():
            return None
        if self.own_work_dir:
            shutil.rmtree(root)
        else:
            self.work.prune(set())
            if not any(root.iterdir()):
                root.rmdir()
        return root

    def summary(self, articles, skipped: int, statements, rows: list[dict], threshold: float) -> dict:
        return {
            "articles": len(articles),
            "skipped_rows": skipped,
            "statements": len(statements),
            "candidates": len(rows),
            "contradictions": sum(row["is_contradiction"] for row in rows),
            "threshold": threshold,
            "model": {"name": self.scorer.name, "version": self.scorer.version},
            "settings": {
                "top_k": self.options.candidates.top_k,
                "min_similarity": self.options.candidates.min_similarity,
                "within_article": self.options.candidates.within_article,
            },
            "seconds": dict(self.timer.seconds),
            "resumed": list(self.timer.resumed),
        }

    def write(self, rows: list[dict], summary: dict, articles: list[Article]) -> None:
        advance = self.progress.stage("report", len(rows))
        write_jsonl(rows, self.output)
        if self.csv_path is not None:
            write_csv(rows, self.csv_path)
        if self.report_path is not None:
            texts = {article.id: article.text for article in articles}
            write_html(rows, summary, self.report_path, texts, max_pairs=self.options.report_max_pairs)
        advance(len(rows))
