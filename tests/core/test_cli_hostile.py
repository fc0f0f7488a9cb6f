"""Hostile input files for both commands: each must end with exit status 2 and one clear line on
stderr (``error: ...``), never a traceback, and must leave no output behind.

The cases are the ones a reliability probe found (issue 10): nesting 100k deep, an escaped lone
surrogate (which the tokenizer and the checkpoint hashing refuse with a traceback), a 5,000-digit
integer, an unterminated CSV quote (which silently merged rows), an output path that is the input
file; plus their neighbours (bytes that are not UTF-8, a JSON array, NaN, a float id, a duplicate id).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contradict.cli import app

GOOD_PAIR = json.dumps({"premise": "The museum opened in 1998.", "hypothesis": "The museum opened in 2005."})
GOOD_ARTICLE = json.dumps({"id": "a", "text": "The bridge opened to traffic in 1932, officials said."})
DEEP = "[" * 100_000 + "]" * 100_000


def _bytes(text: str) -> bytes:
    return text.encode("utf-8")


# name -> (file name, content, a fragment the one error line must hold)
SCORE_FILES = {
    "nested-100k-deep": (
        "p.jsonl",
        _bytes(f'{{"premise": {DEEP}, "hypothesis": "x"}}\n'),
        "nested too deeply",
    ),
    "lone-surrogate": (
        "p.jsonl",
        _bytes(GOOD_PAIR + '\n{"premise": "abc \\ud800 def", "hypothesis": "The sky is blue."}\n'),
        "line 2: field 'premise' holds an escaped lone surrogate",
    ),
    "surrogate-in-id": (
        "p.jsonl",
        _bytes('{"id": "\\udfff", "premise": "a b c", "hypothesis": "d e f"}\n'),
        "field 'id' holds an escaped lone surrogate",
    ),
    "5000-digit-id": (
        "p.jsonl",
        _bytes('{"id": ' + "9" * 5000 + ', "premise": "abc", "hypothesis": "def"}\n'),
        "a number with 5000 digits",
    ),
    "unterminated-quote": (
        "p.csv",
        _bytes('premise,hypothesis\nok one,ok two\n"a b c,d e f\nx y z,u v w\n'),
        "line 3: unreadable CSV (a quoted field is never closed",
    ),
    "not-utf8": ("p.jsonl", b'{"premise": "caf\xe9", "hypothesis": "x"}\n', "not UTF-8"),
    # Found at its own line (a strict decoder failed a chunk ahead of the reader and said line 1).
    "not-utf8-csv": (
        "p.csv",
        b"premise,hypothesis\na b,c d\ne f,g h\ni j,caf\xe9\n",
        "line 4: not UTF-8 text (byte 0xe9)",
    ),
    "random-bytes": ("p.jsonl", bytes(range(256)) * 4, "line 1"),
    "json-array": ("p.jsonl", _bytes("[1, 2, 3]\n"), "expected a JSON object, got list"),
    "extra-csv-columns": ("p.csv", _bytes("premise,hypothesis\na,b,c\n"), "expected 2 columns"),
    "nan-premise": ("p.jsonl", _bytes('{"premise": NaN, "hypothesis": "x"}\n'), "must be a string"),
}

CORPUS_FILES = {
    "nested-100k-deep": ("c.jsonl", _bytes(f'{GOOD_ARTICLE}\n{{"id": "b", "text": {DEEP}}}\n'), "line 2"),
    "lone-surrogate": (
        "c.jsonl",
        _bytes(GOOD_ARTICLE + '\n{"id": "b", "text": "Some text long enough \\ud800 to count."}\n'),
        "line 2: field 'text' holds an escaped lone surrogate",
    ),
    "surrogate-in-title": (
        "c.jsonl",
        _bytes(GOOD_ARTICLE + '\n{"id": "b", "text": "Enough words in here.", "title": "\\ud83d"}\n'),
        "field 'title' holds an escaped lone surrogate",
    ),
    "5000-digit-id": (
        "c.jsonl",
        _bytes('{"id": ' + "9" * 5000 + ', "text": "abc def ghi jkl."}\n' + GOOD_ARTICLE + "\n"),
        "a number with 5000 digits",
    ),
    "unterminated-quote": (
        "c.csv",
        _bytes('id,text\na,"The bridge opened in 1932.\nb,The bridge never opened.\n'),
        "line 2: unreadable CSV (a quoted field is never closed",
    ),
    "random-bytes": ("c.jsonl", bytes(range(256)) * 4, "line 1"),
    "float-id": ("c.jsonl", _bytes('{"id": 1.5, "text": "x y z w."}\n'), "field 'id' must be a string"),
    "duplicate-id": ("c.jsonl", _bytes(GOOD_ARTICLE + "\n" + GOOD_ARTICLE + "\n"), "duplicate id 'a'"),
}


def invoke(*args: object):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def assert_one_clear_line(result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("case", list(SCORE_FILES))
def test_score_hostile_file(case, tmp_path, tiny_model_dir):
    name, content, fragment = SCORE_FILES[case]
    source = tmp_path / name
    source.write_bytes(content)
    out = tmp_path / "out" / "scored.jsonl"
    assert_one_clear_line(invoke("score", source, "-o", out, "--model", tiny_model_dir, "-q"), fragment)
    assert not out.exists()


@pytest.mark.parametrize("case", list(CORPUS_FILES))
def test_corpus_hostile_file(case, tmp_path, tiny_model_dir):
    name, content, fragment = CORPUS_FILES[case]
    source = tmp_path / name
    source.write_bytes(content)
    out = tmp_path / "out.jsonl"
    assert_one_clear_line(invoke("corpus", source, "-o", out, "--model", tiny_model_dir, "-q"), fragment)
    assert not out.exists()


def test_score_skips_a_surrogate_row_like_any_bad_row(tmp_path, tiny_model_dir):
    name, content, _ = SCORE_FILES["lone-surrogate"]
    source = tmp_path / name
    source.write_bytes(content)
    result = invoke("score", source, "--model", tiny_model_dir, "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1
    assert "skipped: " in result.stderr and "line 2" in result.stderr


@pytest.mark.parametrize("flag", ["-o", "--csv", "--report"])
def test_corpus_refuses_an_output_that_is_the_input(flag, tmp_path, tiny_model_dir):
    source = tmp_path / "c.jsonl"
    source.write_text(GOOD_ARTICLE + "\n")
    before = source.read_bytes()
    extra = () if flag == "-o" else ("-o", tmp_path / "out.jsonl")
    result = invoke("corpus", source, *extra, flag, source, "--model", tiny_model_dir, "-q")
    assert_one_clear_line(result, "is the input file")
    assert source.read_bytes() == before


def test_score_refuses_an_output_that_is_the_input(tmp_path, tiny_model_dir):
    source = tmp_path / "p.jsonl"
    source.write_text(GOOD_PAIR + "\n")
    before = source.read_bytes()
    alias = tmp_path / "link.jsonl"
    os.symlink(source, alias)  # another name of the same file is the same file
    for output in (source, alias, Path(os.path.relpath(source))):
        assert_one_clear_line(invoke("score", source, "-o", output, "--model", tiny_model_dir), "input file")
    assert source.read_bytes() == before
