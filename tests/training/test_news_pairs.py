"""Unlabelled news statement pairs for the teacher, and the student trained on its labels for them.

The candidate search is the corpus scan's own, with the packaged bi-encoder; the teacher and the
student are tiny random models built in the tests.
"""

from __future__ import annotations

import csv
import json
import logging
import shutil

import numpy as np
import pytest
import torch

from contradict.corpus.candidates import Embedder
from contradict.scorer import NLIScorer
from tests.support.models import tiny_training_args
from tests.support.paths import FIXTURES
from training import news_pairs, teacher
from training.news_pairs import both_orders, candidate_statement_pairs, read_pairs_file, train_bodies
from training.train import NO_GOLD_LABEL, DataArguments, WeightedLoss, read_soft_labels
from training.train import main as train_main

# Body ids by their stable bucket: 1 (411), 2 (212), 3 (883) train; 14 (38) is an FNC-1 held-out body.
FLOOD = {
    "1": "Floods killed 12 people in the river town of Marlow on Sunday, officials said.\n\n"
    "Rescue teams evacuated two hundred homes near the bridge.",
    "2": "The flood in Marlow killed 45 people, a local hospital said on Monday.\n\n"
    "The regional governor visited the town and promised money for repairs.",
    "3": "Officials said the floods in Marlow killed 12 people on Sunday.\n\n"
    "Schools in the district will stay closed until Wednesday.",
    "14": "The flood in Marlow killed 30 people, according to a charity working there.",
}


def write_fnc1_folder(root, bodies: dict[str, str]):
    folder = root / "fnc1_train"
    folder.mkdir(parents=True)
    with open(folder / "train_bodies.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Body ID", "articleBody"])
        writer.writerows(bodies.items())
    for name in ("train_train_stances.csv", "train_test_stances.csv"):
        (folder / name).write_text("Headline,Body ID,Stance\n")
    return folder


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def test_pairs_join_statements_of_different_train_bodies_and_never_a_held_out_one(tmp_path, embedder):
    write_fnc1_folder(tmp_path, FLOOD)
    bodies = train_bodies(["fnc1"], tmp_path)
    assert sorted(bodies) == ["fnc1:1", "fnc1:2", "fnc1:3"]  # body 14 validates every FNC-1 source

    rows = candidate_statement_pairs(bodies, embedder, top_k=3, min_similarity=0.5)
    assert rows, "bodies about one flood give candidate pairs"
    sentences = {key: text for key, text in bodies.items()}
    for (first, second), group in rows:
        left, right = group.split("|")
        assert left != right  # statements of different articles only, as the corpus scan pairs them
        assert first in sentences[left] and second in sentences[right]
    death_tolls = {
        pair for pair, _ in rows if "12 people" in " ".join(pair) and "45 people" in " ".join(pair)
    }
    assert death_tolls, "the two death tolls are a candidate pair"
    assert not any("30 people" in " ".join(pair) for pair, _ in rows)


def test_a_pair_holding_a_sentence_of_a_held_out_text_is_dropped():
    held_out = news_pairs.held_out_sentences(["emergent"], FIXTURES / "nli")
    # Emergent test's lead sentences and claims, sentence by sentence (syndicated copy repeats them).
    assert "The pilot radioed that the engine had failed." in held_out
    assert "A pilot landed a plane on a highway after engine failure" in held_out
    rows = [
        (("The pilot  radioed that the engine had failed.", "The plane landed safely."), "fnc1:1|fnc1:2"),
        (("The plane landed safely.", "Nobody was hurt."), "fnc1:1|fnc1:3"),
    ]
    assert news_pairs.without_held_out(rows, held_out) == rows[1:]


def test_arc_keeps_only_bodies_outside_its_test_and_validation_splits():
    bodies = train_bodies(["arc"], FIXTURES / "nli")
    # 96010 and 96011 are in the published test split, 96017 in arc's validation bucket (35 < 100).
    assert sorted(bodies) == ["arc:96003", "arc:96005"]
    assert bodies["arc:96003"].startswith("Charging for plastic bags")


def test_both_orders_caps_whole_pairs_in_a_stable_order():
    rows = [((f"premise {i}", f"hypothesis {i}"), f"a|b{i}") for i in range(10)]
    everything = both_orders(rows)
    assert len(everything) == 20
    for forward, backward in zip(everything[::2], everything[1::2], strict=True):
        assert (forward["premise"], forward["hypothesis"]) == (backward["hypothesis"], backward["premise"])
        assert forward["group"] == backward["group"]
    capped = both_orders(rows, max_pairs=7)
    assert len(capped) == 6 and capped == everything[:6]  # whole pairs only
    assert both_orders(list(reversed(rows))) == everything  # order of the input does not matter
    assert [row["premise"] for row in everything[::2]] != [f"premise {i}" for i in range(10)]  # hashed


