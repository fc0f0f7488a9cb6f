"""Validate statement pairs read by :mod:`contradict.records` and write scored rows, one chunk at a time.

Files can hold millions of pairs, so nothing here holds more than one chunk of pairs and results:
pairs are read lazily, scored chunk by chunk through :class:`~contradict.scorer.NLIScorer` (which
batches by length inside a chunk) and written out before the next chunk is read.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from contradict.output_files import create_beside, output_target
from contradict.records import STDIO, Record, RecordError, format_of, read_records, validated
from contradict.scorer import PairScore, Scorer

OUTPUT_FORMATS = ("jsonl", "csv")
DEFAULT_CHUNK_SIZE = 4096
# Accepted names of the two statements, preferred first (sentence1/sentence2 is the SNLI/MNLI naming).
PREMISE_FIELDS = ("premise", "sentence1")
HYPOTHESIS_FIELDS = ("hypothesis", "sentence2")
ID_FIELD = "id"
SCORE_FIELDS = ("contradiction", "entailment", "neutral", "label", "is_contradiction", "truncated")
# Booleans in every CSV the commands write (score and corpus alike): JSON's spelling, as in the JSONL.
CSV_BOOLEANS = {True: "true", False: "false"}
BOOLEAN_FIELDS = ("is_contradiction", "truncated")
# RFC 4180's line end. With "\n" alone, Python's csv writer leaves a field holding a lone "\r"
# unquoted, and every CSV reader then splits the row there.
CSV_LINE_END = "\r\n"
# Kept messages of skipped rows: enough to see what is wrong, bounded for million-row files.
MAX_KEPT_ERRORS = 20


class OutputError(ValueError):
    """Rows that cannot be written in the chosen output format."""


@dataclass(frozen=True)
class PairRecord:
    premise: str
    hypothesis: str
    id: str | int | None = None

    @property
    def pair(self) -> tuple[str, str]:
        return (self.premise, self.hypothesis)


@dataclass
class ReadStats:
    """What a read saw; filled in while the reader is consumed."""

    read: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def skip(self, error: RecordError) -> None:
        self.skipped += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.append(str(error))


def output_format(path: str | None, explicit: str | None) -> str:
    """The output format named explicitly, else the one the suffix implies, else jsonl for stdout."""
    fmt = format_of(path, explicit)
    if fmt not in OUTPUT_FORMATS:
        raise OutputError(f"cannot write {fmt}; output formats are {', '.join(OUTPUT_FORMATS)}")
    return fmt


def _pick(fields: Mapping[str, Any], names: tuple[str, ...], source: str, line: int | None) -> str:
    name = next((candidate for candidate in names if candidate in fields), None)
    if name is None:
        raise RecordError(f"missing field {' or '.join(map(repr, names))}", source, line)
    value = fields[name]
    if not isinstance(value, str):
        raise RecordError(f"field {name!r} must be a string, got {type(value).__name__}", source, line)
    if not value.strip():
        raise RecordError(f"field {name!r} is empty", source, line)
    return value


def parse_record(fields: Record, source: str, line: int | None) -> PairRecord:
    """Validate one record (a JSON object or a CSV row) into a :class:`PairRecord`."""
    premise = _pick(fields, PREMISE_FIELDS, source, line)
    hypothesis = _pick(fields, HYPOTHESIS_FIELDS, source, line)
    # An empty CSV cell stays the id "": the row has the column, so CSV output keeps it for every row.
    record_id = fields.get(ID_FIELD)
    if record_id is not None and (isinstance(record_id, bool) or not isinstance(record_id, str | int)):
        raise RecordError(
            f"field 'id' must be a string or an integer, got {type(record_id).__name__}", source, line
        )
    return PairRecord(premise=premise, hypothesis=hypothesis, id=record_id)


def read_pairs(
    path: str, fmt: str, *, skip_invalid: bool = False, stats: ReadStats | None = None
) -> Iterator[PairRecord]:
    """Lazily yield valid pairs from ``path`` (or stdin for ``-``).

    A malformed row raises :class:`~contradict.records.RecordError`; with ``skip_invalid`` it is
    counted in ``stats`` and skipped instead. Errors that make the rest unreadable (a broken CSV
    header or record) raise either way.
    """
    stats = stats if stats is not None else ReadStats()
    rows = read_records(path, fmt, required=(PREMISE_FIELDS, HYPOTHESIS_FIELDS))
    for record in validated(rows, parse_record, skip_invalid=skip_invalid, skipped=stats.skip):
        stats.read += 1
        yield record


def chunked(items: Iterable[PairRecord], size: int) -> Iterator[list[PairRecord]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def result_row(record: PairRecord, score: PairScore) -> dict[str, Any]:
    """The output schema: id (when given), premise, hypothesis, then the score fields."""
    row: dict[str, Any] = {} if record.id is None else {ID_FIELD: record.id}
    row.update(premise=record.premise, hypothesis=record.hypothesis)
    row.update(score.as_dict())
    return row


def score_records(
    scorer: Scorer,
    records: Iterable[PairRecord],
    *,
    symmetric: bool = False,
    threshold: float | None = None,
    batch_size: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Score ``records`` one chunk at a time; yields each chunk's output rows, in input order.

    ``threshold`` (None: the model's calibrated one) decides label and ``is_contradiction`` by the
    one decision rule of the core. ``progress`` receives the number of model rows per forward pass
    (two per pair when symmetric).
    """
    for chunk in chunked(records, chunk_size):
        scores = scorer.score(
            [record.pair for record in chunk],
            symmetric=symmetric,
            threshold=threshold,
            batch_size=batch_size,
            progress=progress,
        )
        yield [result_row(record, score) for record, score in zip(chunk, scores, strict=True)]


