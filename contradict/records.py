"""Read records (one dict per row) from JSONL/CSV files or stdin: the one reader behind every command.

A format is one reader function in :data:`READERS`; :data:`SUFFIXES` maps file suffixes to formats.
Readers yield :class:`Row` values lazily, each either a record or a :class:`RecordError` located by
file and line, so callers can stop at a bad row or skip it (``skip_invalid``) and read on. What a
record must hold is not checked here: pair validation lives in :mod:`contradict.pairs_io`, article
validation in :mod:`contradict.corpus.reader`, both on top of :func:`read_records` and
:func:`validated`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeVar

STDIO = "-"
STDIN_NAME = "<stdin>"
Record = dict[str, Any]
# Fields a record must have, each as its accepted names (preferred first): checked up front where a
# format has a header (CSV), so a wrong header stops the read even with skip_invalid.
Required = Sequence[tuple[str, ...]]
T = TypeVar("T")


class RecordError(ValueError):
    """Input that cannot be read or validated, located as ``file, line N: reason``.

    ``line`` is None for errors about a whole file. ``skippable`` is false for errors that make the
    rest of the input unreadable (no file, a bad CSV header or record), which ``skip_invalid``
    cannot get past.
    """

    def __init__(
        self, reason: str, file: str | None = None, line: int | None = None, *, skippable: bool = True
    ):
        self.reason, self.file, self.line, self.skippable = reason, file, line, skippable
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where = f"{where}, line {self.line}" if where else f"line {self.line}"
        return f"{where}: {self.reason}" if where else self.reason


class Row(NamedTuple):
    """One record, or the located error that stands in its place."""

    file: str
    line: int | None
    value: Record | RecordError


def not_utf8(error: UnicodeDecodeError) -> str:
    return f"not UTF-8 text ({error.reason} at byte {error.start})"


def read_jsonl(stream: IO[bytes], source: str, required: Required = ()) -> Iterator[Row]:
    """One JSON object per non-blank line; lines are decoded one by one so every error has its line."""
    for number, raw in enumerate(stream, start=1):
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            yield Row(source, number, RecordError(not_utf8(error), source, number))
            continue
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            reason = f"invalid JSON: {error.msg} (column {error.colno})"
            yield Row(source, number, RecordError(reason, source, number))
            continue
        except RecursionError:
            yield Row(source, number, RecordError("invalid JSON: nested too deeply", source, number))
            continue
        except ValueError as error:  # Python's cap on integer digits (CVE-2020-10735)
            yield Row(source, number, RecordError(f"invalid JSON: {_number_reason(error)}", source, number))
            continue
        if not isinstance(value, dict):
            reason = f"expected a JSON object, got {type(value).__name__}"
            yield Row(source, number, RecordError(reason, source, number))
            continue
        bad = _unencodable_field(value) if "\\u" in text else None
        if bad is not None:
            reason = f"field {bad!r} holds an escaped lone surrogate (\\ud800-\\udfff), not Unicode text"
            yield Row(source, number, RecordError(reason, source, number))
            continue
        yield Row(source, number, value)


def _number_reason(error: ValueError) -> str:
    """A readable reason for the integer-digits cap, which otherwise names a Python function."""
    digits = re.search(r"value has (\d+) digits", str(error))
    if digits is None:
        return str(error)
    return f"a number with {digits.group(1)} digits (at most {sys.get_int_max_str_digits()})"


def _unencodable_field(record: Record) -> str | None:
    """The first top-level field holding a string that is not encodable as UTF-8, else None.

    JSON can escape a lone surrogate (``"\\ud800"``); Python decodes it into a ``str`` that every
    later step (tokenizers, hashing, writing UTF-8) refuses with a traceback, so such a row is bad
    input, reported here like any other. Nested values are walked without recursion.
    """
    for name, value in record.items():
        stack = [name, value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return name
            elif isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return None


def read_csv(stream: IO[bytes], source: str, required: Required = ()) -> Iterator[Row]:
    """One record per CSV row, keyed by the header; quoted fields may span lines, rows are located
    by the line they start on.

    Bytes that are not UTF-8 are decoded to lone surrogates (``surrogateescape``) and reported by
    the row that holds them: a strict decoder fails a whole chunk ahead of the reader, so its error
    named neither the right line nor a byte offset in the file, and ended the read.
    """
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # article texts can be long
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        # strict: an unterminated quote is an error, not a field that swallows every later row.
        reader = csv.reader(text, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as error:
            raise RecordError(f"unreadable CSV header ({error})", source, 1, skippable=False) from error
        if header is None:
            return  # empty input
        if (bad := _escaped_byte(header)) is not None:
            reason = f"unreadable CSV header (not UTF-8 text: byte 0x{bad:02x})"
            raise RecordError(reason, source, 1, skippable=False)
        for names in required:
            if not any(name in header for name in names):
                reason = f"CSV header {header} lacks a {' or '.join(map(repr, names))} column"
                raise RecordError(reason, source, 1, skippable=False)
        while True:
            line = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                # The reader cannot resynchronise after a broken record; no row after it is trustworthy.
                reason = _csv_reason(error)
                raise RecordError(f"unreadable CSV ({reason})", source, line, skippable=False) from error
            if not fields:
                continue  # a blank line
            if (bad := _escaped_byte(fields)) is not None:
                yield Row(source, line, RecordError(f"not UTF-8 text (byte 0x{bad:02x})", source, line))
                continue
            if len(fields) > len(header):
                reason = f"expected {len(header)} columns as in the header, got {len(fields)}"
                yield Row(source, line, RecordError(reason, source, line))
                continue
            yield Row(source, line, dict(zip(header, fields)))  # a short row lacks its last fields
    finally:
        text.detach()  # leave the underlying stream (maybe stdin) to its owner


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of a byte that is not UTF-8


def _escaped_byte(fields: list[str]) -> int | None:
    """The first byte of ``fields`` that was not UTF-8, else None."""
    for value in fields:
        if (found := _ESCAPED_BYTE.search(value)) is not None:
            return ord(found.group()) - 0xDC00
    return None


def _csv_reason(error: csv.Error) -> str:
    reason = str(error)
    if reason == "unexpected end of data":
        return "a quoted field is never closed: unterminated quote"
    return reason


READERS: dict[str, Callable[[IO[bytes], str, Required], Iterator[Row]]] = {
    "jsonl": read_jsonl,
    "csv": read_csv,
}
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}


def source_name(path: str) -> str:
    return STDIN_NAME if path == STDIO else path


def format_of(path: str | None, explicit: str | None = None, *, default: str = "jsonl") -> str:
    """The format named explicitly, else the one the file suffix implies, else ``default`` for stdio."""
    if explicit:
        fmt = explicit.lower()
        if fmt not in READERS:
            raise RecordError(
                f"unknown format {explicit!r}; use one of {', '.join(READERS)}", skippable=False
            )
        return fmt
    if path is None or path == STDIO:
        return default
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise RecordError(
            f"cannot tell the format from the suffix {suffix!r}; name it ({' or '.join(READERS)}) "
            f"or use one of {', '.join(sorted(SUFFIXES))}",
            path,
            skippable=False,
        )
    return SUFFIXES[suffix]


SNIFF_BYTES = 4096


def sniff_stdin_format(stdin: IO | None = None) -> str:
    """The format of what waits on stdin, told from its first non-blank character without consuming
    it: ``{`` (or ``[``) starts JSONL, anything else is taken as a CSV header. Piped input has no
    suffix to go by, and ``cat pairs.csv | contradict score -`` should just work."""
    stream = stdin if stdin is not None else sys.stdin
    head = _peek(getattr(stream, "buffer", None) or stream)
    text = head.decode("utf-8", "ignore") if isinstance(head, bytes) else head
    first = text.lstrip("\ufeff \t\r\n")[:1]
    return "jsonl" if first in ("", "{", "[") else "csv"


def _peek(stream: IO) -> bytes | str:
    """The first bytes of ``stream``, left unread: a buffered pipe peeks, a seekable one rewinds."""
    peek = getattr(stream, "peek", None)
    if peek is not None:
        return peek(SNIFF_BYTES)[:SNIFF_BYTES]
    if stream.seekable():
        position = stream.tell()
        head = stream.read(SNIFF_BYTES)
        stream.seek(position)
        return head
    return b""


@contextlib.contextmanager
def open_binary(path: str, stdin: IO | None = None) -> Iterator[IO[bytes]]:
    """``path`` opened for reading bytes; ``-`` is ``stdin`` (default ``sys.stdin``), whose binary
    buffer is used when it has one (a text stream without, like ``io.StringIO``, is read whole)."""
    if path == STDIO:
        stream = stdin if stdin is not None else sys.stdin
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            yield buffer
        elif isinstance(stream, io.TextIOBase):
            yield io.BytesIO(stream.read().encode("utf-8"))
        else:
            yield stream
        return
    try:
        handle = open(path, "rb")  # noqa: SIM115 -- closed below; a context manager cannot span the yield
    except OSError as error:
        reason = f"cannot open input ({error.strerror or error})"
        raise RecordError(reason, path, skippable=False) from error
    with handle:
        yield handle


def read_records(path: str, fmt: str, *, required: Required = (), stdin: IO | None = None) -> Iterator[Row]:
    """Lazily read ``path`` (``-``: stdin) in format ``fmt``; errors that end the read are raised."""
    with open_binary(path, stdin) as stream:
        yield from READERS[fmt](stream, source_name(path), required)


def validated(
    rows: Iterable[Row],
    make: Callable[[Record, str, int | None], T],
    *,
    skip_invalid: bool = False,
    skipped: Callable[[RecordError], None] = lambda error: None,
) -> Iterator[T]:
    """``make(record, file, line)`` for every row; a bad row raises its :class:`RecordError`, or with
    ``skip_invalid`` goes to ``skipped`` instead. Errors that end the read raise either way."""
    for row in rows:
        try:
            if isinstance(row.value, RecordError):
                raise row.value
            item = make(row.value, row.file, row.line)
        except RecordError as error:
            if not (skip_invalid and error.skippable):
                raise
            skipped(error)
            continue
        yield item
