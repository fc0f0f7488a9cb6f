"""The corpus scan on Ray Data (``contradict corpus --engine ray``): the local engine's stages, spread
over the processes of one machine or the machines of a cluster.

    read      one task per input file, the local reader (same validation, same errors)
    segment   map_batches over articles, the local segmenter
    embed     an actor pool of the bi-encoder (each actor loads it once)
    search    the local exact search in one task up to ``ray_exact_max_statements`` statements, else
              an IVF index trained on a sample and searched by many tasks (ray_candidates.py)
    pair      the pairs numbered into shards by a distributed sort and given both statements'
              records by two group-bys on the statement (ray_shards.py)
    score     a group-by on the shard packs each checkpoint shard into one row; a fixed actor pool of
              the scoring core, one shard per call, both directions
    report    the local row builder per pair, a distributed sort by the local ranking, part files
              written by tasks, the HTML report of the top rows

Same rows as the local engine: statements are numbered by their place in the input (file, row,
sentence), so candidate pairs, their ``a``/``b`` sides and the ranking's ties come out the same.
Checkpoints (``OUT.work/``, a shared folder on a cluster): the embedded statements (Parquet), the
candidates, and one file per scored shard, written by the actor that scored it; a run killed and
started again with the same arguments loads them and scores only the missing shards.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import ray

from contradict.corpus.candidates import Embedder, normalized_text
from contradict.corpus.errors import CorpusError
from contradict.corpus.pipeline import (
    CorpusOptions,
    CorpusRun,
    NoProgress,
    Progress,
    ScorerInfo,
    probability_rows,
    scorer_fn,
    segmentable,
)
from contradict.corpus.ray_candidates import search_candidates
from contradict.corpus.ray_shards import pack_shard, scoring_shards, unpack_shards
from contradict.corpus.reader import Article, Limits, make_article, read_corpus, require_articles
from contradict.corpus.report import NEAR_MISSES, write_csv, write_html, write_jsonl
from contradict.corpus.rows import STATEMENT_FIELDS, flat_row, pair_row, statement_record
from contradict.corpus.segment import segment_articles
from contradict.corpus.workdir import WorkDir, atomic_write, fingerprint, parse_array
from contradict.ray_support import (
    actor_pool,
    actor_settings,
    actors,
    ray_session,
    save_dataset,
    shuffle_partitions,
    spread,
)
from contradict.records import SUFFIXES, Row, validated
from contradict.settings import Settings

# A statement's place in the input as one int64: file (23 bits), article row in the file (24 bits),
# statement in the article (16 bits). Sorting by it is the local engine's statement order.
ROW_BITS, STATEMENT_BITS = 24, 16
MAX_FILES = 1 << (63 - ROW_BITS - STATEMENT_BITS)
INPUT_SUFFIXES = {**SUFFIXES, ".parquet": "parquet"}
ARTICLE_FIELDS = ("id", "text", "title", "source", "url", "published")

_STR = pa.string()
READ_SCHEMA = pa.schema(
    [("kind", _STR), ("key", pa.int64()), *((name, _STR) for name in ARTICLE_FIELDS)]
    + [
        ("headline_end", pa.int64()),
        ("info", _STR),
        ("file", _STR),
        ("line", pa.int64()),
        ("skippable", pa.bool_()),
    ]
)
RECORD_TYPE = pa.struct(
    [
        (
            name,
            pa.int64() if name in {"sentence", "start", "end", "paragraph_start", "paragraph_end"} else _STR,
        )
        for name in STATEMENT_FIELDS
    ]
)
STATEMENT_SCHEMA = pa.schema(
    [("pos", pa.int64()), ("group", pa.int64()), ("key", pa.int64()), ("record", RECORD_TYPE)]
)
SCORE_COLUMNS = ("contradiction", "entailment", "neutral")
SORT_KEYS = ["_contradiction", "_similarity", "a_pos", "b_pos"]  # the local ranking (rows.ranking)


# -- read ------------------------------------------------------------------------------------------


def _filesystem(path: str) -> tuple[pafs.FileSystem, str, str]:
    """(filesystem, path inside it, scheme prefix to rebuild a URI): local paths or any pyarrow URI."""
    if "://" in path:
        fs, inner = pafs.FileSystem.from_uri(path)
        return fs, inner, path.split("://", 1)[0] + "://"
    return pafs.LocalFileSystem(), os.path.abspath(path), ""


def input_files(path: str) -> list[str]:
    """The input's files in a fixed order: one file, or every .jsonl/.csv/.parquet file under a folder."""
    fs, inner, scheme = _filesystem(path)
    info = fs.get_file_info(inner)
    if info.type == pafs.FileType.NotFound:
        raise CorpusError("no such file or folder", path, skippable=False)
    if info.type == pafs.FileType.File:
        files = [inner]
    else:
        found = fs.get_file_info(pafs.FileSelector(inner, recursive=True))
        files = sorted(
            entry.path
            for entry in found
            if entry.is_file
            and Path(entry.path).suffix.lower() in INPUT_SUFFIXES
            and not any(part.startswith(".") for part in Path(entry.path).relative_to(inner).parts)
        )
    if not files or Path(files[0]).suffix.lower() not in INPUT_SUFFIXES:
        raise CorpusError(
            "--engine ray reads a .jsonl, .csv or .parquet file or a folder of them (a folder of "
            ".txt/.md articles: use the local engine)",
            path,
            skippable=False,
        )
    if len(files) >= MAX_FILES:
        raise CorpusError(f"more than {MAX_FILES - 1} input files", path, skippable=False)
    return [scheme + name for name in files]


