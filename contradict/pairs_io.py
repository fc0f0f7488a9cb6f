"""Read statement pairs from JSONL/CSV files or stdin and write scored rows, one chunk at a time.

Files can hold millions of pairs, so nothing here holds more than one chunk of pairs and results:
pairs are read lazily, scored chunk by chunk through :class:`~contradict.scorer.NLIScorer` (which
batches by length inside a chunk) and written out before the next chunk is read.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from contradict.scorer import NLIScorer, PairScore

FORMATS = ("jsonl", "csv")
STDIO = "-"
DEFAULT_CHUNK_SIZE = 4096
# Accepted names of the two statements, preferred first (sentence1/sentence2 is the SNLI/MNLI naming).
PREMISE_FIELDS = ("premise", "sentence1")
HYPOTHESIS_FIELDS = ("hypothesis", "sentence2")
ID_FIELD = "id"
SCORE_FIELDS = ("contradiction", "entailment", "neutral", "label", "is_contradiction")
_SUFFIX_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}
# Kept messages of skipped rows: enough to see what is wrong, bounded for million-row files.
MAX_KEPT_ERRORS = 20


class InvalidInputError(ValueError):
    """A row (or the whole input) cannot be read as a statement pair; names file and line.

    ``skippable`` is false for errors that make the rest of the input unreadable (no file, a bad
    CSV header), which ``skip_invalid`` cannot get past.
    """

    def __init__(self, source: str, line: int | None, reason: str, *, skippable: bool = True):
        self.source, self.line, self.reason, self.skippable = source, line, reason, skippable
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {reason}")


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

    def skip(self, error: InvalidInputError) -> None:
        self.skipped += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.append(str(error))


def source_name(path: str) -> str:
    return "<stdin>" if path == STDIO else path


def detect_format(path: str | None, explicit: str | None, *, default: str = "jsonl") -> str:
    """The format named explicitly, else the one the file suffix implies, else ``default`` for stdio."""
    if explicit:
        fmt = explicit.lower()
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {explicit!r}; use one of {', '.join(FORMATS)}")
        return fmt
    if path is None or path == STDIO:
        return default
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIX_FORMATS:
        raise ValueError(
            f"cannot tell the format of {path!r} from its suffix; name it (jsonl or csv) "
            f"or use one of {', '.join(sorted(_SUFFIX_FORMATS))}"
        )
    return _SUFFIX_FORMATS[suffix]


def _pick(fields: Mapping[str, Any], names: tuple[str, ...], source: str, line: int) -> str:
    name = next((candidate for candidate in names if candidate in fields), None)
    if name is None:
        raise InvalidInputError(source, line, f"missing field {' or '.join(map(repr, names))}")
    value = fields[name]
    if not isinstance(value, str):
        raise InvalidInputError(source, line, f"field {name!r} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInputError(source, line, f"field {name!r} is empty")
    return value


def parse_record(fields: Any, source: str, line: int) -> PairRecord:
    """Validate one row (a JSON object or a CSV row as a dict) into a :class:`PairRecord`."""
    if not isinstance(fields, Mapping):
        raise InvalidInputError(source, line, f"expected a JSON object, got {type(fields).__name__}")
    premise = _pick(fields, PREMISE_FIELDS, source, line)
    hypothesis = _pick(fields, HYPOTHESIS_FIELDS, source, line)
    record_id = fields.get(ID_FIELD)
    if record_id == "":
        record_id = None  # an empty CSV cell
    if record_id is not None and (isinstance(record_id, bool) or not isinstance(record_id, str | int)):
        raise InvalidInputError(
            source, line, f"field 'id' must be a string or an integer, got {type(record_id).__name__}"
        )
    return PairRecord(premise=premise, hypothesis=hypothesis, id=record_id)


def _jsonl_rows(stream: IO[bytes], source: str) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) per non-blank line; lines are decoded one by one for exact numbers."""
    for number, raw in enumerate(stream, start=1):
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            yield number, InvalidInputError(source, number, f"not valid UTF-8 ({error.reason})")
            continue
        if not text.strip():
            continue
        try:
            yield number, json.loads(text)
        except json.JSONDecodeError as error:
            reason = f"invalid JSON: {error.msg} (column {error.colno})"
            yield number, InvalidInputError(source, number, reason)
        except (ValueError, RecursionError) as error:  # e.g. an integer too long, nesting too deep
            yield number, InvalidInputError(source, number, f"invalid JSON: {error}")


