"""The record reader registry: every format yields records, bad rows become located errors."""

from __future__ import annotations

import io

import pytest

from contradict.records import (
    READERS,
    STDIN_NAME,
    SUFFIXES,
    RecordError,
    Row,
    format_of,
    read_records,
    validated,
)

# One sample per registered format: the same two records, with a blank line between them.
SAMPLES = {
    "jsonl": ('{"id": "a", "text": "One."}\n\n{"id": "b", "text": "Two,\\nlines."}\n', [1, 3]),
    "csv": ('id,text\na,One.\n\nb,"Two,\nlines."\n', [2, 4]),
}
RECORDS = [{"id": "a", "text": "One."}, {"id": "b", "text": "Two,\nlines."}]


def values(rows: list[Row]) -> list:
    return [row.value for row in rows]


def test_every_registered_format_has_a_suffix_and_a_sample():
    assert set(SUFFIXES.values()) == set(READERS) == set(SAMPLES)


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_each_format_yields_records_located_by_line(tmp_path, fmt):
    content, lines = SAMPLES[fmt]
    path = tmp_path / f"records.{fmt}"
    path.write_text(content, encoding="utf-8")
    rows = list(read_records(str(path), fmt))
    assert values(rows) == RECORDS
    assert [(row.file, row.line) for row in rows] == [(str(path), line) for line in lines]


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_each_format_reads_stdin_text_or_bytes_with_a_bom(fmt):
    content, _ = SAMPLES[fmt]
    for stream in (io.StringIO("\ufeff" + content), io.BytesIO(("\ufeff" + content).encode())):
        rows = list(read_records("-", fmt, stdin=stream))
        assert values(rows) == RECORDS
        assert {row.file for row in rows} == {STDIN_NAME}


@pytest.mark.parametrize(
    ("fmt", "content", "line", "reason"),
    [
        ("jsonl", '{"id": "a"}\n{"id": oops}\n', 2, "invalid JSON: Expecting value (column 8)"),
        ("jsonl", '{"id": "a"}\n\n["id"]\n', 3, "expected a JSON object, got list"),
        ("jsonl", '{"id": "a"}\n' + "[" * 100_000 + "\n", 2, "invalid JSON"),
        ("csv", "id,text\na,b\n\nc,d,e\n", 4, "expected 2 columns as in the header, got 3"),
    ],
    ids=["bad-json", "not-an-object", "too-deep", "extra-column"],
)
def test_a_broken_row_is_a_located_error_and_reading_goes_on(tmp_path, fmt, content, line, reason):
    path = tmp_path / f"bad.{fmt}"
    path.write_text(content + ("x,y\n" if fmt == "csv" else '{"id": "last"}\n'))
    rows = list(read_records(str(path), fmt))
    error = next(row.value for row in rows if isinstance(row.value, RecordError))
    assert (error.file, error.line, error.skippable) == (str(path), line, True)
    assert str(error).startswith(f"{path}, line {line}: {reason}")
    assert not isinstance(rows[-1].value, RecordError)  # the rows after it are still read


def test_a_short_csv_row_lacks_its_last_fields(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text('id,text,title\n"a\nb",c\nd\n')
    rows = list(read_records(str(path), "csv"))
    assert values(rows) == [{"id": "a\nb", "text": "c"}, {"id": "d"}]  # the validators decide
    assert [row.line for row in rows] == [2, 4]


def test_a_line_that_is_not_utf8_is_located(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"id": "a"}\n{"id": "caf\xe9"}\n')
    error = list(read_records(str(path), "jsonl"))[1].value
    assert isinstance(error, RecordError) and error.line == 2
    assert "line 2: not UTF-8 text (invalid continuation byte" in str(error)


def test_csv_header_without_a_required_column_stops_the_read(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,body\n1,x\n")
    with pytest.raises(RecordError) as caught:
        list(read_records(str(path), "csv", required=[("id",), ("text", "body_text")]))
    assert (caught.value.line, caught.value.skippable) == (1, False)
    assert (
        str(caught.value) == f"{path}, line 1: CSV header ['id', 'body'] lacks a 'text' or 'body_text' column"
    )
    # JSONL has no header: a missing field is the validator's to report, row by row.
    assert values(
        list(read_records("-", "jsonl", required=[("text",)], stdin=io.StringIO('{"id": 1}\n')))
    ) == [{"id": 1}]


def test_empty_input_has_no_records(tmp_path):
    for fmt in READERS:
        path = tmp_path / f"empty.{fmt}"
        path.write_text("")
        assert list(read_records(str(path), fmt, required=[("text",)])) == []


def test_a_missing_file_is_refused_with_its_name(tmp_path):
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(RecordError, match="cannot open input") as caught:
        list(read_records(str(missing), "jsonl"))
    assert (caught.value.file, caught.value.line, caught.value.skippable) == (str(missing), None, False)


@pytest.mark.parametrize(
    ("path", "fmt"),
    [("a.jsonl", "jsonl"), ("a.NDJSON", "jsonl"), ("a.json", "jsonl"), ("dir/a.csv", "csv"), ("-", "jsonl")],
)
def test_format_from_the_suffix(path, fmt):
    assert format_of(path) == fmt


def test_unknown_suffix_or_format_is_refused_clearly():
    with pytest.raises(RecordError) as caught:
        format_of("notes.xml")
    message = str(caught.value)
    assert message.startswith("notes.xml: cannot tell the format from the suffix '.xml'")
    assert all(suffix in message for suffix in SUFFIXES) and "jsonl or csv" in message
    assert format_of("notes.xml", "CSV") == "csv"  # a named format wins over the suffix
    with pytest.raises(RecordError, match="unknown format 'xml'; use one of jsonl, csv"):
        format_of("notes.csv", "xml")


def test_validated_stops_at_a_bad_row_or_skips_it():
    rows = [
        Row("f", 1, {"n": 1}),
        Row("f", 2, RecordError("invalid JSON", "f", 2)),
        Row("f", 3, {"n": -3}),
        Row("f", 4, {"n": 4}),
    ]

    def make(record, file, line):
        if record["n"] < 0:
            raise RecordError("negative", file, line)
        return record["n"]

    with pytest.raises(RecordError, match="^f, line 2: invalid JSON$"):
        list(validated(rows, make))
    skipped: list[RecordError] = []
    assert list(validated(rows, make, skip_invalid=True, skipped=skipped.append)) == [1, 4]
    assert [str(error) for error in skipped] == ["f, line 2: invalid JSON", "f, line 3: negative"]

    fatal = [Row("f", 1, RecordError("unreadable CSV", "f", 1, skippable=False))]
    with pytest.raises(RecordError, match="unreadable CSV"):
        list(validated(fatal, make, skip_invalid=True))


def test_error_location_format():
    assert str(RecordError("bad", "a.csv", 3)) == "a.csv, line 3: bad"
    assert str(RecordError("bad", "a.csv")) == "a.csv: bad"
    assert str(RecordError("bad", line=3)) == "line 3: bad"
    assert str(RecordError("bad")) == "bad"