def _parquet_articles(data: bytes, uri: str, options: CorpusOptions, skipped: list) -> list[Article]:
    table = pq.read_table(io.BytesIO(data))
    rows = (Row(uri, number, record) for number, record in enumerate(table.to_pylist(), start=1))
    limits = options.limits
    return list(
        validated(
            rows,
            lambda record, file, line: make_article(record, file, line, limits),
            skip_invalid=options.skip_invalid,
            skipped=skipped.append,
        )
    )


def _file_articles(uri: str, options: CorpusOptions) -> tuple[list[Article], list[CorpusError]]:
    """One file through the local reader (a remote file via a local copy, errors still naming it)."""
    fs, inner, _ = _filesystem(uri)
    suffix = Path(inner).suffix.lower()
    limits = Limits((1 << ROW_BITS) - 1, options.limits.max_document_chars)
    if INPUT_SUFFIXES[suffix] == "parquet":
        skipped: list[CorpusError] = []
        with fs.open_input_stream(inner) as stream:
            return _parquet_articles(stream.read(), uri, options, skipped), skipped
    if isinstance(fs, pafs.LocalFileSystem):
        result = read_corpus(inner, skip_invalid=options.skip_invalid, limits=limits)
        return result.articles, result.skipped
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / f"input{suffix}"
        with fs.open_input_stream(inner) as stream:
            local.write_bytes(stream.read())
        try:
            result = read_corpus(local, skip_invalid=options.skip_invalid, limits=limits)
        except CorpusError as error:
            error.file = uri
            raise
    for error in result.skipped:
        error.file = uri
    return result.articles, result.skipped


def _error_row(kind: str, key: int, error: CorpusError) -> dict:
    return {
        "kind": kind,
        "key": key,
        "info": error.reason,
        "file": error.file,
        "line": error.line,
        "skippable": error.skippable,
    }


def read_files(batch: pa.Table, options: CorpusOptions) -> pa.Table:
    """Articles of the batch's files as rows ``kind == "article"``, plus one ``file`` row per file
    (its fingerprint) and a row per skipped or fatal error."""
    rows: list[dict] = []
    for file_no, uri in zip(batch["file_no"].to_pylist(), batch["uri"].to_pylist(), strict=True):
        base = file_no << ROW_BITS
        try:
            articles, skipped = _file_articles(uri, options)
        except CorpusError as error:
            rows.append(_error_row("error", base, error))
            continue
        rows.extend(_error_row("skipped", base, error) for error in skipped)
        for number, article in enumerate(articles):
            fields = {name: getattr(article, name) for name in ARTICLE_FIELDS}
            rows.append(
                {"kind": "article", "key": base + number, "headline_end": article.headline_end, **fields}
            )
        rows.append({"kind": "file", "key": base, "info": fingerprint([(a.id, a.text) for a in articles])})
    return pa.Table.from_pylist(rows, schema=READ_SCHEMA)


def _article(row: dict) -> Article:
    return Article(**{name: row[name] for name in ARTICLE_FIELDS}, headline_end=row["headline_end"])


# -- segment ---------------------------------------------------------------------------------------