def _csv_rows(stream: IO[bytes], source: str) -> Iterator[tuple[int, Any]]:
    """(first line number, row dict) per CSV record; quoted fields may span lines."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        reader = csv.DictReader(text)
        try:
            header = reader.fieldnames
        except (csv.Error, UnicodeDecodeError) as error:
            raise InvalidInputError(source, 1, f"unreadable CSV header ({error})", skippable=False) from error
        if header is None:
            return  # empty input
        for names in (PREMISE_FIELDS, HYPOTHESIS_FIELDS):
            if not any(name in header for name in names):
                raise InvalidInputError(
                    source,
                    1,
                    f"CSV header {header} lacks a {' or '.join(map(repr, names))} column",
                    skippable=False,
                )
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as error:
                # The reader cannot resynchronise after a broken record; no row after it is trustworthy.
                raise InvalidInputError(
                    source, reader.line_num + 1, f"unreadable CSV ({error})", skippable=False
                ) from error
            # line_num is where the record ends; quoted fields may have carried it over several lines.
            carried = sum(value.count("\n") for value in row.values() if isinstance(value, str))
            line = reader.line_num - carried
            if None in row or None in row.values():
                yield (
                    line,
                    InvalidInputError(
                        source,
                        line,
                        f"expected {len(header)} columns as in the header, got a different number",
                    ),
                )
                continue
            yield line, row
    finally:
        text.detach()  # leave the underlying stream (maybe stdin) to its owner


@contextlib.contextmanager
def _open_binary(path: str) -> Iterator[IO[bytes]]:
    if path == STDIO:
        yield sys.stdin.buffer
        return
    try:
        stream = open(path, "rb")  # noqa: SIM115 -- closed below; a context manager cannot span the yield
    except OSError as error:
        raise InvalidInputError(
            path, None, f"cannot open input ({error.strerror or error})", skippable=False
        ) from error
    with stream:
        yield stream


def read_pairs(
    path: str, fmt: str, *, skip_invalid: bool = False, stats: ReadStats | None = None
) -> Iterator[PairRecord]:
    """Lazily yield valid pairs from ``path`` (or stdin for ``-``).

    A malformed row raises :class:`InvalidInputError`; with ``skip_invalid`` it is counted in
    ``stats`` and skipped instead. Errors that make the rest unreadable (a broken CSV header or
    record) raise either way.
    """
    stats = stats if stats is not None else ReadStats()
    source = source_name(path)
    rows = _jsonl_rows if fmt == "jsonl" else _csv_rows
    with _open_binary(path) as stream:
        for line, value in rows(stream, source):
            try:
                if isinstance(value, InvalidInputError):
                    raise value
                record = parse_record(value, source, line)
            except InvalidInputError as error:
                if not skip_invalid:
                    raise
                stats.skip(error)
                continue
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
    scorer: NLIScorer,
    records: Iterable[PairRecord],
    *,
    symmetric: bool = False,
    batch_size: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Score ``records`` one chunk at a time; yields each chunk's output rows, in input order.

    ``progress`` receives the number of model rows per forward pass (two per pair when symmetric).
    """
    for chunk in chunked(records, chunk_size):
        scores = scorer.score(
            [record.pair for record in chunk], symmetric=symmetric, batch_size=batch_size, progress=progress
        )
        yield [result_row(record, score) for record, score in zip(chunk, scores, strict=True)]


class ResultWriter:
    """Write result rows as JSONL or CSV to a file (atomically, on success) or to stdout.

    A file is written to a temporary neighbour and renamed at the end, so a run that fails half
    way never leaves a truncated file that looks complete.
    """

    def __init__(self, path: str | None, fmt: str):
        self.path = None if path in (None, STDIO) else Path(path)
        self.fmt = fmt
        self.written = 0
        self._csv: csv.DictWriter | None = None
        self._tmp: Path | None = None
        if self.path is None:
            self._stream: IO[str] = sys.stdout
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent)
            self._tmp = Path(tmp)
            self._stream = os.fdopen(handle, "w", encoding="utf-8", newline="")

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._tmp is None:
            if exc_type is None:
                self._finish_csv()
            self._stream.flush()
            return
        try:
            if exc_type is None:
                self._finish_csv()
        finally:
            self._stream.close()
            if exc_type is None:
                os.replace(self._tmp, self.path)
            else:
                self._tmp.unlink(missing_ok=True)

    def _finish_csv(self) -> None:
        if self.fmt == "csv" and self._csv is None:
            self._open_csv(has_id=False)  # an empty result still gets its header

    def _open_csv(self, has_id: bool) -> csv.DictWriter:
        columns = ([ID_FIELD] if has_id else []) + ["premise", "hypothesis", *SCORE_FIELDS]
        self._csv = csv.DictWriter(self._stream, fieldnames=columns, lineterminator="\n")
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
            writer.writerow({**row, "is_contradiction": "true" if row["is_contradiction"] else "false"})
