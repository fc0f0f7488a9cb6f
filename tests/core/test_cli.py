"""CLI tests on real files and stdin with the tiny model: schema, order, formats, bad input, exits."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from contradict.cli import app
from contradict.labels import LABELS
from contradict.pairs_io import PairRecord, read_pairs
from contradict.scorer import NLIScorer, decide_labels
from tests.support.models import build_tiny_model

SCORE_COLUMNS = ["contradiction", "entailment", "neutral", "label", "is_contradiction", "truncated"]
CONSOLE_SCRIPT = Path(sys.executable).parent / "contradict"

ROWS = [
    {"id": "a", "premise": "The museum opened in 1998.", "hypothesis": "The museum opened in 2005."},
    {"id": 2, "premise": "Paris is the capital of France.", "hypothesis": "France's capital is Paris."},
    {"id": "c", "premise": "It rained all day.", "hypothesis": "The ground stayed dry all day long."},
    {"id": "d", "premise": "He is " + "very " * 60 + "tall.", "hypothesis": "He is short."},
    {"id": "e", "premise": "Sales rose by ten percent, the report said.", "hypothesis": "Sales fell."},
]


@pytest.fixture(scope="module")
def scorer(tiny_model_dir) -> NLIScorer:
    return NLIScorer(str(tiny_model_dir))


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, [str(arg) for arg in args], input=stdin)


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))
    return path


def read_jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def assert_scores_match(rows: list[dict], pairs: list[tuple[str, str]], scorer: NLIScorer, **kwargs) -> None:
    expected = scorer.probabilities(pairs, **kwargs)
    got = np.array([[float(row[column]) for column in SCORE_COLUMNS[:3]] for row in rows])
    assert np.allclose(got, expected, atol=1e-5)
    decided = decide_labels(expected, scorer.calibration.threshold)
    assert [row["label"] for row in rows] == [LABELS[i] for i in decided]
    truncated = [
        str(r.truncated).lower() for r in scorer.score(pairs, symmetric=kwargs.get("symmetric", False))
    ]
    assert [str(row["truncated"]).lower() for row in rows] == truncated


def torch_has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def assert_clean_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    for fragment in fragments:
        assert fragment in result.stderr
    assert "Traceback" not in result.output


# -- happy paths ------------------------------------------------------------------------------


def test_jsonl_file_to_jsonl_file(tmp_path, tiny_model_dir, scorer):
    source = write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    out = tmp_path / "out" / "scores.jsonl"
    result = invoke(
        "score", source, "-o", out, "--model", tiny_model_dir, "--chunk-size", 2, "--batch-size", 2
    )

    assert result.exit_code == 0, result.output
    rows = read_jsonl(out.read_text())
    assert [row["id"] for row in rows] == [row["id"] for row in ROWS]  # order kept, int ids stay ints
    assert all(list(row) == ["id", "premise", "hypothesis", *SCORE_COLUMNS] for row in rows)
    assert [(row["premise"], row["hypothesis"]) for row in rows] == [
        (r["premise"], r["hypothesis"]) for r in ROWS
    ]
    assert_scores_match(rows, [(r["premise"], r["hypothesis"]) for r in ROWS], scorer)
    assert all(isinstance(row["is_contradiction"], bool) for row in rows)
    assert "scored 5 pairs" in result.stderr and "skipped 0" in result.stderr
    assert result.stdout == ""
    assert [p.name for p in out.parent.iterdir()] == ["scores.jsonl"]  # no temporary file left


def test_csv_file_to_csv_file(tmp_path, tiny_model_dir, scorer):
    source = tmp_path / "pairs.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "sentence1", "sentence2", "source"])
        writer.writerow(["x1", 'He said "no", then left.', "He agreed, and stayed.", "news"])
        writer.writerow(["x2", "Line one\nline two of the premise.", "Ünïcödé hypothesis — ok.", "wiki"])
        writer.writerow(["x3", "Short.", "Also short.", ""])
    out = tmp_path / "scores.csv"
    result = invoke("score", source, "-o", out, "--model", tiny_model_dir)

    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == ["id", "premise", "hypothesis", *SCORE_COLUMNS]
    assert [row["id"] for row in rows] == ["x1", "x2", "x3"]
    assert rows[1]["premise"] == "Line one\nline two of the premise."
    assert rows[1]["hypothesis"] == "Ünïcödé hypothesis — ok."
    assert {row["is_contradiction"] for row in rows} <= {"true", "false"}
    assert_scores_match(rows, [(row["premise"], row["hypothesis"]) for row in rows], scorer)


def test_stdin_to_stdout_without_ids(tiny_model_dir, scorer):
    pairs = [(r["premise"], r["hypothesis"]) for r in ROWS]
    text = "".join(json.dumps({"premise": p, "hypothesis": h}) + "\n" for p, h in pairs)
    result = invoke("score", "-", "--model", tiny_model_dir, "--quiet", stdin=text)

    assert result.exit_code == 0, result.output
    rows = read_jsonl(result.stdout)
    assert all(list(row) == ["premise", "hypothesis", *SCORE_COLUMNS] for row in rows)
    assert_scores_match(rows, pairs, scorer)
    assert result.stderr == ""  # --quiet


def test_stdin_csv_to_stdout_csv(tiny_model_dir):
    text = "premise,hypothesis\nA cat sleeps.,A dog barks.\nThe door is open.,The door is closed.\n"
    result = invoke(
        "score", "-", "--input-format", "csv", "--format", "csv", "--model", tiny_model_dir, stdin=text
    )

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["hypothesis"] for row in rows] == ["A dog barks.", "The door is closed."]
    assert list(rows[0]) == ["premise", "hypothesis", *SCORE_COLUMNS]


def test_stdin_format_is_told_from_the_content(tiny_model_dir, scorer):
    """`cat pairs.csv | contradict score -`: no suffix to go by, so the content decides."""
    text = "\ufeffpremise,hypothesis\nA cat sleeps.,A dog barks.\nThe door is open.,The door is closed.\n"
    result = invoke("score", "-", "--model", tiny_model_dir, stdin=text)

    assert result.exit_code == 0, result.output
    rows = read_jsonl(result.stdout)  # output stays JSONL on stdout unless --format says otherwise
    pairs = [("A cat sleeps.", "A dog barks."), ("The door is open.", "The door is closed.")]
    assert [(row["premise"], row["hypothesis"]) for row in rows] == pairs
    assert_scores_match(rows, pairs, scorer)
    # JSONL on stdin is still JSONL, leading blank lines and all.
    jsonl = "\n\n" + "".join(json.dumps({"premise": p, "hypothesis": h}) + "\n" for p, h in pairs)
    again = invoke("score", "-", "--model", tiny_model_dir, stdin=jsonl)
    assert again.exit_code == 0 and read_jsonl(again.stdout) == rows


def test_threshold_decides_label_and_flag(tmp_path, tiny_model_dir, scorer):
    source = write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    pairs = [(r["premise"], r["hypothesis"]) for r in ROWS]
    contradiction = scorer.probabilities(pairs)[:, 0]
    cut = float(np.median(contradiction))  # half the pairs on each side
    result = invoke("score", source, "--threshold", cut, "--model", tiny_model_dir)

    assert result.exit_code == 0, result.output
    rows = read_jsonl(result.stdout)
    expected = [bool(p >= cut) for p in contradiction]
    assert [row["is_contradiction"] for row in rows] == expected and 0 < sum(expected) < len(rows)
    assert [row["label"] == "contradiction" for row in rows] == expected  # one decision rule
    out_of_range = invoke("score", source, "--threshold", "1.5", "--model", tiny_model_dir)
    assert out_of_range.exit_code == 2 and "--threshold" in out_of_range.output


def test_pairs_longer_than_the_model_reads_are_marked_and_counted(tmp_path, tiny_model_dir, scorer):
    long = " ".join(["x"] * 200) + "."
    rows = [*ROWS[:2], {"id": "long", "premise": long, "hypothesis": "He is short."}]
    for fmt in ("jsonl", "csv"):
        out = tmp_path / f"scores.{fmt}"
        result = invoke(
            "score", write_jsonl(tmp_path / "pairs.jsonl", rows), "-o", out, "--model", tiny_model_dir
        )
        assert result.exit_code == 0, result.output
        if fmt == "jsonl":
            flags = [row["truncated"] for row in read_jsonl(out.read_text())]
        else:
            with out.open(newline="", encoding="utf-8") as handle:
                flags = [row["truncated"] for row in csv.DictReader(handle)]
        assert flags == ([False, False, True] if fmt == "jsonl" else ["false", "false", "true"])
        assert f"1 pair longer than the model reads ({scorer.max_length} tokens)" in result.stderr
    quiet = invoke("score", tmp_path / "pairs.jsonl", "--model", tiny_model_dir, "--quiet")
    assert "1 pair longer than the model reads" in quiet.stderr  # a warning about the data, not progress
    short = invoke("score", write_jsonl(tmp_path / "short.jsonl", ROWS), "--model", tiny_model_dir)
    assert "longer than the model reads" not in short.stderr


def test_output_that_cannot_be_written_is_one_clean_line(tmp_path, tiny_model_dir):
    source = write_jsonl(tmp_path / "pairs.jsonl", ROWS[:1])
    (tmp_path / "folder").mkdir()
    for output, reason in [(tmp_path / "folder", "Is a directory"), (source / "x.jsonl", "Not a directory")]:
        result = invoke("score", source, "-o", output, "-f", "jsonl", "--model", tiny_model_dir)
        assert result.exit_code == 1 and reason in result.stderr and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "pairs.jsonl"]
    assert list((tmp_path / "folder").iterdir()) == []


def test_csv_output_reads_back_with_carriage_returns_inside_fields(tmp_path, tiny_model_dir):
    """A lone \r in a text: with "\n" line ends the csv writer left it unquoted, and every reader
    (this one too) split the row there."""
    rows = [{"id": "r", "premise": "First part\rsecond part.", "hypothesis": "One\r\ntwo."}, *ROWS[1:3]]
    out = tmp_path / "scores.csv"
    assert (
        invoke(
            "score", write_jsonl(tmp_path / "p.jsonl", rows), "-o", out, "--model", tiny_model_dir
        ).exit_code
        == 0
    )
    again = tmp_path / "again.jsonl"
    result = invoke("score", out, "-o", again, "--model", tiny_model_dir)
    assert result.exit_code == 0, result.output
    assert [(r["id"], r["premise"], r["hypothesis"]) for r in read_jsonl(again.read_text())] == [
        (str(r["id"]), r["premise"], r["hypothesis"]) for r in rows
    ]  # CSV has no integers: the id 2 comes back as "2"


def test_an_empty_id_cell_keeps_the_id_column(tmp_path, tiny_model_dir):
    source = tmp_path / "ids.csv"
    source.write_text("id,premise,hypothesis\n,a b c,d e f\n2,g h i,j k l\n")
    result = invoke("score", source, "-f", "csv", "--model", tiny_model_dir, "--quiet")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["id"] for row in rows] == ["", "2"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_is_read_once_like_stdin(tmp_path, tiny_model_dir, scorer):
    """`score <(...)` or a FIFO: it exists without being a regular file, and can be read once."""
    fifo = tmp_path / "pairs.jsonl"
    os.mkfifo(fifo)
    text = "".join(json.dumps(row) + "\n" for row in ROWS)
    feeder = threading.Thread(target=fifo.write_text, args=(text,), daemon=True)
    feeder.start()
    result = invoke("score", fifo, "--model", tiny_model_dir, "--quiet")
    if feeder.is_alive():  # nobody opened the pipe: open its read end, or the writer blocks for good
        fifo.open("rb").close()
    feeder.join(30)
    assert result.exit_code == 0, result.output
    assert [row["id"] for row in read_jsonl(result.stdout)] == [row["id"] for row in ROWS]


def test_summary_counts_read_as_sentences(tmp_path, tiny_model_dir):
    source = write_jsonl(tmp_path / "one.jsonl", ROWS[:1])
    result = invoke("score", source, "--threshold", 0, "--model", tiny_model_dir)
    assert result.exit_code == 0, result.output
    assert "scored 1 pair from" in result.stderr and "1 contradiction," in result.stderr


def test_score_and_corpus_share_the_options_they_have_in_common():
    """Same name, same meaning, same spelling, help and type: declared once in contradict.cli_kit."""
    import typer.main

    commands = typer.main.get_command(app).commands
    options = {
        name: {param.name: param for param in commands[name].params if param.param_type_name == "option"}
        for name in ("score", "corpus")
    }
    shared = options["score"].keys() & options["corpus"].keys()
    assert {"threshold", "model", "batch_size", "device", "skip_invalid", "quiet", "output"} <= shared
    for name in shared - {"output"}:  # -o is a pairs file in one, the ranked pairs in the other
        score, corpus = options["score"][name], options["corpus"][name]
        assert spelled(score) == spelled(corpus), name


def spelled(option) -> tuple:
    return (option.opts, option.secondary_opts, option.help, option.is_flag, option.min, option.max)


@pytest.mark.parametrize("command", ["score", "corpus", "serve"])
def test_help_is_not_cut_without_a_terminal(command):
    """CI logs and pipes have no terminal; option names and help must still be whole."""
    env = {**os.environ, "COLUMNS": "80"}
    env.pop("TERMINAL_WIDTH", None)
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), command, "--help"], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout, result.stdout
    names = {
        "score": ["--input-format", "--skip-invalid", "--chunk-size", "--threshold"],
        "corpus": ["--min-similarity", "--within-article", "--headlines-as-statements", "--keep-checkpoints"],
        "serve": ["--workers"],
    }
    for name in names[command]:
        assert name in result.stdout


def test_symmetric_output_matches_core(tmp_path, tiny_model_dir, scorer):
    source = write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    result = invoke("score", source, "--symmetric", "--model", tiny_model_dir)

    assert result.exit_code == 0, result.output
    assert_scores_match(
        read_jsonl(result.stdout), [(r["premise"], r["hypothesis"]) for r in ROWS], scorer, symmetric=True
    )


def test_empty_input_gives_header_only_csv(tmp_path, tiny_model_dir):
    source = tmp_path / "empty.jsonl"
    source.write_text("\n")
    result = invoke("score", source, "--format", "csv", "--model", tiny_model_dir)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [",".join(["premise", "hypothesis", *SCORE_COLUMNS])]
    assert "scored 0 pairs" in result.stderr


def test_model_info_prints_json(tiny_model_dir):
    result = invoke("model-info", "--model", tiny_model_dir)

    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["labels"] == {"0": "contradiction", "1": "entailment", "2": "neutral"}
    assert info["max_length"] == 128 and info["calibration"]["threshold"] == 0.5


def test_model_defaults_to_environment(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("CONTRADICT_MODEL", str(tiny_model_dir))
    result = invoke("model-info")

    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["name"] == tiny_model_dir.name
    # Name and version, never where the model sits on disk.
    assert str(tiny_model_dir.parent) not in result.stdout and "source" not in info


# -- bad input --------------------------------------------------------------------------------

GOOD = json.dumps(ROWS[0])


@pytest.mark.parametrize(
    ("lines", "line", "reason"),
    [
        ([GOOD, GOOD, '{"premise": "x", "hypothesis": '], 3, "invalid JSON"),
        ([GOOD, '{"premise": "Only a premise."}'], 2, "missing field 'hypothesis' or 'sentence2'"),
        ([GOOD, "", '{"premise": "   ", "hypothesis": "y"}'], 3, "field 'premise' is empty"),
        (['{"premise": 42, "hypothesis": "y"}'], 1, "field 'premise' must be a string, got int"),
        ([GOOD, '["premise", "hypothesis"]'], 2, "expected a JSON object, got list"),
        (['{"id": [1], "premise": "x", "hypothesis": "y"}'], 1, "field 'id' must be a string or an integer"),
    ],
    ids=["bad-json", "missing-field", "empty-field", "non-string", "not-an-object", "bad-id"],
)
def test_malformed_jsonl_fails_with_line_number(tmp_path, tiny_model_dir, lines, line, reason):
    source = write_jsonl(tmp_path / "bad.jsonl", lines)
    out = tmp_path / "out.jsonl"
    result = invoke("score", source, "-o", out, "--model", tiny_model_dir)

    assert_clean_error(result, f"{source}, line {line}: {reason}", "--skip-invalid")
    assert not out.exists()  # checked before any scoring; nothing half-written


def test_malformed_csv_fails_with_line_number(tmp_path, tiny_model_dir):
    source = tmp_path / "bad.csv"
    source.write_text('premise,hypothesis\n"two\nlines",fine\nok,\n')
    assert_clean_error(
        invoke("score", source, "--model", tiny_model_dir), "line 4: field 'hypothesis' is empty"
    )

    source.write_text("premise,claim\na,b\n")
    result = invoke("score", source, "--model", tiny_model_dir, "--skip-invalid")
    assert_clean_error(
        result, "line 1: CSV header ['premise', 'claim'] lacks a 'hypothesis' or 'sentence2' column"
    )


def test_malformed_stdin_names_stdin(tiny_model_dir):
    result = invoke("score", "-", "--model", tiny_model_dir, stdin=GOOD + "\n{oops\n")
    assert_clean_error(result, "<stdin>, line 2: invalid JSON")


def test_failure_mid_stream_leaves_no_output_file(tmp_path, tiny_model_dir):
    out = tmp_path / "out.jsonl"
    stdin = "\n".join([GOOD, json.dumps(ROWS[1]), json.dumps(ROWS[2]), "{truncated"])
    result = invoke("score", "-", "-o", out, "--chunk-size", 1, "--model", tiny_model_dir, stdin=stdin)

    assert_clean_error(result, "<stdin>, line 4: invalid JSON")
    assert list(tmp_path.iterdir()) == []  # two chunks were scored, but no partial file is left


def test_reader_handles_bom_and_crlf(tmp_path):
    jsonl = tmp_path / "pairs.jsonl"
    jsonl.write_bytes(b"\xef\xbb\xbf" + (GOOD + "\r\n\r\n" + json.dumps(ROWS[1]) + "\r\n").encode())
    table = tmp_path / "pairs.csv"
    table.write_bytes(b'\xef\xbb\xbfid,premise,hypothesis\r\n7,"a,\r\nb",c\r\n8,d,e\r\n')

    assert [r.id for r in read_pairs(str(jsonl), "jsonl")] == ["a", 2]
    assert list(read_pairs(str(table), "csv")) == [
        PairRecord(premise="a,\r\nb", hypothesis="c", id="7"),
        PairRecord(premise="d", hypothesis="e", id="8"),
    ]


def test_skip_invalid_continues_and_counts(tmp_path, tiny_model_dir):
    lines = [
        GOOD,
        "{broken",
        json.dumps(ROWS[1]),
        '{"premise": "x"}',
        json.dumps(ROWS[2]),
        '{"premise": 1, "hypothesis": "y"}',
    ]
    source = write_jsonl(tmp_path / "mixed.jsonl", lines)
    result = invoke("score", source, "--model", tiny_model_dir, "--skip-invalid")

    assert result.exit_code == 0, result.output
    assert [row["id"] for row in read_jsonl(result.stdout)] == ["a", 2, "c"]
    assert "scored 3 pairs" in result.stderr and "skipped 3 invalid" in result.stderr
    assert f"{source}, line 2: invalid JSON" in result.stderr and f"{source}, line 6" in result.stderr


def test_ids_appearing_late_cannot_go_to_csv(tmp_path, tiny_model_dir):
    no_id = {"premise": "a b c", "hypothesis": "d e f"}
    source = write_jsonl(tmp_path / "pairs.jsonl", [no_id, ROWS[0]])
    assert_clean_error(invoke("score", source, "--format", "csv", "--model", tiny_model_dir), "has an id")


def test_missing_input_and_unknown_suffix(tmp_path, tiny_model_dir):
    assert_clean_error(invoke("score", tmp_path / "nope.jsonl", "--model", tiny_model_dir), "not found")

    source = write_jsonl(tmp_path / "pairs.txt", ROWS[:1])
    assert_clean_error(invoke("score", source, "--model", tiny_model_dir), "cannot tell the format")
    assert invoke("score", source, "--input-format", "jsonl", "--model", tiny_model_dir).exit_code == 0


def test_missing_model_folder(tmp_path):
    source = write_jsonl(tmp_path / "pairs.jsonl", ROWS[:1])
    missing = tmp_path / "no-model"
    assert_clean_error(invoke("score", source, "--model", missing), f"model folder {missing} does not exist")
    assert_clean_error(invoke("model-info", "--model", missing), "does not exist", "CONTRADICT_MODEL")


@pytest.mark.parametrize("case", ["backend-without-export", "device-torch-lacks", "cut-weights"])
def test_a_model_that_cannot_be_loaded_is_one_error_line(case, tmp_path, tiny_model_dir, monkeypatch):
    model = Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))
    if case == "backend-without-export":
        monkeypatch.setenv("CONTRADICT_BACKEND", "onnx")  # the tiny folder has no ONNX export
    elif case == "device-torch-lacks":
        if torch_has_cuda():
            pytest.skip("this torch can use CUDA")
        monkeypatch.setenv("CONTRADICT_DEVICE", "cuda")  # a CPU build of torch cannot
    else:
        weights = model / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:1000])
    source = write_jsonl(tmp_path / "pairs.jsonl", ROWS[:1])
    for args in (("score", source), ("model-info",)):
        assert_clean_error(invoke(*args, "--model", model), "cannot load the model")


def test_unmappable_model_labels(tmp_path):
    folder = build_tiny_model(tmp_path / "generic", {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    source = write_jsonl(tmp_path / "pairs.jsonl", ROWS[:1])
    assert_clean_error(invoke("score", source, "--model", folder), "'LABEL_0' (id 0) is not an NLI label")


# -- the installed console script -------------------------------------------------------------


def run_script(*args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *map(str, args)], input=stdin, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow  # a fresh interpreter imports torch and transformers
def test_console_script_runs_with_stdout_closed(tmp_path, tiny_model_dir):
    """`contradict score ... -o out >&-`: Python then has no sys.stdout, which the help-width set-up
    at import used to call isatty() on."""
    source, out = write_jsonl(tmp_path / "pairs.jsonl", ROWS[:2]), tmp_path / "out.jsonl"
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "score", str(source), "-o", str(out), "--model", str(tiny_model_dir)],
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(1),  # noqa: PLW1509 - the child alone, before exec
    )
    assert done.returncode == 0, done.stderr
    assert len(read_jsonl(out.read_text())) == 2


@pytest.mark.slow  # three fresh interpreters import torch and transformers
def test_console_script_scores_stdin_and_fails_cleanly(tmp_path, tiny_model_dir):
    out = tmp_path / "scores.csv"
    good = run_script(
        "score", "-", "-o", out, "--model", tiny_model_dir, stdin=GOOD + "\n" + json.dumps(ROWS[1])
    )
    assert good.returncode == 0, good.stderr
    assert [row["id"] for row in csv.DictReader(out.open(newline=""))] == ["a", "2"]
    assert "scored 2 pairs" in good.stderr
    # `cat pairs.csv | contradict score -`: a real pipe, peeked at, not consumed.
    piped = run_script(
        "score", "-", "--model", tiny_model_dir, stdin="premise,hypothesis\nIt rained.,It was dry.\n"
    )
    assert piped.returncode == 0, piped.stderr
    assert [row["hypothesis"] for row in read_jsonl(piped.stdout)] == ["It was dry."]

    bad = run_script("score", "-", "--model", tiny_model_dir, stdin=GOOD + "\n" + '{"premise": ""}\n')
    assert bad.returncode == 2
    assert "<stdin>, line 2: field 'premise' is empty" in bad.stderr
    assert "Traceback" not in bad.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow  # a real uvicorn server
def test_console_script_serve_uses_options(tiny_model_dir):
    port = free_port()
    server = subprocess.Popen(
        [
            str(CONSOLE_SCRIPT),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--model",
            str(tiny_model_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert server.poll() is None, server.communicate()[0]
                assert time.monotonic() < deadline, "server did not become ready"
                time.sleep(0.5)
    finally:
        server.terminate()
        logs = server.communicate(timeout=30)[0]
    assert str(tiny_model_dir) in logs  # the --model option reached the service's settings
    assert "Loading weights" not in logs and "it/s]" not in logs  # no progress bars in a server log