def text_hash(text: str) -> int:
    """A 63-bit id of a statement's normalised text: same text, same id, across all tasks."""
    digest = hashlib.blake2b(normalized_text(text).encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(digest.digest(), "big") >> 1


def segment_batch(batch: pa.Table, options: CorpusOptions) -> pa.Table:
    """The local segmenter over a batch of articles; each statement keyed by its place in the input."""
    rows = batch.to_pylist()
    articles = [_article(row) for row in rows]
    statements = segment_articles(segmentable(articles, options), options.segment)
    out, counts = [], [0] * len(rows)
    for statement in statements:
        key = rows[statement.article]["key"]
        number = counts[statement.article]
        counts[statement.article] += 1
        out.append(
            {
                "pos": (key << STATEMENT_BITS) + number,
                "group": key,
                "key": text_hash(statement.text),
                "record": statement_record(articles[statement.article], statement),
            }
        )
    return pa.Table.from_pylist(out, schema=STATEMENT_SCHEMA)


class EmbedActor:
    """One bi-encoder per actor, loaded once; adds the unit-length embedding of every statement."""

    def __init__(self, settings: Settings):
        self.embedder = Embedder.from_settings(settings)

    def __call__(self, batch: pa.Table) -> pa.Table:
        texts = batch["record"].combine_chunks().field("text").to_pylist()
        vectors = self.embedder.encode(texts)
        flat = pa.array(vectors.reshape(-1), type=pa.float32())
        return batch.append_column("embedding", pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1]))


# -- score -----------------------------------------------------------------------------------------


def load_shard(path: Path, pairs: int) -> np.ndarray | None:
    """A finished shard's probabilities, or None when missing or not sound (then it is scored again)."""
    try:
        return probability_rows(parse_array(path.read_bytes()), pairs)
    except (OSError, ValueError):
        return None


def save_shard(path: Path, probs: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, probs, allow_pickle=False)
    atomic_write(path, lambda handle: handle.write(buffer.getvalue()))


class ScoreActor:
    """One scoring core per actor; each packed row is one checkpoint shard, loaded when already
    finished, else scored in both directions and saved before it is passed on."""

    def __init__(self, settings: Settings, folder: str):
        from contradict.scorer import NLIScorer

        self.score = scorer_fn(NLIScorer.from_settings(actor_settings(settings)))
        self.folder = Path(folder)

    def __call__(self, packed: pa.Table) -> pa.Table:
        return pa.concat_tables([self.shard(rows) for rows in unpack_shards(packed)])

    def shard(self, batch: pa.Table) -> pa.Table:
        path = self.folder / f"shard-{batch['shard'][0].as_py():06d}.npy"
        probs = load_shard(path, len(batch))
        resumed = probs is not None
        if probs is None:
            a = batch["a"].combine_chunks().field("text").to_pylist()
            b = batch["b"].combine_chunks().field("text").to_pylist()
            probs = probability_rows(
                np.asarray(self.score(list(zip(a, b)), None), dtype=np.float32), len(batch)
            )
            save_shard(path, probs)
        for column, name in enumerate(SCORE_COLUMNS):
            batch = batch.append_column(name, pa.array(probs[:, column], type=pa.float32()))
        return batch.append_column("resumed", pa.array([resumed] * len(batch)))


# -- rows and outputs --------------------------------------------------------------------------------


def rows_batch(batch: pa.Table, threshold: float) -> pa.Table:
    """The local row builder per pair; the unrounded scores stay beside it for the global sort."""
    columns = batch.select(["similarity", "a", "b", *SCORE_COLUMNS, "a_pos", "b_pos"]).to_pydict()
    rows = []
    for i, similarity in enumerate(columns["similarity"]):
        probs = [columns[name][i] for name in SCORE_COLUMNS]
        row = pair_row(0, probs, similarity, columns["a"][i], columns["b"][i], threshold)
        rows.append(
            {
                **row,
                "_contradiction": probs[0],
                "_similarity": similarity,
                "a_pos": columns["a_pos"][i],
                "b_pos": columns["b_pos"][i],
            }
        )
    return pa.Table.from_pylist(rows, schema=ROW_SCHEMA)


