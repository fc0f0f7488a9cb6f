"""``--engine ray`` against the local engine on the same corpus: same rows, same report, resume after a
kill, the IVF search equal to the exact one when it probes every cell, and ``score --engine ray``.

Ray is started once for the module (2 CPUs, a small object store) and stopped after it; the models
are the tiny random NLI model and the real bi-encoder. Marked ``ray``: ``make test-ray`` installs the
extra and runs these (CI runs it after ``make test``).
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contradict.cli import app
from tests.support.corpus import ARTICLES, read_jsonl, write_jsonl

ray = pytest.importorskip("ray", reason='the ray extra: pip install -e ".[ray]" (make test-ray)')
pytestmark = [pytest.mark.ray, pytest.mark.slow]

# Two more articles re-reporting the same event make more pairs and more than one scoring shard.
MORE = [
    {
        "id": "wire-9",
        "title": "Storm topples Elm Street bridge",
        "text": (
            "The Elm Street bridge collapsed on Monday morning, officials said.\n\n"
            "Nobody was killed, according to the fire department. "
            "Engineers inspected the bridge last spring and found serious faults."
        ),
    },
    {
        "id": "post-2",
        "title": "Inquiry into bridge collapse",
        "text": (
            "Twelve people were killed when the Elm Street bridge collapsed on Tuesday. "
            "The mayor promised an inquiry into the collapse of the bridge."
        ),
    },
]
OPTIONS = ["--top-k", "3", "--min-similarity", "0.3", "-q"]


@pytest.fixture(scope="module")
def ray_local():
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 1024**2)
    yield
    ray.shutdown()


@pytest.fixture
def env(monkeypatch, tiny_model_dir):
    monkeypatch.setenv("CONTRADICT_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("CONTRADICT_CORPUS_SHARD_PAIRS", "4")
    monkeypatch.setenv("CONTRADICT_RAY_EMBED_BATCH_SIZE", "5")
    # More shuffle partitions than CPUs: a shard's pairs come from several partitions and are
    # regrouped whole (and in pair order) before a scoring actor sees them.
    monkeypatch.setenv("CONTRADICT_RAY_SHUFFLE_PARTITION_ROWS", "10")
    # Fewer shown than found: the Ray report gets only the top rows and must still say "3 shown of N".
    monkeypatch.setenv("CONTRADICT_CORPUS_REPORT_MAX_PAIRS", "3")
    # The engines group statements into other bi-encoder batches; in bf16 (OpenVINO's default on CPUs
    # with AVX512-BF16/AMX) a batch's padding moves embeddings by ~1e-3, so "the same rows" holds in fp32.
    monkeypatch.setenv("CONTRADICT_CORPUS_EMBEDDER_PRECISION", "f32")


def corpus_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "corpus.jsonl", [*ARTICLES, *MORE])


def invoke(*args: str):
    result = CliRunner().invoke(app, ["corpus", *args])
    assert result.exit_code == 0, (result.exception, result.output[-3000:])
    return result


def parts(folder: Path, suffix: str = ".jsonl") -> list[Path]:
    return sorted(folder.glob(f"part-*{suffix}"))


def ray_rows(folder: Path) -> list[dict]:
    return [row for part in parts(folder) for row in read_jsonl(part)]


def assert_same_rows(local: list[dict], ray_side: list[dict]) -> None:
    """Same pairs in the same order, scores within 1e-5, everything else equal."""
    assert len(local) == len(ray_side) > 4
    for mine, theirs in zip(local, ray_side, strict=True):
        assert list(mine) == list(theirs)
        for name, value in mine.items():
            if isinstance(value, float):
                assert abs(value - theirs[name]) <= 1e-5, name
            else:
                assert value == theirs[name], name


def without_decimals(page: Path) -> str:
    return re.sub(r"\d\.\d{6}", "#", page.read_text(encoding="utf-8"))


def split_threshold(path: Path) -> str:
    """A threshold between two neighbouring scores of the local run, far (for float noise) from both,
    so that some rows are contradictions and some are not (the tiny model scores about 1/3 each)."""
    scores = sorted(row["contradiction"] for row in read_jsonl(path))
    middle = scores[len(scores) // 4 : 3 * len(scores) // 4 + 1]
    low, high = max(zip(middle, middle[1:]), key=lambda pair: pair[1] - pair[0])
    assert high - low > 1e-6
    return str((low + high) / 2)


def test_same_rows_csv_parquet_and_report_as_the_local_engine(ray_local, env, tmp_path):
    path = corpus_file(tmp_path)
    invoke(str(path), "-o", str(tmp_path / "probe.jsonl"), *OPTIONS)
    options = [*OPTIONS, "--threshold", split_threshold(tmp_path / "probe.jsonl")]
    invoke(
        str(path),
        "-o",
        str(tmp_path / "local.jsonl"),
        "--csv",
        str(tmp_path / "local.csv"),
        "--report",
        str(tmp_path / "local.html"),
        *options,
    )
    invoke(
        str(path),
        "-o",
        str(tmp_path / "ray.jsonl"),
        "--csv",
        str(tmp_path / "ray-csv"),
        "--report",
        str(tmp_path / "ray.html"),
        "--engine",
        "ray",
        *options,
    )
    local = read_jsonl(tmp_path / "local.jsonl")
    assert_same_rows(local, ray_rows(tmp_path / "ray.jsonl"))
    assert any(row["is_contradiction"] for row in local) and not all(row["is_contradiction"] for row in local)
    with open(tmp_path / "local.csv", newline="", encoding="utf-8") as handle:
        local_csv = list(csv.DictReader(handle))
    ray_csv = []
    for part in parts(tmp_path / "ray-csv", ".csv"):
        with open(part, newline="", encoding="utf-8") as handle:
            ray_csv.extend(csv.DictReader(handle))
    assert [(r["rank"], r["a_text"], r["b_text"]) for r in ray_csv] == [
        (r["rank"], r["a_text"], r["b_text"]) for r in local_csv
    ]
    # The same report, but for the last digit of similarities (embedding batches differ, ~1e-6).
    assert without_decimals(tmp_path / "ray.html") == without_decimals(tmp_path / "local.html")
    found = sum(row["is_contradiction"] for row in local)
    assert f'<span data-count-for="found">3</span> shown of {found} ' in (tmp_path / "ray.html").read_text()
    assert not (tmp_path / "ray.jsonl.work").exists()  # checkpoints removed after a finished run

    invoke(str(path), "-o", str(tmp_path / "ray.parquet"), "--engine", "ray", *options)
    import pyarrow.parquet as pq

    table = pq.read_table(parts(tmp_path / "ray.parquet", ".parquet"))
    assert_same_rows(local, table.to_pylist())


def test_ivf_search_probing_every_cell_is_the_exact_search(ray_local, env, tmp_path, monkeypatch):
    path = corpus_file(tmp_path)
    invoke(str(path), "-o", str(tmp_path / "local.jsonl"), *OPTIONS)
    monkeypatch.setenv("CONTRADICT_RAY_EXACT_MAX_STATEMENTS", "2")  # force the IVF path
    monkeypatch.setenv("CONTRADICT_RAY_IVF_LISTS", "3")
    monkeypatch.setenv("CONTRADICT_RAY_IVF_PROBE", "3")
    invoke(str(path), "-o", str(tmp_path / "ivf.jsonl"), "--engine", "ray", *OPTIONS)
    assert_same_rows(read_jsonl(tmp_path / "local.jsonl"), ray_rows(tmp_path / "ivf.jsonl"))


def test_killed_run_resumes_without_rescoring_finished_shards(env, tmp_path, tiny_model_dir):
    """A real command in its own process group, SIGKILLed once a shard is on disk, then run again."""
    path = corpus_file(tmp_path)
    out = tmp_path / "ray.jsonl"
    command = [sys.executable, "-m", "contradict.cli", "corpus", str(path), "-o", str(out), "--engine", "ray"]
    environment = {**os.environ, "CONTRADICT_CORPUS_SHARD_PAIRS": "1", "CONTRADICT_RAY_SCORE_ACTORS": "1"}
    process = subprocess.Popen(
        [*command, *OPTIONS, "--keep-checkpoints"],
        env=environment,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    work = out.with_name(out.name + ".work")
    deadline = time.monotonic() + 240
    while not list(work.glob("scores-*/shard-*.npy")) and time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before a shard was written"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in work.glob("scores-*/shard-*.npy")}
    assert finished and not parts(out)

    rerun = subprocess.run(
        [*command, *OPTIONS, "--keep-checkpoints"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    for name, mtime in finished.items():  # the finished shards were loaded, not scored again
        assert next(work.glob(f"scores-*/{name}")).stat().st_mtime_ns == mtime
    assert len(list(work.glob("scores-*/shard-*.npy"))) == len(ray_rows(out))  # one pair per shard
    subprocess.run(
        [
            sys.executable,
            "-m",
            "contradict.cli",
            "corpus",
            str(path),
            "-o",
            str(tmp_path / "local.jsonl"),
            *OPTIONS,
        ],
        env=environment,
        check=True,
    )
    assert_same_rows(read_jsonl(tmp_path / "local.jsonl"), ray_rows(out))


def test_score_engine_ray_writes_the_local_file(ray_local, tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("CONTRADICT_RAY_SCORE_BATCH_SIZE", "7")
    pairs = tmp_path / "pairs.jsonl"
    rows = [
        {
            "id": i if i % 2 else f"p{i}",
            "premise": f"The bridge opened in {1900 + i}.",
            "hypothesis": "The bridge never opened.",
        }
        for i in range(30)
    ]
    pairs.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    for engine, name in (("local", "local.jsonl"), ("ray", "ray.jsonl")):
        result = CliRunner().invoke(
            app,
            [
                "score",
                str(pairs),
                "-o",
                str(tmp_path / name),
                "-m",
                str(tiny_model_dir),
                "--symmetric",
                "-q",
                "--engine",
                engine,
            ],
        )
        assert result.exit_code == 0, result.output
    # Same rows in the same order; probabilities within 1e-5 (other batches, other float sums).
    assert_same_rows(read_jsonl(tmp_path / "local.jsonl"), read_jsonl(tmp_path / "ray.jsonl"))


def test_bad_row_stops_with_the_local_message_and_skip_invalid_skips_it(ray_local, env, tmp_path):
    path = write_jsonl(tmp_path / "corpus.jsonl", [*ARTICLES, {"id": "empty", "text": " "}, *MORE])
    messages = []
    for engine in ("local", "ray"):
        result = CliRunner().invoke(
            app, ["corpus", str(path), "-o", str(tmp_path / engine), "--engine", engine]
        )
        assert result.exit_code == 2
        messages.append(result.output.strip().splitlines()[-1])
    assert (
        messages[0]
        == messages[1]
        == f"error: {path}, line 4: field 'text' is empty (--skip-invalid skips such rows)"
    )
    invoke(str(path), "-o", str(tmp_path / "skipped.jsonl"), "--engine", "ray", "--skip-invalid", *OPTIONS)
    assert {row["a_article"] for row in ray_rows(tmp_path / "skipped.jsonl")} <= {
        a["id"] for a in [*ARTICLES, *MORE]
    }


def test_a_shard_missing_a_pair_is_refused_and_a_whole_one_comes_back_in_pair_order():
    import pyarrow as pa

    from contradict.corpus.ray_shards import shard_rows

    shard = pa.table({"a_pos": [5, 1, 1], "b_pos": [6, 9, 2], "shard": [3, 3, 3], "shard_size": [3, 3, 3]})
    assert shard_rows(shard).select(["a_pos", "b_pos"]).to_pylist() == [
        {"a_pos": 1, "b_pos": 2},
        {"a_pos": 1, "b_pos": 9},
        {"a_pos": 5, "b_pos": 6},
    ]
    with pytest.raises(RuntimeError, match="2 of its 3 pairs"):
        shard_rows(shard.slice(1))


def test_a_packed_shard_survives_any_cut_of_its_blocks_and_unpacks_whole_in_pair_order():
    import pyarrow as pa

    from contradict.corpus.ray_shards import pack_shard, unpack_shards

    texts = pa.array([{"text": t} for t in ("c", "a", "b")])
    first = pa.table(
        {"a_pos": [5, 1, 1], "b_pos": [6, 9, 2], "shard": [3, 3, 3], "shard_size": [3, 3, 3], "a": texts}
    )
    second = pa.table({"a_pos": [7], "b_pos": [8], "shard": [4], "shard_size": [1], "a": texts.slice(0, 1)})
    packed = pa.concat_tables([pack_shard(first), pack_shard(second)])
    assert packed.num_rows == 2  # one row per shard: a block boundary can only fall between shards
    shards = [*unpack_shards(packed.slice(0, 1)), *unpack_shards(packed.slice(1))]
    assert [s["shard"].to_pylist() for s in shards] == [[3, 3, 3], [4]]
    assert shards[0].select(["a_pos", "b_pos"]).to_pylist() == [
        {"a_pos": 1, "b_pos": 2},
        {"a_pos": 1, "b_pos": 9},
        {"a_pos": 5, "b_pos": 6},
    ]
    assert shards[0]["a"].to_pylist() == [{"text": "b"}, {"text": "a"}, {"text": "c"}]
    with pytest.raises(RuntimeError, match="2 of its 3 pairs"):
        pack_shard(first.slice(1))
