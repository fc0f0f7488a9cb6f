"""Read a corpus of articles from a folder, a JSONL file, a CSV file or stdin.

Files and stdin are read by :mod:`contradict.records`; this module adds folders and the article
rules. Every bad row becomes a :class:`CorpusError` naming the file and line, because users feed
hand-made exports with thousands of rows and need to find the one that broke; with
``skip_invalid`` the bad rows are counted and reported instead of stopping the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from contradict.corpus.errors import CorpusError
from contradict.records import (
    STDIN_NAME,
    STDIO,
    SUFFIXES,
    Record,
    Row,
    format_of,
    not_utf8,
    read_records,
    validated,
)
from contradict.settings import CORPUS_DEFAULTS

TEXT_SUFFIXES = (".txt", ".md")
OPTIONAL_FIELDS = ("title", "source", "url", "published")
REQUIRED_FIELDS = ("id", "text")
REQUIRED_COLUMNS = tuple((name,) for name in REQUIRED_FIELDS)
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
    """Corpus size limits; defaults are the settings' (``corpus_max_documents``,
    ``corpus_max_document_chars``)."""

    max_documents: int = CORPUS_DEFAULTS.max_documents
    max_document_chars: int = CORPUS_DEFAULTS.max_document_chars


def _field_text(value: object, name: str, file: str, line: int | None) -> str:
    """Optional metadata may be missing or null; anything else must be a scalar."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise CorpusError(f"field {name!r} must be a string, got {type(value).__name__}", file, line)
    return str(value).strip()


def make_article(record: Record, file: str, line: int | None, limits: Limits) -> Article:
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


def _folder_records(folder: Path) -> Iterator[Row]:
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
            yield Row(str(path), None, CorpusError(not_utf8(exc), str(path)))
            continue
        yield Row(str(path), None, {"id": relative, "text": text, "title": _title_of(text, path)})


def _title_of(text: str, path: Path) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:MAX_TITLE_CHARS]
    return path.stem


def read_corpus(
    path: str | Path,
    *,
    skip_invalid: bool = False,
    limits: Limits | None = None,
    stdin: IO | None = None,
) -> ReadResult:
    """Read every article; ``'-'`` reads JSONL from ``stdin`` (default ``sys.stdin``)."""
    limits = limits or Limits()
    file = STDIN_NAME if str(path) == STDIO else str(path)
    rows = _rows(path, stdin)
    result = ReadResult(articles=[])
    first_seen: dict[str, str] = {}

    def accept(record: Record, row_file: str, line: int | None) -> Article:
        article = make_article(record, row_file, line, limits)
        if article.id in first_seen:
            first = first_seen[article.id]
            raise CorpusError(f"duplicate id {article.id!r} (first at {first})", row_file, line)
        first_seen[article.id] = f"line {line}" if line is not None else row_file
        return article

    for article in validated(rows, accept, skip_invalid=skip_invalid, skipped=result.skipped.append):
        result.articles.append(article)
        if len(result.articles) > limits.max_documents:
            raise CorpusError(
                f"more than {limits.max_documents} articles (corpus_max_documents)", file, skippable=False
            )
    return result


def _rows(path: str | Path, stdin: IO | None) -> Iterator[Row]:
    """Records of a folder (one per text file), of stdin (JSONL) or of a file in a known format."""
    if str(path) == STDIO:
        return read_records(STDIO, "jsonl", required=REQUIRED_COLUMNS, stdin=stdin)
    path = Path(path)
    if path.is_dir():
        return _folder_records(path)
    if not path.exists():
        raise CorpusError("no such file or folder", str(path), skippable=False)
    try:
        fmt = format_of(str(path))
    except CorpusError as error:
        expected = f"a folder, '-' (stdin) or a file ending in {', '.join(SUFFIXES)}"
        raise CorpusError(
            f"unknown corpus format; expected {expected}", str(path), skippable=False
        ) from error
    return read_records(str(path), fmt, required=REQUIRED_COLUMNS)


def require_articles(articles: list[Article], minimum: int, file: str) -> None:
    """Contradictions need two articles (one with ``within_article``): say so rather than write nothing."""
    if not articles:
        raise CorpusError("the corpus holds no articles", file, skippable=False)
    if len(articles) < minimum:
        raise CorpusError(
            f"the corpus holds {len(articles)} article; at least {minimum} are needed to compare "
            "(or use --within-article)",
            file,
            skippable=False,
        )
