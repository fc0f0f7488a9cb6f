"""Read a corpus of articles from a folder, a JSONL file, a CSV file or stdin.

Files and stdin are read by :mod:`contradict.records`; this module adds folders, the article rules
and which line of an article is its headline. A headline is context for the report, not a claim to
score ("Harbour Bridge marks its anniversary" contradicts nothing), so :attr:`Article.headline_end`
marks it and :func:`statement_view` hides it from segmentation. A text file has no title field, so
its first line is a headline only when the file names it one (a ``# Heading``) or when it looks like
one: short, without a sentence end. A first line that is a 60-word paragraph is body text.

Every bad row becomes a :class:`CorpusError` naming the file and line, because users feed
hand-made exports with thousands of rows and need to find the one that broke; with
``skip_invalid`` the bad rows are counted and reported instead of stopping the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
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
    sniff_stdin_format,
    validated,
)
from contradict.settings import CORPUS_DEFAULTS

TEXT_SUFFIXES = (".txt", ".md")
OPTIONAL_FIELDS = ("title", "source", "url", "published")
REQUIRED_FIELDS = ("id", "text")
REQUIRED_COLUMNS = tuple((name,) for name in REQUIRED_FIELDS)
# A first line is taken for a headline only within these bounds, and without a sentence end.
MAX_HEADLINE_CHARS = 200
MAX_HEADLINE_WORDS = 20
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_FIRST_LINE = re.compile(r"[^\S\n]*(\S[^\n]*)")


@dataclass(frozen=True)
class Article:
    id: str
    text: str
    title: str = ""
    source: str = ""
    url: str = ""
    published: str = ""
    # Characters at the start of ``text`` that are the headline (context, not statements); 0: none.
    headline_end: int = 0


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
    return Article(id=article_id, text=text, headline_end=headline_end(text, extra["title"]), **extra)


def _first_line(text: str) -> re.Match | None:
    """The first non-blank line; group 1 is its text, without leading blanks."""
    return _FIRST_LINE.search(text)


def _bare(line: str) -> str:
    return line.strip().lstrip("#").strip()


def headline_end(text: str, title: str) -> int:
    """Where the headline at the top of ``text`` ends: the first line when it is the ``title`` (an
    export that repeats the title in the text, or a text file's headline), else 0."""
    first = _first_line(text)
    if first is None or not title or _bare(first.group(1)) != _bare(title):
        return 0
    return first.end()


def looks_like_headline(line: str) -> bool:
    """Short, and no sentence end: "Harbour Bridge marks its anniversary", not a paragraph."""
    line = line.strip()
    return (
        0 < len(line) <= MAX_HEADLINE_CHARS
        and len(line.split()) <= MAX_HEADLINE_WORDS
        and not _SENTENCE_END.search(line)
    )


def text_file_title(text: str) -> str:
    """A text file's title: its first line when it is named one (``# Heading``) or looks like one
    and more text follows; "" otherwise (its first line is then body text, and scored)."""
    first = _first_line(text)
    if first is None or not text[first.end() :].strip():
        return ""
    line = first.group(1)
    if line.startswith("#") or looks_like_headline(line):
        return _bare(line)
    return ""


def statement_view(article: Article) -> Article:
    """The article as segmentation should see it: the headline blanked out (same length, line
    breaks kept), so every statement offset still points into the original text."""
    if not article.headline_end:
        return article
    head = re.sub(r"[^\n]", " ", article.text[: article.headline_end])
    return replace(article, text=head + article.text[article.headline_end :])


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
            relative.encode("utf-8")
        except UnicodeEncodeError:  # a name in another encoding: it cannot be an id in UTF-8 output
            shown = str(path).encode("utf-8", "backslashreplace").decode()
            yield Row(shown, None, CorpusError("file name is not UTF-8", shown))
            continue
        try:
            # Bytes decoded as they are (no newline translation): statement offsets index the file
            # itself, CRLF line ends included.
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            yield Row(str(path), None, CorpusError(not_utf8(exc), str(path)))
            continue
        yield Row(str(path), None, {"id": relative, "text": text, "title": text_file_title(text)})


def read_corpus(
    path: str | Path,
    *,
    skip_invalid: bool = False,
    limits: Limits | None = None,
    stdin: IO | None = None,
) -> ReadResult:
    """Read every article; ``'-'`` reads JSONL or CSV (told from the content) from ``stdin``
    (default ``sys.stdin``)."""
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
        fmt = sniff_stdin_format(stdin)
        return read_records(STDIO, fmt, required=REQUIRED_COLUMNS, stdin=stdin)
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