ROW_SCHEMA = pa.schema(
    [
        ("rank", pa.int64()),
        *((name, pa.float64()) for name in SCORE_COLUMNS),
        ("is_contradiction", pa.bool_()),
        ("similarity", pa.float64()),
        ("a", RECORD_TYPE),
        ("b", RECORD_TYPE),
        ("_contradiction", pa.float32()),
        ("_similarity", pa.float32()),
        ("a_pos", pa.int64()),
        ("b_pos", pa.int64()),
    ]
)


def ranked(table: pa.Table, offset: int) -> list[dict]:
    """A sorted part's rows as the local engine's rows, ranks continuing from ``offset``."""
    rows = table.drop_columns(SORT_KEYS).to_pylist()
    for number, row in enumerate(rows, start=offset + 1):
        row["rank"] = number
    return rows


@ray.remote
def count_part(table: pa.Table) -> tuple[int, int]:
    return len(table), pc.sum(table["is_contradiction"]).as_py() or 0


@ray.remote
def write_part(
    table: pa.Table, offset: int, name: str, output: str, fmt: str, csv_folder: str | None
) -> None:
    """One part file of the ranked rows (JSONL or Parquet), and its CSV twin, by the local writers."""
    rows = ranked(table, offset)
    if fmt == "parquet":
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pylist([flat_row(row) for row in rows]), buffer)
        atomic_write(Path(output) / f"{name}.parquet", lambda handle: handle.write(buffer.getvalue()))
    else:
        write_jsonl(rows, Path(output) / f"{name}.jsonl")
    if csv_folder is not None:
        write_csv(rows, Path(csv_folder) / f"{name}.csv")


def clear_parts(folder: Path) -> None:
    """A fresh output folder: part files of an earlier run are removed, nothing else is touched."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in folder.glob("part-*"):
        entry.unlink()


# -- the run -----------------------------------------------------------------------------------------


@dataclass
class RayResult:
    """What the command prints from (the local engine's result has the same ``summary``)."""

    summary: dict


class _Timer:
    def __init__(self, progress: Progress):
        self.seconds: dict[str, float] = {}
        self.resumed: list[str] = []
        self.progress = progress

    @contextmanager
    def stage(self, name: str, total: float | None = None) -> Iterator[None]:
        advance = self.progress.stage(name, total)
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)
        advance(total or 0)


