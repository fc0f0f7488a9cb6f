"""Self-healing checkpoints: every damaged checkpoint is discarded with a warning and recomputed, and
the run writes output byte-identical (JSONL, CSV and HTML) to an uninterrupted run, with no manual
step. Real pipeline: the tiny random NLI model and the real bi-encoder."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from contradict.corpus.errors import CorpusError
from contradict.corpus.workdir import WorkDir
from tests.support.corpus import run_corpus, write_jsonl

pytestmark = pytest.mark.slow  # the real bi-encoder

OUTPUTS = (".jsonl", ".csv", ".html")
TARGETS = {
    "statements": "statements-*.json",
    "candidates": "candidates-*.npz",
    "shard": "scores-*/shard-000001.npy",
}


run = run_corpus


@pytest.fixture(scope="module")
def reference(tmp_path_factory, scorer, embedder) -> tuple[Path, Path]:
    """An uninterrupted run: the corpus and its output (checkpoints kept in out.jsonl.work)."""
    folder = tmp_path_factory.mktemp("reference")
    corpus = write_jsonl(folder / "corpus.jsonl")
    out = folder / "out.jsonl"
    result = run(corpus, out, scorer, embedder)
    assert result.summary["candidates"] > 6, "the test needs at least three score shards"
    return corpus, out


# -- the damage ----------------------------------------------------------------------------------


def _altered_json(data: bytes) -> bytes:
    rows = json.loads(data)
    rows[-1][3] -= 1  # the last statement ends one character early: valid, and wrong
    return json.dumps(rows, separators=(",", ":")).encode()


def _nan_json(data: bytes) -> bytes:
    rows = json.loads(data)
    rows[0][2] = float("nan")
    return json.dumps(rows).encode()  # Python writes a bare NaN


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npz_arrays(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data)) as loaded:
        return {key: loaded[key].copy() for key in loaded.files}


def _altered_npz(data: bytes) -> bytes:
    arrays = _npz_arrays(data)
    arrays["similarity"] = arrays["similarity"][::-1].copy()
    return _npz(arrays)


def _nan_npz(data: bytes) -> bytes:
    arrays = _npz_arrays(data)
    arrays["similarity"][0] = np.nan
    return _npz(arrays)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _altered_npy(data: bytes) -> bytes:
    probs = np.load(io.BytesIO(data))
    return _npy(probs[:, [1, 0, 2]].copy())  # still probabilities, contradiction and entailment swapped


def _nan_npy(data: bytes) -> bytes:
    probs = np.load(io.BytesIO(data))
    probs[0, 0] = np.nan
    return _npy(probs)


ALTERED = {"statements": _altered_json, "candidates": _altered_npz, "shard": _altered_npy}
NAN = {"statements": _nan_json, "candidates": _nan_npz, "shard": _nan_npy}
DAMAGE = {
    "empty": lambda kind, data: b"",
    "truncated": lambda kind, data: data[: len(data) // 2],
    "random-bytes": lambda kind, data: random.Random(0).randbytes(len(data)),
    "empty-list": lambda kind, data: b"[]",
    "altered-but-valid": lambda kind, data: ALTERED[kind](data),
    "nan": lambda kind, data: NAN[kind](data),
}
CASES = [(kind, damage) for kind in TARGETS for damage in DAMAGE]


@pytest.mark.parametrize(("kind", "damage"), CASES, ids=[f"{k}-{d}" for k, d in CASES])
def test_a_damaged_checkpoint_is_recomputed_and_the_output_is_identical(
    kind, damage, reference, tmp_path, scorer, embedder, caplog
):
    corpus, reference_out = reference
    out = tmp_path / "out.jsonl"
    work = tmp_path / "out.jsonl.work"
    shutil.copytree(reference_out.with_name("out.jsonl.work"), work)
    (target,) = work.glob(TARGETS[kind])
    damaged = DAMAGE[damage](kind, target.read_bytes())
    target.write_bytes(damaged)
    if damage == "nan":  # vouch for the NaN in the manifest: the content check must still refuse it
        manifest = json.loads((work / WorkDir.MANIFEST).read_text())
        manifest[target.relative_to(work).as_posix()] = hashlib.sha256(damaged).hexdigest()
        (work / WorkDir.MANIFEST).write_text(json.dumps(manifest))

    with caplog.at_level(logging.WARNING, logger="contradict.corpus.workdir"):
        run(corpus, out, scorer, embedder)

    for suffix in OUTPUTS:
        assert out.with_suffix(suffix).read_bytes() == reference_out.with_suffix(suffix).read_bytes(), suffix
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(target.name in w and "discarded, recomputing" in w for w in warnings), warnings
    assert b"NaN" not in out.read_bytes()
    # The recomputed checkpoint is sound: the next run resumes from it without a warning.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="contradict.corpus.workdir"):
        again = run(corpus, out, scorer, embedder)
    assert not caplog.records and "segment" in again.summary["resumed"]


def test_a_damaged_manifest_redoes_the_work_with_the_same_output(
    reference, tmp_path, scorer, embedder, caplog
):
    corpus, reference_out = reference
    out = tmp_path / "out.jsonl"
    work = tmp_path / "out.jsonl.work"
    shutil.copytree(reference_out.with_name("out.jsonl.work"), work)
    (work / WorkDir.MANIFEST).write_bytes(b'{"statements-')
    with caplog.at_level(logging.WARNING, logger="contradict.corpus.workdir"):
        result = run(corpus, out, scorer, embedder)
    assert result.summary["resumed"] == []
    assert any("manifest" in r.getMessage() for r in caplog.records)
    for suffix in OUTPUTS:
        assert out.with_suffix(suffix).read_bytes() == reference_out.with_suffix(suffix).read_bytes()


def test_scores_that_are_not_finite_are_never_written(reference, tmp_path, scorer, embedder):
    corpus, _ = reference
    out = tmp_path / "out.jsonl"

    def nan_scores(pairs, progress):
        return np.full((len(pairs), 3), np.nan, dtype=np.float32)

    with pytest.raises(CorpusError, match="not finite"):
        run(corpus, out, scorer, embedder, score_fn=nan_scores)
    assert not out.exists()
    assert not list((tmp_path / "out.jsonl.work").glob("scores-*/shard-*.npy"))


def test_pruning_a_shared_work_dir_deletes_only_this_tools_files(tmp_path):
    """`--work-dir` may be a folder of the user's own: a finished run removes its checkpoints and
    nothing else (names that merely start like a stage's, other temporary files, another manifest)."""
    users = ["scores-2023-notes.txt", "candidates-list.xlsx", "statements-draft.json", "readme.txt"]
    for name in users:
        (tmp_path / name).write_text("the user's\n")
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / ".draft.tmp").write_text("the user's\n")
    (tmp_path / "manifest.json").write_text('{"budget": 12}')
    work = WorkDir(tmp_path)
    work.prune(set())
    assert (tmp_path / "manifest.json").read_text() == '{"budget": 12}'  # not a checkpoint manifest

    key = "0123456789abcdef"
    work.save(f"statements-{key}.json", b"[]")
    work.save(f"scores-{key}/shard-0.npy", b"x")
    (tmp_path / f".candidates-{key}.npz.4242.tmp").write_bytes(b"cut short")  # as older versions named it
    (tmp_path / f".candidates-{key}.npz.4242.0a1b2c3d.tmp").write_bytes(b"cut short")
    (tmp_path / f".scores-{key}.partial").mkdir()
    work.prune(set())
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert left == sorted([*users, "manifest.json", "deep", "deep/er", "deep/er/.draft.tmp"])
    assert (tmp_path / "manifest.json").read_text() == '{"budget": 12}'  # ours has its own name


def test_a_legacy_checkpoint_manifest_is_removed_with_the_checkpoints(tmp_path):
    key = "0123456789abcdef"
    (tmp_path / f"candidates-{key}.npz").write_bytes(b"x")
    (tmp_path / "manifest.json").write_text(json.dumps({f"candidates-{key}.npz": "0" * 64}))
    WorkDir(tmp_path).prune(set())
    assert list(tmp_path.iterdir()) == []
