"""The corpus scan end to end with the tiny real NLI model and the real bi-encoder: output schema,
ranking, HTML, resuming after a crash, stale checkpoints, and the command's error handling."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from contradict.corpus.candidates import CandidateOptions
from contradict.corpus.command import corpus
from contradict.corpus.pipeline import CorpusOptions, scorer_fn
from contradict.corpus.rows import FLAT_COLUMNS
from tests.support.corpus import ARTICLES, SMALL_OPTIONS, read_jsonl, run_corpus, write_jsonl

OPTIONS = SMALL_OPTIONS


@pytest.fixture
def corpus_file(tmp_path) -> Path:
    return write_jsonl(tmp_path / "corpus.jsonl")


run = run_corpus


@pytest.mark.slow  # the real bi-encoder
def test_end_to_end_outputs(corpus_file, tmp_path, scorer, embedder):
    out = tmp_path / "out.jsonl"
    result = run(corpus_file, out, scorer, embedder)
    rows = read_jsonl(out)
    assert rows and len(rows) == len(result.rows) == result.summary["candidates"]
    assert list(rows[0]) == list(FLAT_COLUMNS)
    assert [row["rank"] for row in rows] == list(range(1, len(rows) + 1))
    scores = [row["contradiction"] for row in rows]
    assert scores == sorted(scores, reverse=True)
    texts = {article["id"]: article["text"] for article in ARTICLES}
    for row in rows:
        assert row["a_article"] != row["b_article"]
        for side in "ab":
            text = texts[row[f"{side}_article"]]
            assert text[row[f"{side}_start"] : row[f"{side}_end"]] == row[f"{side}_text"]
        assert abs(row["contradiction"] + row["entailment"] + row["neutral"] - 1) < 1e-4
    # The scores are the core's own, symmetric.
    expected = scorer.probabilities([(rows[0]["a_text"], rows[0]["b_text"])], symmetric=True)[0]
    assert abs(rows[0]["contradiction"] - float(expected[0])) < 1e-5
    herald = next(row for row in rows if row["a_article"] == "herald-1")
    assert (herald["a_title"], herald["a_source"], herald["a_url"]) == (
        "Bridge collapse: twelve dead",
        "The Herald",
        "https://herald.example/bridge",
    )

    with open(out.with_suffix(".csv"), newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [r["a_text"] for r in table] == [r["a_text"] for r in rows]
    assert list(table[0]) == list(FLAT_COLUMNS)

    html = out.with_suffix(".html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "No deaths as &lt;b&gt;bridge&lt;/b&gt; falls" in html
    assert 'href="javascript' not in html and 'href="https://herald.example/bridge"' in html
    assert "<mark>Officials said twelve people were killed when the bridge collapsed.</mark>" in html
    assert "<mark>Officials said nobody was killed when the bridge collapsed.</mark>" in html
    assert "<link" not in html and "src=" not in html and html.count("<script>") == 1  # self-contained
    summary = result.summary
    assert summary["articles"] == 3 and summary["contradictions"] == len(rows)
    assert set(summary["seconds"]) == {"read", "segment", "candidates", "score", "report"}


@pytest.mark.slow  # the real bi-encoder
def test_default_threshold_is_the_models_and_none_reach_it(corpus_file, tmp_path, scorer, embedder):
    options = CorpusOptions(candidates=OPTIONS.candidates, threshold=None)
    out = tmp_path / "out.jsonl"
    result = run(corpus_file, out, scorer, embedder, options=options)
    assert result.summary["threshold"] == scorer.calibration.threshold == 0.5
    assert not any(row["is_contradiction"] for row in read_jsonl(out))
    assert "No pair reached the threshold" in out.with_suffix(".html").read_text()


class Crash(RuntimeError):
    pass


@pytest.mark.slow  # the real bi-encoder
def test_resume_after_a_crash_is_byte_identical_and_redoes_nothing(corpus_file, tmp_path, scorer, embedder):
    reference = tmp_path / "reference" / "out.jsonl"
    reference.parent.mkdir()
    run(corpus_file, reference, scorer, embedder)

    score = scorer_fn(scorer)
    calls: list[int] = []

    def crashing(pairs, progress):
        if len(calls) == 2:
            raise Crash("killed while scoring")
        calls.append(len(pairs))
        return score(pairs, progress)

    out = tmp_path / "out.jsonl"
    with pytest.raises(Crash):
        run(corpus_file, out, scorer, embedder, score_fn=crashing)
    assert not out.exists()
    shards = sorted((tmp_path / "out.jsonl.work").glob("scores-*/shard-*.npy"))
    assert len(shards) == 2
    # A temp file left by a kill during a write is ignored and cleaned up.
    (shards[0].parent / ".shard-000002.npy.999.tmp").write_bytes(b"partial")

    rescored: list[int] = []

    def counting(pairs, progress):
        rescored.append(len(pairs))
        return score(pairs, progress)

    result = run(corpus_file, out, scorer, embedder, score_fn=counting)
    total = result.summary["candidates"]
    assert sum(rescored) == total - sum(calls), "finished shards were scored again"
    assert "segment" in result.summary["resumed"] and "candidates" in result.summary["resumed"]
    for suffix in (".jsonl", ".csv"):
        assert out.with_suffix(suffix).read_bytes() == reference.with_suffix(suffix).read_bytes()
    assert not list(shards[0].parent.glob(".*.tmp"))

    # A finished run restarted rescoring nothing, and writes the same again.
    rescored.clear()
    run(corpus_file, out, scorer, embedder, score_fn=counting)
    assert rescored == [] and out.read_bytes() == reference.read_bytes()


@pytest.mark.slow  # the real bi-encoder
def test_changed_settings_do_not_reuse_stale_work(corpus_file, tmp_path, scorer, embedder):
    out = tmp_path / "out.jsonl"
    run(corpus_file, out, scorer, embedder)
    narrower = CandidateOptions(top_k=1, min_similarity=0.6)
    wider = CorpusOptions(candidates=narrower, threshold=0.0, shard_pairs=3)
    changed = run(corpus_file, out, scorer, embedder, options=wider)
    fresh_out = tmp_path / "fresh" / "out.jsonl"
    fresh_out.parent.mkdir()
    run(corpus_file, fresh_out, scorer, embedder, options=wider)
    assert changed.summary["resumed"] == ["segment"]  # segmentation settings did not change
    assert out.read_bytes() == fresh_out.read_bytes()
    work = tmp_path / "out.jsonl.work"
    assert len(list(work.glob("candidates-*"))) == 1 and len(list(work.glob("scores-*"))) == 1
    # A changed article changes every stage.
    edited = [dict(ARTICLES[0], text=ARTICLES[0]["text"].replace("twelve", "eleven"))] + ARTICLES[1:]
    write_jsonl(corpus_file, edited)
    again = run(corpus_file, out, scorer, embedder, options=wider)
    assert again.summary["resumed"] == []
    assert any("eleven" in row["a"]["text"] + row["b"]["text"] for row in again.rows)


# -- the command -----------------------------------------------------------------------------

app = typer.Typer()
app.command()(corpus)


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(app, [str(arg) for arg in args], input=input)


def test_command_refuses_two_outputs_that_are_one_file_and_a_device_without_work_dir(corpus_file, tmp_path):
    """Both before any model is loaded: the last output written would replace the others; and the
    default checkpoint folder OUT.work cannot be made beside /dev/stdout."""
    same = invoke(corpus_file, "-o", tmp_path / "o.jsonl", "--csv", tmp_path / "o.jsonl")
    assert same.exit_code == 2 and "two outputs are the same file" in same.stderr
    null = tmp_path / "null"  # ours, standing in for /dev/null: a broken run can only harm the link
    null.symlink_to(os.devnull)
    device = invoke(corpus_file, "-o", null)
    assert device.exit_code == 2 and "name a --work-dir" in device.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.jsonl", "null"]


@pytest.mark.slow  # the real bi-encoder
def test_command_writes_all_outputs(corpus_file, tmp_path, tiny_model_dir):
    out = tmp_path / "o.jsonl"
    result = invoke(
        corpus_file, "-o", out, "--csv", tmp_path / "o.csv", "--report", tmp_path / "o.html",
        "--model", tiny_model_dir, "--threshold", "0", "--top-k", "2", "--min-similarity", "0.3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3 articles" in result.stderr and "contradictions" in result.stderr
    assert read_jsonl(out) and (tmp_path / "o.csv").is_file() and (tmp_path / "o.html").is_file()
    # One CSV boolean spelling for every command (`score` writes the same).
    with (tmp_path / "o.csv").open(newline="", encoding="utf-8") as handle:
        assert {row["is_contradiction"] for row in csv.DictReader(handle)} == {"true"}
    # A finished run leaves no checkpoints behind, and says so.
    assert not (tmp_path / "o.jsonl.work").exists()
    assert f"removed the checkpoints {tmp_path / 'o.jsonl.work'}/" in result.stderr
    quiet = invoke(corpus_file, "-o", out, "--model", tiny_model_dir, "--quiet", "--keep-checkpoints")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert (tmp_path / "o.jsonl.work").is_dir()  # --keep-checkpoints


@pytest.mark.slow  # the real bi-encoder
def test_command_summary_counts_read_as_sentences(tmp_path, tiny_model_dir):
    two = [
        {"id": "a", "text": "The harbour bridge opened to traffic in the spring of 1932."},
        {"id": "b", "text": "The harbour bridge opened to traffic in the autumn of 1950."},
    ]
    result = invoke(
        write_jsonl(tmp_path / "two.jsonl", two), "-o", tmp_path / "o.jsonl", "--model", tiny_model_dir,
        "--threshold", "0", "--min-similarity", "0",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 articles, 2 statements, 1 candidate pair, 1 contradiction (" in result.stderr


@pytest.mark.slow  # the real bi-encoder
def test_command_keeps_checkpoints_of_a_failed_run(corpus_file, tmp_path, tiny_model_dir):
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # the report cannot go inside a file: the run fails after scoring
    out = tmp_path / "o.jsonl"
    result = invoke(corpus_file, "-o", out, "--report", blocker / "r.html", "--model", tiny_model_dir)
    assert result.exit_code == 1 and "Traceback" not in result.output
    work = tmp_path / "o.jsonl.work"
    assert list(work.glob("scores-*/shard-*.npy"))
    assert f"checkpoints kept in {work}/: run the same command again to resume" in result.stderr


@pytest.mark.slow  # the real bi-encoder
def test_command_reads_csv_from_stdin(tmp_path, tiny_model_dir):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["id", "title", "text"])
    writer.writeheader()
    writer.writerows({key: article[key] for key in ("id", "title", "text")} for article in ARTICLES)
    out = tmp_path / "o.jsonl"
    result = invoke("-", "-o", out, "--model", tiny_model_dir, input=buffer.getvalue())
    assert result.exit_code == 0, result.output
    assert "3 articles" in result.stderr
    assert {row["a_article"] for row in read_jsonl(out)} <= {article["id"] for article in ARTICLES}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "text": "One."}\n{"id": "b", text}\n', "corpus.jsonl, line 2: invalid JSON"),
        ('{"id": "a", "text": "One."}\n{"id": "b"}\n', "corpus.jsonl, line 2: missing field 'text'"),
        ("\n", "no articles"),
        ('{"id": "a", "text": "Only one article here."}\n', "at least 2"),
    ],
)
def test_command_bad_input_exits_2_with_the_line(tmp_path, tiny_model_dir, content, message):
    path = tmp_path / "corpus.jsonl"
    path.write_text(content)
    result = invoke(path, "-o", tmp_path / "o.jsonl", "--model", tiny_model_dir)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


@pytest.mark.slow  # the real bi-encoder
def test_command_csv_missing_column_and_skip_invalid(tmp_path, tiny_model_dir):
    path = tmp_path / "c.csv"
    path.write_text("id,body\n1,x\n")
    result = invoke(path, "-o", tmp_path / "o.jsonl", "--model", tiny_model_dir)
    assert result.exit_code == 2
    assert "c.csv, line 1: CSV header ['id', 'body'] lacks a 'text' column" in result.stderr
    assert "--skip-invalid" not in result.stderr  # skipping rows cannot get past a bad header

    records = [json.dumps(a) for a in ARTICLES] + ["{broken", '{"id": "x"}']
    stdin = "\n".join(records) + "\n"
    result = invoke("-", "-o", tmp_path / "o.jsonl", "--model", tiny_model_dir, "--skip-invalid", input=stdin)
    assert result.exit_code == 0, result.output
    assert "skipped: <stdin>, line 4: invalid JSON" in result.stderr
    assert "skipped: <stdin>, line 5: missing field 'text'" in result.stderr


def test_command_missing_model(tmp_path, corpus_file):
    result = invoke(corpus_file, "-o", tmp_path / "o.jsonl", "--model", tmp_path / "nope")
    assert result.exit_code == 2 and "cannot load the model" in result.stderr