class RayCorpusRun:
    """One scan of one corpus into one output folder on Ray; ``run()`` may be repeated after a crash.

    The same interface as :class:`~contradict.corpus.pipeline.CorpusRun` where the command uses it
    (``run``, ``work``, ``skipped``, ``remove_checkpoints``). ``output`` is a folder of part files:
    Parquet when its name ends in ``.parquet``, else JSONL; ``csv_path`` a folder of CSV parts.
    """

    def __init__(
        self,
        path: str | Path,
        output: Path,
        *,
        settings: Settings,
        scorer_info: ScorerInfo,
        options: CorpusOptions | None = None,
        csv_path: Path | None = None,
        report_path: Path | None = None,
        work_dir: Path | None = None,
        progress: Progress | None = None,
        quiet: bool = True,
    ):
        self.path = str(path)
        self.output = Path(output)
        self.settings = settings
        self.scorer_info = scorer_info
        self.options = options or CorpusOptions()
        self.csv_path = csv_path
        self.report_path = report_path
        self.work = WorkDir(work_dir or self.output.with_name(self.output.name + ".work"))
        self.own_work_dir = work_dir is None
        self.quiet = quiet
        self.timer = _Timer(progress or NoProgress())
        self.skipped: list[CorpusError] = []
        self.scored_shards = 0  # shards scored by this run (the others were loaded from checkpoints)

    def run(self) -> RayResult:
        with ray_session(self.settings.ray, quiet=self.quiet):
            return self._run()

    def _run(self) -> RayResult:
        timer, opts = self.timer, self.options
        with timer.stage("read"):
            articles, file_prints = self.read()
        keys = self.keys(file_prints)
        self.work.prune(set(keys.values()))
        self.work.root.mkdir(parents=True, exist_ok=True)
        statements = self.embedded_statements(articles, keys["statements"])
        with timer.stage("search"):
            pairs, candidates = search_candidates(
                statements, opts.candidates, self.settings.ray, self.work.root / keys["candidates"]
            )
        with timer.stage("score", candidates):
            scored = self.score(statements, pairs, candidates, keys["scores"]) if pairs is not None else None
            resumed = scored and scored.filter(lambda row: row["resumed"]).unique("shard")
            if resumed:
                timer.resumed.append(f"score ({len(resumed)} shards)")
        threshold = opts.threshold if opts.threshold is not None else self.scorer_info.threshold
        with timer.stage("report", candidates):
            parts, counts = self.write(scored, threshold)
            summary = self.summary(articles.count(), statements.count(), counts, threshold)
            if self.report_path is not None:
                self.write_report(articles, parts, counts, summary)
        summary["seconds"] = dict(timer.seconds)
        return RayResult(summary)

    # -- stages --------------------------------------------------------------------------------

    def read(self) -> tuple[ray.data.Dataset, list[str]]:
        files = input_files(self.path)
        items = [{"file_no": number, "uri": uri} for number, uri in enumerate(files)]
        read = (
            ray.data.from_items(items, override_num_blocks=len(items))
            .map_batches(
                read_files, fn_kwargs={"options": self.options}, batch_size=1, batch_format="pyarrow"
            )
            .materialize()
        )
        notes = read.filter(lambda row: row["kind"] != "article").take_all()
        notes.sort(key=lambda row: (row["key"], row["line"] or 0))
        errors = [self._error(row) for row in notes if row["kind"] == "error"]
        if errors:
            raise errors[0]
        self.skipped = [self._error(row) for row in notes if row["kind"] == "skipped"]
        articles = read.filter(lambda row: row["kind"] == "article").materialize()
        count = articles.count()
        if len(files) > 1:
            self._refuse_duplicates(articles)
        minimum = 1 if self.options.candidates.within_article else 2
        require_articles(range(count), minimum, self.path)
        return articles, [row["info"] for row in notes if row["kind"] == "file"]

    @staticmethod
    def _error(row: dict) -> CorpusError:
        return CorpusError(row["info"], row["file"], row["line"], skippable=row["skippable"])

    def _refuse_duplicates(self, articles: ray.data.Dataset) -> None:
        """Ids are unique per file by the reader; across files by one group-by."""
        repeated = articles.groupby("id").count().filter(lambda row: row["count()"] > 1).take(1)
        if repeated:
            raise CorpusError(
                f"duplicate id {repeated[0]['id']!r} in two input files", self.path, skippable=False
            )

    def keys(self, file_prints: list[str]) -> dict[str, str]:
        opts = self.options
        embedder = Embedder.from_settings(self.settings)
        statements = fingerprint(
            "ray-statements", file_prints, asdict(opts.segment), opts.headline_statements, embedder.identity
        )
        ray_search = self.settings.ray.model_dump(include={"exact_max_statements", "ivf_lists", "ivf_probe"})
        candidates = fingerprint("candidates", statements, asdict(opts.candidates), ray_search)
        scores = fingerprint("scores", candidates, asdict(self.scorer_info), opts.shard_pairs)
        return {
            "statements": f"statements-{statements}",
            "candidates": f"candidates-{candidates}",
            "scores": f"scores-{scores}",
        }

    def embedded_statements(self, articles: ray.data.Dataset, name: str) -> ray.data.Dataset:
        """Segmented and embedded statements, from their checkpoint when a run already made them."""
        folder = self.work.root / name
        if folder.is_dir():
            self.timer.resumed.extend(["segment", "embed"])
            with self.timer.stage("segment"), self.timer.stage("embed"):
                return ray.data.read_parquet(str(folder)).materialize()
        with self.timer.stage("segment"):
            segmented = articles.map_batches(
                segment_batch, fn_kwargs={"options": self.options}, batch_format="pyarrow"
            ).materialize()
        with self.timer.stage("embed"):
            ray_settings = self.settings.ray
            pool = actors(ray_settings.embed_actors, ray)
            # One call per block of at most a batch, cut in order as the batches were (the local
            # engine's rows depend on which statements are embedded together, to the last bit of a
            # near tie: a cut into smaller blocks changed 18 of 4,688 pairs at 200 articles).
            embedded = (
                spread(segmented, ray_settings.embed_batch_size)
                .map_batches(
                    EmbedActor,
                    fn_constructor_args=(self.settings,),
                    compute=actor_pool(pool),
                    num_cpus=1,
                    batch_format="pyarrow",
                )
                .materialize()
            )
            save_dataset(embedded, folder)
        return embedded

    def score(
        self, statements: ray.data.Dataset, pairs: ray.data.Dataset, count: int, name: str
    ) -> ray.data.Dataset:
        """Pairs with both sides' records, grouped by shard, through the scoring actors."""
        folder = self.work.root / name
        folder.mkdir(parents=True, exist_ok=True)
        ray_settings = self.settings.ray
        partitions = shuffle_partitions(count, ray_settings)
        shards = scoring_shards(pairs, statements, self.options.shard_pairs, partitions)
        packed = (
            shards.groupby("shard", num_partitions=partitions)
            .map_groups(pack_shard, batch_format="pyarrow")
            .materialize()
        )
        # A fixed pool over materialised input: no shuffle of this plan waits for CPUs the actors
        # hold, and every actor has work from the start (an autoscaling pool that began with one
        # actor stayed at one on a 2-CPU node, at half the local engine's rate).
        pool = actors(ray_settings.score_actors, ray)
        return (
            spread(packed, 1)  # one shard per block: the actors share the shards evenly
            .map_batches(
                ScoreActor,
                fn_constructor_args=(self.settings, str(folder)),
                compute=actor_pool(pool),
                num_cpus=1,
                batch_format="pyarrow",
            )
            .materialize()
        )

    def write(self, scored: ray.data.Dataset | None, threshold: float) -> tuple[list, list[tuple[int, int]]]:
        """Rows by the local row builder, sorted by the local ranking, then one part file per sorted
        block, ranks continuing from block to block."""
        parts = []
        if scored is not None:
            rows = scored.map_batches(rows_batch, fn_kwargs={"threshold": threshold}, batch_format="pyarrow")
            parts = rows.sort(SORT_KEYS, descending=[True, True, False, False]).to_arrow_refs()
        counts = ray.get([count_part.remote(part) for part in parts])
        fmt = "parquet" if self.output.suffix.lower() == ".parquet" else "jsonl"
        clear_parts(self.output)
        csv_folder = None
        if self.csv_path is not None:
            clear_parts(self.csv_path)
            csv_folder = str(self.csv_path)
        offsets = np.cumsum([0] + [n for n, _ in counts])
        writes = [
            write_part.remote(part, int(offset), f"part-{number:05d}", str(self.output), fmt, csv_folder)
            for number, (part, offset, (n, _)) in enumerate(zip(parts, offsets, counts))
            if n
        ]
        ray.get(writes)
        return parts, counts

    def rows_between(self, parts: list, counts: list[tuple[int, int]], start: int, stop: int) -> list[dict]:
        """Ranked rows ``start:stop`` (0-based), fetched from the parts that hold them."""
        rows, offset = [], 0
        for part, (n, _) in zip(parts, counts):
            if offset < stop and offset + n > start:
                rows.extend(ranked(ray.get(part), offset)[max(0, start - offset) : stop - offset])
            offset += n
        return rows

    def write_report(self, articles: ray.data.Dataset, parts: list, counts: list, summary: dict) -> None:
        """The local HTML report over the top rows: the shown contradictions and the near misses."""
        found = summary["contradictions"]
        shown = self.rows_between(parts, counts, 0, min(found, self.options.report_max_pairs))
        near = self.rows_between(parts, counts, found, found + NEAR_MISSES)
        rows = [*shown, *near]
        ids = {row[side]["article"] for row in rows for side in "ab"}
        texts = {
            row["id"]: row["text"]
            for row in articles.filter(lambda row: row["id"] in ids).select_columns(["id", "text"]).take_all()
        }
        write_html(rows, summary, self.report_path, texts, max_pairs=self.options.report_max_pairs)

    def summary(
        self, articles: int, statements: int, counts: list[tuple[int, int]], threshold: float
    ) -> dict:
        return {
            "articles": articles,
            "skipped_rows": len(self.skipped),
            "statements": statements,
            "candidates": sum(n for n, _ in counts),
            "contradictions": sum(c for _, c in counts),
            "threshold": threshold,
            "model": {"name": self.scorer_info.name, "version": self.scorer_info.version},
            "settings": {
                "top_k": self.options.candidates.top_k,
                "min_similarity": self.options.candidates.min_similarity,
                "within_article": self.options.candidates.within_article,
            },
            "engine": "ray",
            "resumed": list(self.timer.resumed),
        }

    # The local engine's: the default work folder removed whole, a given one emptied of our files.
    remove_checkpoints = CorpusRun.remove_checkpoints


__all__ = ["RayCorpusRun", "RayResult", "input_files"]
