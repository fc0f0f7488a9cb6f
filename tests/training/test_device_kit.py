"""The GPU kit: weights carried int8 per row and rebuilt, files spread over calls that fit, the
mixture materialised so that soft labels written there rebuild here, and the round trip of what the
machine sends back. Real tiny models and real files; no device is involved."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from contradict.scorer import NLIScorer
from training.device_kit import (
    REPO,
    SCALE_SUFFIX,
    collect,
    dequantise_rows,
    distribute,
    local_spec,
    materialise,
    pack,
    pack_model,
    quantise_rows,
    restore,
    send,
    slim,
    unpack_model,
)
from training.evaluate import evaluate_sets
from training.teacher import distinct_pairs, write_soft_labels

PAIRS = [
    ("The museum is open on Mondays.", "The museum is closed on Mondays."),
    ("A dog runs through the park.", "An animal is outside."),
    ("The minister resigned on Friday.", "The minister stepped down."),
    ("Prices rose sharply in May.", "Prices fell in May."),
    ("The talks resume on Tuesday.", "Negotiations restart on Tuesday."),
    ("The city was buried under snow.", "The city had a heatwave."),
]
LABELS = ["contradiction", "entailment", "entailment", "contradiction", "entailment", "contradiction"]


def write_source(folder):
    """A local dataset folder with train / validation / test splits, as a mixture can name it."""
    folder.mkdir(parents=True)
    rows = [{"premise": p, "hypothesis": h, "label": label} for (p, h), label in zip(PAIRS, LABELS)]
    for split, part in (("train", rows[:4]), ("validation", rows[4:5]), ("test", rows[5:])):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in part))
    return folder


def test_rows_go_to_int8_and_back_within_half_a_step_and_vectors_stay_exact():
    rng = np.random.default_rng(0)
    tensors = {
        "matrix": rng.normal(size=(300, 256)).astype(np.float32),
        "zero_rows": np.zeros((300, 256), dtype=np.float32),
        "bias": rng.normal(size=256).astype(np.float32),
        "small": rng.normal(size=(8, 8)).astype(np.float32),
    }
    stored = quantise_rows(tensors)
    assert stored["matrix"].dtype == np.int8
    assert stored["matrix" + SCALE_SUFFIX].shape == (300,)
    assert stored["small"].dtype == np.float32 and "small" + SCALE_SUFFIX not in stored
    back = dequantise_rows(stored)
    assert set(back) == set(tensors)
    step = np.abs(tensors["matrix"]).max(axis=1, keepdims=True) / 127
    assert np.all(np.abs(back["matrix"] - tensors["matrix"]) <= step / 2 + 1e-7)
    np.testing.assert_array_equal(back["zero_rows"], 0)
    np.testing.assert_array_equal(back["bias"], tensors["bias"])
    np.testing.assert_array_equal(back["small"], tensors["small"])


def test_packed_model_rebuilds_in_parts_and_scores_like_the_original(tiny_model_dir, tmp_path):
    packed = tmp_path / "packed"
    parts = pack_model(tiny_model_dir, packed, part_bytes=400_000)
    assert len(parts) >= 3  # the word embeddings alone are ~1 MB of int8
    assert all(path.stat().st_size < 1_300_000 for path in parts)
    rebuilt = unpack_model(packed, tmp_path / "rebuilt")
    assert (rebuilt / "tokenizer.json").exists() and (rebuilt / "config.json").exists()
    original = load_file(str(tiny_model_dir / "model.safetensors"))
    weights = load_file(str(rebuilt / "model.safetensors"))
    assert {name: value.dtype for name, value in weights.items()} == {
        name: value.dtype for name, value in original.items()
    }
    embeddings = "bert.embeddings.word_embeddings.weight"
    assert not np.array_equal(weights[embeddings], original[embeddings])  # it did travel as int8
    pairs = PAIRS * 3
    before = NLIScorer(str(tiny_model_dir), backend="torch").probabilities(pairs, calibrated=False)
    after = NLIScorer(str(rebuilt), backend="torch").probabilities(pairs, calibrated=False)
    assert np.abs(after - before).max() < 0.01


def test_a_half_precision_student_keeps_every_tensor_but_the_ones_named(tiny_model_copy, tmp_path):
    weights = load_file(str(tiny_model_copy / "model.safetensors"))
    save_file(
        {name: value.astype(np.float16) for name, value in weights.items()},
        str(tiny_model_copy / "model.safetensors"),
    )
    embeddings = "bert.embeddings.word_embeddings.weight"
    pack_model(tiny_model_copy, tmp_path / "packed", part_bytes=10_000_000, only=[embeddings])
    rebuilt = load_file(str(unpack_model(tmp_path / "packed", tmp_path / "rebuilt") / "model.safetensors"))
    original = load_file(str(tiny_model_copy / "model.safetensors"))
    for name, value in original.items():
        assert rebuilt[name].dtype == np.float16
        if name != embeddings:
            np.testing.assert_array_equal(rebuilt[name], value)
    assert np.abs(rebuilt[embeddings].astype(np.float32) - original[embeddings]).max() < 0.01


def test_files_are_spread_over_calls_that_each_fit(tmp_path):
    staging = tmp_path / "kit" / "staging"
    sizes = {
        "teacher/weights.000": 60,
        "teacher/weights.001": 50,
        "student/weights.000": 40,
        "data.tar.xz": 30,
        "w/a.whl": 5,
    }
    for name, size in sizes.items():
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_bytes(b"x" * size)
    calls = distribute(staging, tmp_path / "kit", budget=100)
    assert not staging.exists()
    loads = [
        sum(path.stat().st_size for path in (tmp_path / "kit" / f"call{i}").rglob("*") if path.is_file())
        for i in range(1, len(calls) + 1)
    ]
    assert all(load <= 100 for load in loads) and sum(loads) == sum(sizes.values())
    assert [call.bytes for call in calls] == loads and [call.last for call in calls] == [False] * (
        len(calls) - 1
    ) + [True]
    found = {
        str(Path(*path.relative_to(tmp_path / "kit").parts[1:]))  # the path inside its call folder
        for path in (tmp_path / "kit").rglob("*")
        if path.is_file()
    }
    assert found == set(sizes)
    (staging / "big").parent.mkdir(parents=True)
    (staging / "big").write_bytes(b"x" * 101)
    with pytest.raises(ValueError, match="larger than one call"):
        distribute(staging, tmp_path / "kit2", budget=100)


def test_materialised_mixture_and_sets_read_back_the_same(tmp_path, tiny_model_dir):
    source = write_source(tmp_path / "src")
    spec = f"{source}=2"
    counts = materialise(spec, tmp_path / "data", [f"{source}/test", f"{source}/validation"])
    assert counts["mix/train"] == 8  # four pairs, weight 2: the repeats survive the local copies
    assert counts["mix/00-src/test"] == 1
    scorer = NLIScorer(str(tiny_model_dir), backend="torch")
    names = [f"{source}/test", f"{source}/validation"]
    here = evaluate_sets(scorer, names)
    there = evaluate_sets(scorer, names, data_root=tmp_path / "data" / "eval")
    for name in names:
        assert there[name]["examples"] == here[name]["examples"] == 1
        assert there[name]["accuracy"] == here[name]["accuracy"]


def test_what_the_machine_sends_comes_back_as_a_student_and_rebuildable_soft_labels(tmp_path, tiny_model_dir):
    source = write_source(tmp_path / "src")
    spec = f"{source}=2"
    kit = tmp_path / "kit"
    kit.mkdir()
    (kit / "manifest.json").write_text(json.dumps({"mixture": spec, "news_pairs": None}))
    materialise(spec, tmp_path / "work" / "data", [])
    there = local_spec(tmp_path / "work" / "data")
    assert there != spec and str(tmp_path / "work" / "data" / "mix") in there
    run = tmp_path / "run"
    shutil.copytree(tiny_model_dir, run / "student" / "final")
    (run / "student" / "checkpoint-1").mkdir()
    (run / "student" / "checkpoint-1" / "model.safetensors").write_bytes(b"not sent")
    teacher = NLIScorer(str(tiny_model_dir), backend="torch")
    # there, the soft labels belong to the kit's local copy of the mixture
    write_soft_labels(teacher, there, run / "soft.jsonl", temperature=2.0)
    (run / "teacher-eval.json").write_text("{}")
    sent = send(run, tmp_path / "out")
    assert sorted(path.name for path in sent) == ["results.tar.xz", "student.safetensors.000"]
    back = collect(tmp_path / "out", tmp_path / "back", kit)
    student = back / "student"
    weights = load_file(str(student / "model.safetensors"))
    assert all(value.dtype == np.float16 for value in weights.values())
    before = teacher.probabilities(PAIRS, calibrated=False)
    after = NLIScorer(str(student), backend="torch").probabilities(PAIRS, calibrated=False)
    assert np.abs(after - before).max() < 0.01
    meta = json.loads((back / "soft_labels" / "soft.meta.json").read_text())
    assert meta["dataset"] == spec  # the spec again, not the machine's folder
    rows = [json.loads(line) for line in (back / "soft.jsonl").read_text().splitlines()]
    assert [(row["premise"], row["hypothesis"]) for row in rows] == distinct_pairs(spec)
    assert sorted(distinct_pairs(spec)) == sorted(PAIRS[:4])
    assert (back / "results" / "teacher-eval.json").exists()
    assert not (back / "results" / "student" / "checkpoint-1").exists()


def test_slim_deletes_only_committed_model_files_and_restore_brings_back_only_those(tmp_path):
    repo = tmp_path / "repo"
    (repo / "models" / "m").mkdir(parents=True)
    for name, size in (("model.safetensors", 5000), ("model.onnx", 3000), ("config.json", 10)):
        (repo / "models" / "m" / name).write_bytes(b"w" * size)
    (repo / "code.py").write_text("x = 1\n")
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=repo, check=True)
    (repo / "models" / "m" / "model.onnx").write_bytes(b"changed")
    with pytest.raises(SystemExit, match="differ from HEAD"):
        slim(repo)
    subprocess.run(["git", "checkout", "--", "models"], cwd=repo, check=True)
    assert slim(repo) == 10 + 6  # config.json and code.py are all that would travel
    assert not (repo / "models" / "m" / "model.safetensors").exists()
    (repo / "models" / "m" / "config.json").write_text("{}")  # e.g. a new export, not committed yet
    assert restore(repo) == 8000 + 2 + 6
    assert (repo / "models" / "m" / "model.safetensors").read_bytes() == b"w" * 5000
    assert (repo / "models" / "m" / "config.json").read_text() == "{}"


def test_the_device_session_runs_end_to_end_on_a_cpu_and_its_results_come_back(tmp_path, tiny_model_dir):
    """training/device_session.sh as the last call runs it, at toy sizes on this CPU (DRY: the carried
    wheels are not installed): the script is never run otherwise before a GPU session needs it."""
    source = write_source(tmp_path / "src")
    kit = tmp_path / "kit"
    pack(
        f"{source}=2",
        kit,
        student=tiny_model_dir,
        teacher=tiny_model_dir,
        wheels=False,
        eval_sets=[f"{source}/test"],
    )
    assert (kit / "PLAN.md").read_text().count("device_session.sh") == 1
    work = tmp_path / "work"
    env = {
        **os.environ,
        "DRY": "1",
        "PY": sys.executable,
        "KIT": str(kit),
        "WORK": str(work),
        "OUT": str(tmp_path / "out"),
        "DEVICE": "cpu",
        "BF16": "false",
        "TEACHER_STEPS": "2",
        "TEACHER_BATCH": "4",
        "STUDENT_STEPS": "2",
        "STUDENT_BATCH": "4",
        "SETS": f"{source}/test",
    }
    done = subprocess.run(
        ["bash", str(REPO / "training" / "device_session.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    back = collect(tmp_path / "out", tmp_path / "back", kit)
    assert (back / "student" / "model.safetensors").exists() and (back / "student" / "config.json").exists()
    assert json.loads((back / "soft_labels" / "soft.meta.json").read_text())["dataset"] == f"{source}=2"
    for model in ("teacher", "student"):
        report = json.loads((back / "results" / f"{model}-eval.json").read_text())
        assert report["sets"][f"{source}/test"]["examples"] == 1 and "behaviour" in report