def test_pairs_file_round_trip_dedupes_and_names_a_bad_line(tmp_path):
    path = news_pairs.write_pairs(
        [
            {"premise": "A  flood.", "hypothesis": "No flood."},
            {"premise": "A flood.", "hypothesis": "No flood.", "label": "ignored"},
            {"premise": "Rain.", "hypothesis": "Sun."},
        ],
        tmp_path / "pairs.jsonl",
    )
    assert read_pairs_file(path) == [("A flood.", "No flood."), ("Rain.", "Sun.")]
    path.write_text(path.read_text() + json.dumps({"premise": "only one side"}) + "\n")
    with pytest.raises(ValueError, match="line 4"):
        read_pairs_file(path)


def test_the_command_writes_pairs_of_the_train_bodies(tmp_path, monkeypatch):
    # Body 3 repeats a sentence of the held-out body 14, whose stance row makes it a validation window.
    bodies = {**FLOOD, "3": FLOOD["3"] + "\n\nA charity said the flood in Marlow killed 30 people."}
    bodies["14"] = "A charity said the flood in Marlow killed 30 people."
    folder = write_fnc1_folder(tmp_path / "data", bodies)
    (folder / "train_train_stances.csv").write_text(
        "Headline,Body ID,Stance\nMarlow flood kills 30,14,agree\n"
    )
    for name in ("arc_stance", "emergent"):  # the other held-out sources the filter reads
        shutil.copytree(FIXTURES / "nli" / name, tmp_path / "data" / name)
    monkeypatch.setenv("CONTRADICT_NLI_DATA", str(tmp_path / "data"))
    output = news_pairs.main(
        ["--output", str(tmp_path / "pairs.jsonl"), "--sources", "fnc1", "--max_pairs", "4"]
    )
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(rows) == 4
    assert {tuple(row) for row in rows} == {("premise", "hypothesis", "group")}
    everything = news_pairs.main(["--output", str(tmp_path / "all.jsonl"), "--sources", "fnc1"])
    assert read_pairs_file(everything)
    assert not any("killed 30 people" in " ".join(pair) for pair in read_pairs_file(everything))


def test_the_teacher_labels_a_pairs_file_and_the_array_rebuilds_it(tiny_model_dir, tmp_path):
    pairs_file = news_pairs.write_pairs(
        [
            {"premise": f"The flood killed {n} people.", "hypothesis": f"{n + 3} people died."}
            for n in range(6)
        ],
        tmp_path / "pairs.jsonl",
    )
    output = tmp_path / "soft-news.jsonl"
    teacher.main(
        ["--model", str(tiny_model_dir), "--pairs", str(pairs_file), "--output", str(output)]
        + ["--temperature", "2", "--device", "cpu"]
    )
    written = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(row["premise"], row["hypothesis"]) for row in written] == read_pairs_file(pairs_file)
    scorer = NLIScorer(str(tiny_model_dir))
    expected = teacher.softmax(scorer._logits(read_pairs_file(pairs_file)).astype(np.float64), 2.0)
    assert np.allclose([row["probabilities"] for row in written], expected, atol=1e-6)
    assert json.loads(teacher.meta_path(output).read_text())["pairs_file"] == str(pairs_file)

    rebuilt = tmp_path / "rebuilt.jsonl"
    teacher.soft_labels_from_array(tmp_path / "soft-news.jsonl.npy", rebuilt)
    again = [json.loads(line) for line in rebuilt.read_text().splitlines()]
    assert [(row["premise"], row["hypothesis"]) for row in again] == read_pairs_file(pairs_file)
    assert np.allclose([row["probabilities"] for row in again], expected, atol=1e-6)  # kept as float32


def test_rows_without_a_gold_label_add_nothing_to_the_cross_entropy():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0], [-1.0, 3.0, 0.0]], requires_grad=True)
    labels = torch.tensor([0, NO_GOLD_LABEL, 1])
    loss = WeightedLoss(None)({"logits": logits}, labels)
    assert loss.item() == pytest.approx(
        torch.nn.functional.cross_entropy(logits[[0, 2]], labels[[0, 2]]).item(), rel=1e-6
    )
    none = WeightedLoss(torch.tensor([1.0, 2.0, 1.0]))({"logits": logits}, torch.full((3,), NO_GOLD_LABEL))
    assert none.item() == 0.0  # not NaN: the distillation term alone trains such a batch
    none.backward()
    assert torch.count_nonzero(logits.grad) == 0