class ResultWriter:
    """Write result rows as JSONL or CSV to a file (atomically, on success) or to stdout.

    A file is written to a temporary neighbour and renamed at the end, so a run that fails half
    way never leaves a truncated file that looks complete; the new file keeps the old one's
    permissions (else the umask's), a symlink keeps pointing at it, and a path that cannot be
    renamed over (``/dev/stdout``, a named pipe) is written in place (:mod:`contradict.output_files`).
    """

    def __init__(self, path: str | None, fmt: str):
        self.path = None if path in (None, STDIO) else Path(path)
        self.fmt = fmt
        self.written = 0
        self._csv: csv.DictWriter | None = None
        self._tmp: Path | None = None
        self._target: Path | None = None
        if self.path is None:
            self._stream: IO[str] = sys.stdout
            return
        target, renamable = output_target(self.path)
        if not renamable:
            self._stream = open(target, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed in __exit__
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, self._tmp = create_beside(target)
        self._target = target
        self._stream = os.fdopen(handle, "w", encoding="utf-8", newline="")

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._finish_csv()
        finally:
            if self._stream is sys.stdout:
                self._stream.flush()
            else:
                self._stream.close()
        if self._tmp is None:
            return
        try:
            if exc_type is None:
                os.replace(self._tmp, self._target)
        finally:
            self._tmp.unlink(missing_ok=True)  # gone after the rename; else the failed run's part

    def _finish_csv(self) -> None:
        if self.fmt == "csv" and self._csv is None:
            self._open_csv(has_id=False)  # an empty result still gets its header

    def _open_csv(self, has_id: bool) -> csv.DictWriter:
        columns = ([ID_FIELD] if has_id else []) + ["premise", "hypothesis", *SCORE_FIELDS]
        self._csv = csv.DictWriter(self._stream, fieldnames=columns, lineterminator=CSV_LINE_END)
        self._csv.writeheader()
        return self._csv

    def write(self, rows: list[dict[str, Any]]) -> None:
        if self.fmt == "jsonl":
            self._stream.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        else:
            self._write_csv(rows)
        self.written += len(rows)
        self._stream.flush()

    def _write_csv(self, rows: list[dict[str, Any]]) -> None:
        writer = self._csv or self._open_csv(has_id=bool(rows) and ID_FIELD in rows[0])
        for offset, row in enumerate(rows, start=self.written + 1):
            if ID_FIELD in row and ID_FIELD not in writer.fieldnames:
                raise OutputError(
                    f"output row {offset} has an id but the first row had none; CSV output needs the "
                    "same columns in every row (give every input row an id, or none)"
                )
            writer.writerow({**row, **{name: CSV_BOOLEANS[row[name]] for name in BOOLEAN_FIELDS}})
