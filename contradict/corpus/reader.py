"""Read a corpus of articles from a folder, a JSONL file, a CSV file or stdin.

Every bad row becomes a :class:`CorpusError` naming the file and line, because users feed
hand-made exports with thousands of rows and need to find the one that broke; with
``skip_invalid`` the bad rows are counted and reported instead of stopping the run.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from contradict.corpus.errors import CorpusError

TEXT_SUFFIXES = (".txt", ".md")
OPTIONAL_FIELDS = ("title", "source", "url", "published")
REQUIRED_FIELDS = ("id", "text")
MAX_TITLE_CHARS = 200


@dataclass(frozen=True)
class Article:
    id: str
    text: str
    title: str = ""
    source: str = ""
    url: str = ""
    published: str = ""


@dataclass
class ReadResult:
    articles: list[Article]
    skipped: list[CorpusError] = field(default_factory=list)


@dataclass(frozen=True)
class Limits:
    max_documents: int = 100_000
    max_document_chars: int = 1_000_000


def _field_text(value: object, name: str, file: str, line: int | None) -> str:
    """Optional metadata may be missing or null; anything else must be a scalar."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise CorpusError(f"field {name!r} must be a string, got {type(value).__name__}", file, line)
    return str(value).strip()


def make_article(record: dict, file: str, line: int | None, limits: Limits) -> Article:
    """Validate one record (from JSONL, CSV or a folder) into an :class:`Article`."""
    for name in REQUIRED_FIELDS:
        if record.get(name) is None:
            raise CorpusError(f"missing field {name!r}", file, line)
    raw_id = record["id"]
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        kind = type(raw_id).__name__
        raise CorpusError(f"field 'id' must be a string or an integer, got {kind}", file, line)
    article_id = str(raw_id).strip()
    if not article_id:
        raise CorpusError("field 'id' is empty", file, line)
    text = record["text"]
    if not isinstance(text, str):
        raise CorpusError(f"field 'text' must be a string, got {type(text).__name__}", file, line)
    if not text.strip():
        raise CorpusError("field 'text' is empty", file, line)
    if len(text) > limits.max_document_chars:
        raise CorpusError(
            f"field 'text' has {len(text)} characters; the limit is {limits.max_document_chars} "
            "(corpus_max_document_chars)",
            file,
            line,
        )
    extra = {name: _field_text(record.get(name), name, file, line) for name in OPTIONAL_FIELDS}
    return Article(id=article_id, text=text, **extra)


def _jsonl_records(handle: TextIO, file: str) -> Iterator[tuple[int, dict | CorpusError]]:
    for number, raw in enumerate(handle, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield number, CorpusError(f"invalid JSON: {exc.msg} (column {exc.colno})", file, number)
            continue
        if not isinstance(record, dict):
            yield number, CorpusError(f"expected a JSON object, got {type(record).__name__}", file, number)
            continue
        yield number, record


def _csv_records(handle: TextIO, file: str) -> Iterator[tuple[int, dict | CorpusError]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.DictReader(handle)
    header = reader.fieldnames
    if not header:
        raise CorpusError("empty CSV file; expected a header with columns id,text", file, 1)
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if missing:
        raise CorpusError(
            f"CSV header lacks column {missing[0]!r}; found {', '.join(header)}; expected id,text"
            f"[,{','.join(OPTIONAL_FIELDS)}]",
            file,
            1,
        )
    start = reader.line_num + 1
    try:
        for row in reader:
            if None in row:
                yield start, CorpusError(f"row has more fields than the header ({len(header)})", file, start)
            else:
                yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        raise CorpusError(f"malformed CSV: {exc}", file, reader.line_num) from exc


def _folder_records(folder: Path) -> Iterator[tuple[str, dict | CorpusError]]:
    """One record per text file; the id is the relative path so it stays stable across machines."""
    files = sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and path.suffix.lower() in TEXT_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )
    for path in files:
        relative = path.relative_to(folder).as_posix()
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            yield str(path), CorpusError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", str(path))
            continue
        yield str(path), {"id": relative, "text": text, "title": _title_of(text, path)}


def _title_of(text: str, path: Path) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:MAX_TITLE_CHARS]
    return path.stem


def _open_text(path: Path) -> TextIO:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read: {exc.strerror}", str(path)) from exc
    try:
        return io.StringIO(data.decode("utf-8-sig"), newline="")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", str(path)) from exc


def read_corpus(
    path: str | Path,
    *,
    skip_invalid: bool = False,
    limits: Limits | None = None,
    stdin: TextIO | None = None,
) -> ReadResult:
    """Read every article; ``'-'`` reads JSONL from ``stdin`` (default ``sys.stdin``)."""
    limits = limits or Limits()
    if str(path) == "-":
        file, records = "<stdin>", _jsonl_records(stdin or sys.stdin, "<stdin>")
    else:
        path = Path(path)
        file = str(path)
        if path.is_dir():
            records = _folder_records(path)
        elif not path.exists():
            raise CorpusError("no such file or folder", file)
        elif path.suffix.lower() == ".csv":
            records = _csv_records(_open_text(path), file)
        elif path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
            records = _jsonl_records(_open_text(path), file)
        else:
            raise CorpusError("unknown corpus format; expected a folder, .jsonl, .csv or '-' (stdin)", file)

    result = ReadResult(articles=[])
    first_seen: dict[str, str] = {}
    for where, record in records:
        # Folder records are located by their own file, the others by line in one file.
        row_file, line = (where, None) if isinstance(where, str) else (file, where)
        try:
            if isinstance(record, CorpusError):
                raise record
            article = make_article(record, row_file, line, limits)
            if article.id in first_seen:
                first = first_seen[article.id]
                raise CorpusError(f"duplicate id {article.id!r} (first at {first})", row_file, line)
        except CorpusError as error:
            if not skip_invalid:
                raise
            result.skipped.append(error)
            continue
        first_seen[article.id] = f"line {line}" if line is not None else row_file
        result.articles.append(article)
        if len(result.articles) > limits.max_documents:
            raise CorpusError(f"more than {limits.max_documents} articles (corpus_max_documents)", file)
    return result


def require_articles(articles: list[Article], minimum: int, file: str) -> None:
    """Contradictions need two articles (one with ``within_article``): say so rather than write nothing."""
    if not articles:
        raise CorpusError("the corpus holds no articles", file)
    if len(articles) < minimum:
        raise CorpusError(
            f"the corpus holds {len(articles)} article; at least {minimum} are needed to compare "
            "(or use --within-article)",
            file,
        )