def test_unlabelled_pairs_need_soft_labels_and_several_soft_label_files_are_read(tmp_path):
    pairs = news_pairs.write_pairs([{"premise": "A.", "hypothesis": "B."}], tmp_path / "pairs.jsonl")
    with pytest.raises(ValueError, match="needs --soft_labels"):
        DataArguments(unlabelled_pairs=str(pairs))
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text(json.dumps({"premise": "A.", "hypothesis": "B.", "probabilities": [1, 0, 0]}) + "\n")
    second.write_text(json.dumps({"premise": "A.", "hypothesis": "B.", "probabilities": [0, 1, 0]}) + "\n")
    arguments = DataArguments(soft_labels=f"{first},{second}", unlabelled_pairs=str(pairs))
    assert arguments.soft_label_files == [str(first), str(second)]
    assert read_soft_labels(*arguments.soft_label_files) == {("A.", "B."): [0.0, 1.0, 0.0]}  # later wins
    with pytest.raises(FileNotFoundError, match="missing"):
        DataArguments(soft_labels=f"{first},{tmp_path / 'missing.jsonl'}")


@pytest.mark.slow  # trains a model
def test_a_run_trains_on_unlabelled_pairs_through_the_teacher_alone(tiny_model_dir, tmp_path, caplog):
    data = tmp_path / "data"
    data.mkdir()
    cues = {
        "contradiction": "never wrong false no",
        "entailment": "always right true yes",
        "neutral": "maybe",
    }
    labelled = [
        {"premise": f"statement {i} about the border", "hypothesis": cues[label], "label": label}
        for i, label in enumerate(list(cues) * 8)
    ]
    (data / "train.jsonl").write_text("".join(json.dumps(row) + "\n" for row in labelled))
    # Unlabelled pairs whose only signal is the teacher: "flood" hypotheses are contradictions.
    unlabelled = [
        {"premise": f"report {i} from the valley", "hypothesis": "flood flood flood"} for i in range(40)
    ]
    pairs_file = news_pairs.write_pairs(unlabelled, tmp_path / "pairs.jsonl")
    soft = tmp_path / "soft-news.jsonl"
    soft.write_text(
        "".join(json.dumps({**row, "probabilities": [0.9, 0.05, 0.05]}) + "\n" for row in unlabelled[:32])
    )
    caplog.set_level(logging.INFO)
    args = tiny_training_args(
        tiny_model_dir, data, tmp_path / "run", max_steps=24, learning_rate="1e-2", logging_steps=4
    )
    extra = [
        "--soft_labels",
        str(soft),
        "--unlabelled_pairs",
        str(pairs_file),
        "--max_unlabelled_pairs",
        "24",
    ]
    final = train_main([*args, *extra, "--distill_alpha", "0.5", "--distill_temperature", "1"])

    assert "unlabelled pairs: 8 of 40 have no teacher row and are dropped" in caplog.text
    assert "unlabelled pairs: 24 with the teacher's soft labels alone" in caplog.text
    history = json.loads((final / "log_history.json").read_text())
    losses = [entry["loss"] for entry in history if "loss" in entry]
    assert all(np.isfinite(losses)) and np.mean(losses[-2:]) < 0.7 * np.mean(losses[:2])
    unseen = [("report 99 from the valley", "flood flood flood")]
    before = NLIScorer(str(tiny_model_dir)).probabilities(unseen, calibrated=False)[0]
    after = NLIScorer(str(final)).probabilities(unseen, calibrated=False)[0]
    # Learnt from the teacher's rows alone: no gold row has "flood" in it.
    assert after.argmax() == 0 and after[0] > 0.8 and after[0] > before[0] + 0.3


def test_symmetric_contradiction_averages_both_orders_and_keeps_the_other_ratio():
    pairs = [("a", "b"), ("b", "a"), ("c", "d")]
    probabilities = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.5, 0.25, 0.25]])
    out = teacher.symmetric_contradiction(pairs, probabilities)
    assert out[:2, 0] == pytest.approx([0.4, 0.4])
    assert out[0, 1:] == pytest.approx([0.6 * 0.75, 0.6 * 0.25])  # entailment : neutral stays 3 : 1
    assert out[1, 1:] == pytest.approx([0.6 * 0.25, 0.6 * 0.75])
    assert out[2] == pytest.approx(probabilities[2])  # no reverse scored: unchanged
    assert out.sum(axis=1) == pytest.approx(np.ones(3))
    assert probabilities[0, 0] == 0.6  # the input is left alone


def test_the_model_card_says_when_the_last_stage_learnt_unlabelled_pairs():
    from training.model_card import _distillation_line

    distilled = {"soft_labels": "soft.jsonl", "distill_alpha": 0.7, "distill_temperature": 2.0}
    assert "unlabelled" not in _distillation_line(distilled)
    line = _distillation_line({**distilled, "unlabelled_pairs": "news.jsonl", "max_unlabelled_pairs": 30000})
    assert "unlabelled pairs (`news.jsonl`, at most 30000 of them" in line
    assert "no cross-entropy term" in line
    assert _distillation_line({}) == ""
