"""The readers of ``../shared/data/nli/`` folders and the weighted mixture built on them.

Fixtures under ``tests/fixtures/nli/`` copy each published folder's file names and exact shapes
(BOM, CRLF, PTB escapes, MPE image ids, OpenIE columns, multi-line bodies) with invented rows.
Every test points the readers at those fixtures and at a private cache directory, so no test can
read the real data or leave stance windows in the user's cache.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import datasets
import numpy as np
import pytest

from contradict.labels import CONTRADICTION, ENTAILMENT, LABELS, NEUTRAL
from tests.support import paths
from training import nli_sources
from training.claim_negation import negate_claim
from training.data import load_mixture, load_nli_dataset, parse_mixture, weighted_sample
from training.nli_sources import (
    StancePair,
    hold_out_by_group,
    read_source,
    read_stance_csv,
    split_by_bucket,
    stable_bucket,
    stance_rows,
    stance_windows,
)

FIXTURES = paths.FIXTURES / "nli"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Fixture data only, and a private cache: stance windows must never land in the user cache."""
    monkeypatch.setenv("CONTRADICT_NLI_DATA", str(FIXTURES))
    monkeypatch.setenv("CONTRADICT_CACHE_DIR", str(tmp_path / "cache"))


def bag_of_words(texts: list[str]) -> np.ndarray:
    """A deterministic stand-in embedder: hashed counts of words of 4+ letters, unit length."""
    vectors = np.zeros((len(texts), 4096), dtype=np.float32)
    for index, text in enumerate(texts):
        for word in re.findall(r"[a-z]{4,}", text.lower()):
            vectors[index, int(hashlib.md5(word.encode()).hexdigest(), 16) % 4096] += 1.0
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def groups(rows: list[dict]) -> set[str]:
    return {item["group"] for item in rows}


def assert_no_group_on_two_sides(splits: dict[str, list[dict]]) -> None:
    names = list(splits)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            shared = groups(splits[first]) & groups(splits[second])
            assert not shared, f"{first}/{second} share {shared}"


def all_rows(splits: dict[str, list[dict]]) -> list[dict]:
    return [item for rows in splits.values() for item in rows]


# -- formats ----------------------------------------------------------------------------------------


def test_mnli_csv_with_crlf_is_cleaned_and_unlabelled_rows_dropped():
    assert b"\r\n" in (FIXTURES / "mnli_dev_matched" / "dev_matched.csv").read_bytes()
    rows = all_rows(read_source("mnli", root=FIXTURES))
    assert len(rows) == 8  # the 9th row has no label
    assert {item["hypothesis"] for item in rows} >= {"The ferry runs all night", "They grow some vegetables."}
    assert "Nobody has ever climbed the tower." not in {item["hypothesis"] for item in rows}
    quoted = [item for item in rows if item["premise"].startswith("uh well")]
    assert quoted[0]["premise"] == "uh well we mostly grow tomatoes, beans and a little squash"
    assert Counter(item["label"] for item in rows) == {ENTAILMENT: 4, CONTRADICTION: 3, NEUTRAL: 1}


def test_snli_line_files_lose_their_tokenised_spacing():
    rows = all_rows(read_source("snli", root=FIXTURES))
    assert len(rows) == 7
    premises = {item["premise"] for item in rows}
    assert "A man in a red jacket is fixing a bicycle tire on the sidewalk." in premises
    assert "Three children, two of them wearing hats, play in the snow." in premises
    assert all(" ." not in item["premise"] + item["hypothesis"] for item in rows)
    assert all(" ," not in item["premise"] for item in rows)
    assert all(item["group"] == item["premise"] for item in rows)
    assert {item["label"] for item in rows} == set(LABELS)


def test_snli_misaligned_line_files_are_refused(tmp_path):
    folder = tmp_path / "snli_dev"
    folder.mkdir()
    (folder / "s1.dev").write_text("A dog runs .\nA cat sleeps .\n")
    (folder / "s2.dev").write_text("An animal runs .\nA cat is awake .\n")
    (folder / "labels.dev").write_text("entailment\n")
    with pytest.raises(ValueError, match="1"):
        read_source("snli", root=tmp_path)


def test_snli_mnli_subset_ignores_openie_columns_and_keeps_its_published_splits():
    splits = read_source("snli_mnli_subset", root=FIXTURES)
    assert {name: len(rows) for name, rows in splits.items()} == {"train": 5, "validation": 2, "test": 2}
    assert set(splits["train"][0]) == {"premise", "hypothesis", "label", "group"}
    assert splits["train"][0] == {
        "premise": "A boy in a yellow shirt kicks a soccer ball.",
        "hypothesis": "A boy plays with a ball.",
        "label": ENTAILMENT,
        "group": "A boy in a yellow shirt kicks a soccer ball.",
    }
    assert splits["train"][2]["premise"] == "The museum opens late on Thursdays, the sign says."


def test_cad_tsv_keeps_csv_quoted_text():
    splits = read_source("cad", root=FIXTURES)
    assert {name: len(rows) for name, rows in splits.items()} == {"train": 5, "validation": 3}
    premises = {item["premise"] for item in splits["train"]}
    assert 'A man stands outside of "BakeHouse" reading the menu.' in premises
    assert {item["label"] for item in splits["validation"]} == set(LABELS)


def test_conjnli_bom_is_handled_and_rows_without_a_label_are_dropped():
    raw = (FIXTURES / "conjnli" / "conj_dev.tsv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    splits = read_source("conjnli", root=FIXTURES)
    # A raw TSV (no CSV quoting): the row whose fields start with '"' keeps its quotes and label;
    # dev has one empty Label, dropped.
    assert {name: len(rows) for name, rows in splits.items()} == {"train": 4, "validation": 3}
    assert any(item["premise"].startswith('"') for item in splits["train"])
    for item in all_rows(splits):
        assert item["label"] in LABELS
        assert "\ufeff" not in item["premise"]
        assert item["hypothesis"] not in LABELS
    assert splits["train"][0]["premise"].startswith("Maria Olsen studied chemistry")
    assert "The orchard grows apples and pears." not in {item["premise"] for item in splits["validation"]}


def test_mpe_image_id_prefixes_are_stripped():
    splits = read_source("mpe", root=FIXTURES)
    assert {name: len(rows) for name, rows in splits.items()} == {"train": 3, "validation": 2}
    first = splits["train"][0]
    assert first["premise"] == (
        "A dog leaps over a log in the woods. A brown dog jumps a fallen tree. "
        "A dog in mid-air above a log. The dog is outside near trees."
    )
    assert first["group"] == first["premise"]
    # One caption starts with a digit ("2 men ..."), one already ends with a period.
    assert splits["train"][1]["premise"] == (
        "A crowd waits at a bus stop in the rain. People with umbrellas stand near a road. "
        "2 men and a woman hold umbrellas. Commuters wait for a bus."
    )
    for item in all_rows(splits):
        assert not re.search(r"\d+jpg\d", item["premise"])
        assert ".." not in item["premise"]


def test_clean_mpe_premise_handles_empty_text():
    assert nli_sources.clean_mpe_premise("") == ""
    assert nli_sources.clean_mpe_premise("123jpg0A cat sits 123jpg1A cat naps.") == "A cat sits. A cat naps."


def test_fever_ptb_escapes_are_undone_and_not_entailment_is_contradiction():
    rows = all_rows(read_source("fever", root=FIXTURES))
    assert len(rows) == 12
    premises = {item["premise"] for item in rows}
    assert "Harbor Lights is a 1994 American drama film directed by Ellen Marsh (born 1950)." in premises
    assert '"Paper Moons" is a song by the band Glass Orchard, released as a single in 2003.' in premises
    assert "The Quillon River ([kee-yon]) flows through the town of Arvel." in premises
    assert not any(re.search(r"-[LR][RSC]B-|``|''", item["premise"]) for item in rows)
    by_claim = {item["hypothesis"]: item["label"] for item in rows}
    assert by_claim["Harbor Lights was directed by Ellen Marsh."] == ENTAILMENT
    assert by_claim["Harbor Lights is a 2004 comedy."] == CONTRADICTION
    assert Counter(by_claim.values()) == {ENTAILMENT: 7, CONTRADICTION: 5}


def test_emergent_labels_and_lead_sentences():
    splits = read_source("emergent", root=FIXTURES)
    train = {item["hypothesis"]: item for item in splits["train"]}
    assert train["A farmer in Ohio grew a pumpkin weighing 900 kilograms"]["label"] == ENTAILMENT
    assert train["The city zoo will close permanently next year"]["label"] == CONTRADICTION
    assert train["A famous painter's lost sketchbook was found in a flea market"]["label"] == NEUTRAL
    assert train["A farmer in Ohio grew a pumpkin weighing 900 kilograms"]["premise"] == (
        "A farmer near Dayton says his pumpkin tipped the scales at 900 kilograms. "
        "Judges at the county fair confirmed the weight on Saturday. "
        "The previous state record was 780 kilograms."
    )
    assert all(item["group"] == item["hypothesis"] for item in all_rows(splits))


def test_anli_is_evaluation_only_with_one_validation_split_per_round():
    splits = read_source("anli", root=FIXTURES)
    assert "train" not in splits
    assert {name: len(rows) for name, rows in splits.items()} == {
        "validation_r1": 3,
        "validation_r2": 2,
        "validation_r3": 3,
    }
    r1 = {item["hypothesis"]: item["label"] for item in splits["validation_r1"]}
    assert r1 == {
        "The lighthouse at Kestrel Point is older than 1900.": ENTAILMENT,
        "Kestrel Point has no lighthouse.": CONTRADICTION,
        "Ada Brenn has won a national prize.": NEUTRAL,
    }
    assert not nli_sources.SOURCES["anli"].trainable
    data = load_nli_dataset("anli")
    assert set(data) == {"validation_r1", "validation_r2", "validation_r3"}


# -- leak-free splits -------------------------------------------------------------------------------


def _write_mnli(folder: Path, premises: int, per_premise: int) -> None:
    folder.mkdir(parents=True)
    with open(folder / "dev_matched.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["premise", "hypothesis", "label"])
        for p in range(premises):
            for h in range(per_premise):
                writer.writerow(
                    [f"Premise number {p} about a quiet town", f"Hypothesis {h} on {p}", LABELS[h % 3]]
                )


def test_mnli_holds_out_2000_pairs_by_whole_premises(tmp_path):
    _write_mnli(tmp_path / "mnli_dev_matched", premises=700, per_premise=4)
    splits = read_source("mnli", root=tmp_path)
    assert 2000 <= len(splits["validation"]) < 2004
    assert len(splits["train"]) + len(splits["validation"]) == 2800
    assert_no_group_on_two_sides(splits)
    assert not {item["premise"] for item in splits["train"]} & {
        item["premise"] for item in splits["validation"]
    }
    assert read_source("mnli", root=tmp_path) == splits


def test_snli_holds_out_3000_pairs_by_whole_premises(tmp_path):
    folder = tmp_path / "snli_dev"
    folder.mkdir()
    s1, s2, labels = [], [], []
    for p in range(900):
        for h in range(4):
            s1.append(f"A person , number {p} , walks a dog . ")
            s2.append(f"Someone walks , case {h} . ")
            labels.append(LABELS[h % 3])
    for name, lines in (("s1", s1), ("s2", s2), ("labels", labels)):
        (folder / f"{name}.dev").write_text("\n".join(lines) + "\n")
    splits = read_source("snli", root=tmp_path)
    assert 3000 <= len(splits["validation"]) < 3004
    assert len(all_rows(splits)) == 3600
    assert_no_group_on_two_sides(splits)
    assert splits["train"][0]["premise"].startswith("A person, number")
    assert read_source("snli", root=tmp_path) == splits


def test_small_mnli_and_snli_never_split_a_premise():
    for name in ("mnli", "snli"):
        assert_no_group_on_two_sides(read_source(name, root=FIXTURES))


def test_fever_splits_by_evidence_bucket():
    splits = read_source("fever", root=FIXTURES)
    assert set(splits) == {"train", "validation"}
    assert splits["train"] and splits["validation"]
    assert_no_group_on_two_sides(splits)
    for item in splits["validation"]:
        assert stable_bucket(item["group"]) < 100
    for item in splits["train"]:
        assert stable_bucket(item["group"]) >= 100
    # The two claims on the same evidence sit on one side.
    harbor = [item for item in all_rows(splits) if item["premise"].startswith("Harbor Lights")]
    assert len(harbor) == 2
    assert all(item in splits["validation"] for item in harbor)


def test_emergent_drops_train_claims_that_reappear_in_test():
    raw_train = (FIXTURES / "emergent" / "lead3_train.jsonl").read_text().splitlines()
    raw_claims = {json.loads(line)["claim"] for line in raw_train}
    splits = read_source("emergent", root=FIXTURES)
    assert "A pilot landed a plane on a highway after engine failure" in raw_claims
    assert {name: len(rows) for name, rows in splits.items()} == {"train": 3, "test": 3}
    assert_no_group_on_two_sides(splits)
    assert "A pilot landed a plane on a highway after engine failure" in groups(splits["test"])


def _grouped_rows() -> list[dict]:
    sizes = {f"g{i}": 1 + i % 3 for i in range(12)}
    return [
        {"premise": f"premise {key}", "hypothesis": f"h{n}", "label": NEUTRAL, "group": key}
        for key, size in sizes.items()
        for n in range(size)
    ]


def test_hold_out_by_group_takes_whole_groups_in_hash_order():
    rows = _grouped_rows()
    train, held = hold_out_by_group(rows, 5)
    assert not groups(train) & groups(held)
    assert len(train) + len(held) == len(rows)
    sizes = Counter(item["group"] for item in rows)
    held_groups = groups(held)
    assert all(sum(item["group"] == key for item in held) == sizes[key] for key in held_groups)
    order = sorted(sizes, key=lambda key: hashlib.md5(key.encode()).hexdigest())
    assert held_groups == set(order[: len(held_groups)])
    assert len(held) >= 5
    assert len(held) - sizes[order[len(held_groups) - 1]] < 5  # stopped as soon as it had enough
    # Deterministic, whatever the input order.
    again_train, again_held = hold_out_by_group(list(reversed(rows)), 5)
    assert groups(again_held) == held_groups
    assert hold_out_by_group(rows, 5) == (train, held)


def test_hold_out_by_group_edge_sizes():
    rows = _grouped_rows()
    assert hold_out_by_group(rows, 0) == (rows, [])
    train, held = hold_out_by_group(rows, 10_000)
    assert train == [] and len(held) == len(rows)


def test_split_by_bucket_is_deterministic_and_group_pure():
    rows = [
        {"premise": f"p{i}", "hypothesis": f"h{i}", "label": NEUTRAL, "group": f"body {i // 2}"}
        for i in range(400)
    ]
    splits = split_by_bucket(rows, 150, name="dev")
    assert set(splits) == {"train", "dev"}
    assert splits == split_by_bucket(list(rows), 150, name="dev")
    assert_no_group_on_two_sides(splits)
    assert len(splits["train"]) + len(splits["dev"]) == 400
    assert all(stable_bucket(item["group"]) < 150 for item in splits["dev"])
    assert 20 <= len(splits["dev"]) <= 110  # about 15%
    assert split_by_bucket(rows, 0)["validation"] == []


# -- news stance ------------------------------------------------------------------------------------

SENTENCES = {
    "7": [
        "The mayor opened a new library on Friday morning.",
        "Rain fell across the region all weekend long.",
        "The library holds forty thousand books and a small cafe.",
        "Traffic on the ring road was slow on Monday.",
    ],
    "8": ["Only one sentence in this body survived."],
    "9": [],
}


def test_stance_windows_pick_the_most_similar_sentences_in_body_order():
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return bag_of_words(texts)

    pairs = [
        StancePair("Mayor opens library with forty thousand books", "7", "agree"),
        StancePair("Weekend rain soaks the region", "7", "discuss"),
        StancePair("Only one sentence survived", "8", "agree"),
        StancePair("No body at all for this claim", "9", "agree"),
        StancePair("Unknown body for this claim", "404", "agree"),
    ]
    out = stance_windows(pairs, SENTENCES, embed, window=2)
    assert len(calls) == 2  # claims once, all body sentences once
    assert [pair for pair, _, _ in out] == pairs[:3]  # bodies without sentences are skipped
    body = SENTENCES["7"]
    pair, premise, similarity = out[0]
    # Sentence 2 is the best match, sentence 0 second: the window keeps body order.
    assert premise == f"{body[0]} {body[2]}"
    expected = float(bag_of_words(body[2:3])[0] @ bag_of_words([pair.claim])[0])
    assert similarity == pytest.approx(expected)
    assert body[1] in out[1][1]  # the only sentence sharing a word with the claim
    assert out[2][1] == "Only one sentence in this body survived."
    single = stance_windows(pairs[:1], SENTENCES, bag_of_words, window=1)
    assert single[0][1] == body[2]
    assert stance_windows(pairs[:1], SENTENCES, bag_of_words, window=2) == out[:1]


def test_stance_rows_map_labels_and_subsample_unrelated_by_stable_hash():
    folder = FIXTURES / "fnc1_train"
    pairs, texts = read_stance_csv(
        [folder / "train_train_stances.csv", folder / "train_test_stances.csv"], folder / "train_bodies.csv"
    )
    assert len(pairs) == 12 and set(texts) == {"3101", "3103", "3104", "3107"}
    assert "\n\n" in texts["3101"]  # bodies span lines with blank lines, as published
    unrelated = [pair for pair in pairs if pair.stance == "unrelated"]
    kept_unrelated = {(p.claim, p.body_id) for p in unrelated if stable_bucket(f"{p.claim}|{p.body_id}") < 50}
    assert kept_unrelated and len(kept_unrelated) < len(unrelated)  # the fixture exercises both sides

    rows = stance_rows(pairs, texts, "fnc1", embed=bag_of_words)
    related = [pair for pair in pairs if pair.stance != "unrelated"]
    assert len(rows) == len(related) + len(kept_unrelated)
    by_pair = {(item["hypothesis"], item["group"]): item for item in rows}
    assert (
        by_pair[("Hallam town hall clock stops after gear snaps inside tower", "3101")]["label"] == ENTAILMENT
    )
    assert by_pair[("Penguin found wandering in Cardiff shopping centre", "3103")]["label"] == CONTRADICTION
    assert (
        by_pair[("Man claims scratch card found on bus seat won him two million", "3104")]["label"] == NEUTRAL
    )
    for claim, body_id in kept_unrelated:
        assert by_pair[(claim, body_id)]["label"] == NEUTRAL
    assert ("Penguin found wandering in Cardiff shopping centre", "3101") not in by_pair
    penguin = by_pair[("Penguin found wandering in Cardiff shopping centre", "3103")]["premise"]
    assert penguin.startswith("Police in Cardiff have denied reports that a penguin")

    everything = stance_rows(pairs, texts, "fnc1", embed=bag_of_words, unrelated_fraction=1.0)
    assert len(everything) == len(pairs)
    none = stance_rows(pairs, texts, "fnc1", embed=bag_of_words, unrelated_fraction=0.0)
    assert len(none) == len(related)
    odd = [StancePair("Hallam clock", "3101", "comment")]
    assert stance_rows(odd, texts, "fnc1", embed=bag_of_words) == []


def _sentences_of(body: str) -> str:
    return " ".join(body.split())


def test_fnc1_source_splits_by_body_and_caches_its_windows(tmp_path, monkeypatch):
    splits = read_source("fnc1", root=FIXTURES)  # the real bi-encoder, on a few sentences
    fingerprint = nli_sources.folder_fingerprint(FIXTURES / "fnc1_train")
    cached = tmp_path / "cache" / "nli" / f"fnc1-{nli_sources.STANCE_VERSION}-{fingerprint}.json"
    assert cached.is_file()
    assert {name: len(rows) for name, rows in splits.items()} == {"train": 6, "validation": 2}
    assert groups(splits["validation"]) == {"3101"}  # stable_bucket("3101") < 150
    assert_no_group_on_two_sides(splits)
    _, texts = read_stance_csv([], FIXTURES / "fnc1_train" / "train_bodies.csv")
    for item in all_rows(splits):
        assert item["label"] in LABELS
        assert item["premise"] != _sentences_of(texts[item["group"]])  # a window, not the whole body
        assert set(item["premise"].split()) <= set(_sentences_of(texts[item["group"]]).split())
    penguin = [item for item in splits["train"] if item["label"] == CONTRADICTION]
    assert "denied reports that a penguin" in penguin[0]["premise"]

    def no_model(texts):
        raise AssertionError("the cached windows should be reused")

    monkeypatch.setattr(nli_sources, "default_embed", no_model)
    assert read_source("fnc1", root=FIXTURES) == splits

    # Other data in the folder: the cache is not served, the windows are built again.
    changed = tmp_path / "data" / "fnc1_train"
    shutil.copytree(FIXTURES / "fnc1_train", changed)
    stances = changed / "train_train_stances.csv"
    stances.write_text("\n".join(stances.read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(AssertionError, match="reused"):
        read_source("fnc1", root=changed.parent)


def test_fnc1_unrelated_is_neutral_disjoint_from_fnc1_and_split_like_it(monkeypatch):
    monkeypatch.setattr(nli_sources, "default_embed", bag_of_words)
    monkeypatch.setattr(nli_sources, "UNRELATED_SLICE", (50, 1000))  # every pair fnc1 leaves out
    folder = FIXTURES / "fnc1_train"
    pairs, texts = read_stance_csv(
        [folder / "train_train_stances.csv", folder / "train_test_stances.csv"], folder / "train_bodies.csv"
    )
    left_out = {
        (p.claim, p.body_id)
        for p in pairs
        if p.stance == "unrelated" and stable_bucket(f"{p.claim}|{p.body_id}") >= 50
    }
    splits = read_source("fnc1_unrelated", root=FIXTURES)
    rows = all_rows(splits)
    assert {(item["hypothesis"], item["group"]) for item in rows} == left_out
    assert {item["label"] for item in rows} == {NEUTRAL}
    for item in rows:  # one sentence of the unrelated body, not the body
        assert item["premise"] in texts[item["group"]] and item["premise"] != texts[item["group"]].strip()
    fnc1 = all_rows(read_source("fnc1", root=FIXTURES))
    assert not {(i["hypothesis"], i["group"]) for i in fnc1} & left_out
    for name, split in splits.items():  # the same body never trains in one and validates in the other
        expected = (lambda b: b < 150) if name == "validation" else (lambda b: b >= 150)
        assert all(expected(stable_bucket(item["group"])) for item in split)


def test_fnc1_headline_pairs_follow_the_stances_on_train_bodies_only(tmp_path, monkeypatch):
    monkeypatch.setattr(nli_sources, "HEADLINE_PAIRS_PER_BODY", 2)
    folder = tmp_path / "fnc1_train"
    folder.mkdir()
    # Body 3103 trains (stable bucket 500), 3101 is held out (113 < 150), as in read_fnc1.
    stances = [
        ("Clock stops after gear snaps", "3103", "agree"),
        ("Town hall clock halted by broken gear", "3103", "agree"),
        ("Gear failure stops the town clock", "3103", "agree"),
        ("Vandals stopped the clock, police say", "3103", "disagree"),
        ("Clock may have stopped, residents wonder", "3103", "discuss"),
        ("Penguin found in shopping centre", "3103", "unrelated"),
        ("Held-out body: bridge reopens", "3101", "agree"),
        ("Held-out body: bridge stays shut", "3101", "disagree"),
    ]
    for name, rows in (("train_train_stances.csv", stances[:5]), ("train_test_stances.csv", stances[5:])):
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Headline", "Body ID", "Stance"])
            writer.writerows(rows)
    with open(folder / "train_bodies.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(
            [["Body ID", "articleBody"], ["3101", "A bridge."], ["3103", "A clock."]]
        )
    splits = read_source("fnc1_headlines", root=tmp_path)
    assert list(splits) == ["train"]
    rows = splits["train"]
    agree = {headline for headline, body, stance in stances if body == "3103" and stance == "agree"}
    pairs = {frozenset((item["premise"], item["hypothesis"])): item["label"] for item in rows}
    assert {item["group"] for item in rows} == {"3103"}  # never the held-out body
    assert Counter(item["label"] for item in rows) == {ENTAILMENT: 2, CONTRADICTION: 2}  # capped per body
    for pair, label in pairs.items():
        expected = ENTAILMENT if pair <= agree else CONTRADICTION
        assert label == expected and len(pair) == 2
        if label == CONTRADICTION:
            assert "Vandals stopped the clock, police say" in pair and len(pair & agree) == 1


def test_shuffled_pairs_premises_and_hypotheses_of_different_sources(monkeypatch):
    monkeypatch.setattr(nli_sources, "SHUFFLE_PER_SOURCE", 3)
    trains = {name: read_source(name, root=FIXTURES)["train"] for name in nli_sources.SHUFFLE_FROM}
    origin_of_premise = {item["premise"]: name for name, rows in trains.items() for item in rows}
    origin_of_hypothesis = {item["hypothesis"]: name for name, rows in trains.items() for item in rows}
    splits = read_source("shuffled", root=FIXTURES)
    assert list(splits) == ["train"]  # train only: nothing held out to leak
    rows = splits["train"]
    assert len(rows) == sum(min(3, len(trains[name])) for name in nli_sources.SHUFFLE_FROM)
    assert {item["label"] for item in rows} == {NEUTRAL}
    for item in rows:
        assert origin_of_premise[item["premise"]] != origin_of_hypothesis[item["hypothesis"]]
    assert read_source("shuffled", root=FIXTURES) == splits  # deterministic


def test_arc_keeps_test_bodies_out_of_train(monkeypatch):
    monkeypatch.setattr(nli_sources, "default_embed", bag_of_words)
    splits = read_source("arc", root=FIXTURES)
    assert {name: len(rows) for name, rows in splits.items()} == {"train": 2, "validation": 1, "test": 3}
    assert_no_group_on_two_sides(splits)
    test_bodies = groups(splits["test"])
    assert test_bodies == {"96010", "96011"}
    assert not test_bodies & (groups(splits["train"]) | groups(splits["validation"]))
    assert "Four-day school weeks help students" not in {item["hypothesis"] for item in splits["train"]}
    assert groups(splits["validation"]) == {"96017"}
    labels = {(item["hypothesis"], item["group"]): item["label"] for item in all_rows(splits)}
    assert labels[("Plastic bag fees reduce waste", "96003")] == CONTRADICTION
    assert labels[("Young children should not get homework", "96005")] == ENTAILMENT
    assert labels[("Four-day school weeks help students", "96010")] == NEUTRAL
    assert labels[("Sugary drink taxes protect public health", "96010")] == NEUTRAL  # unrelated, kept
    assert ("Young children should not get homework", "96011") not in labels  # unrelated, dropped


def test_stance_documents_hold_out_the_bodies_the_sentence_rows_hold_out(monkeypatch):
    """Claim vs whole article (training.evaluate.CLAIM_SETS): agree/disagree pairs with whole bodies,
    split by body exactly as the sentence-level rows are, so no evaluated article ever trained."""
    monkeypatch.setattr(nli_sources, "default_embed", bag_of_words)
    _, bodies = read_stance_csv([], FIXTURES / "fnc1_train" / "train_bodies.csv")
    pairs, texts = nli_sources.stance_documents("fnc1/validation", root=FIXTURES)
    assert {(pair.claim, pair.stance) for pair in pairs} == {
        ("Hallam town hall clock stops after gear snaps inside tower", "agree"),
        ("Hallam clock stopped by vandals, police say", "disagree"),
    }
    assert texts == {"3101": bodies["3101"]}  # the whole body, as published
    rows = read_source("fnc1", root=FIXTURES)
    assert {pair.body_id for pair in pairs} == groups(rows["validation"])
    train, _ = nli_sources.stance_documents("fnc1/train", root=FIXTURES)
    assert {(pair.body_id, pair.stance) for pair in train} == {("3103", "disagree"), ("3107", "agree")}
    assert {pair.body_id for pair in train} <= groups(rows["train"])

    arc = read_source("arc", root=FIXTURES)
    for split in ("train", "validation", "test"):
        documents, _ = nli_sources.stance_documents(f"arc/{split}", root=FIXTURES)
        assert {pair.body_id for pair in documents} <= groups(arc[split])
    test, _ = nli_sources.stance_documents("arc/test", root=FIXTURES)
    assert [(pair.claim, pair.body_id) for pair in test] == [
        ("Sugary drink taxes protect public health", "96011")
    ]
    with pytest.raises(ValueError, match="no stance documents"):
        nli_sources.stance_documents("emergent/test", root=FIXTURES)
    with pytest.raises(ValueError, match="no split 'test'"):
        nli_sources.stance_documents("fnc1/test", root=FIXTURES)


# -- mixtures ---------------------------------------------------------------------------------------


def test_parse_mixture_defaults_missing_weights_to_one():
    assert parse_mixture("mnli=2,snli") == {"mnli": 2.0, "snli": 1.0}
    assert parse_mixture(" fever = 0.5 , vitaminc=0.25 ,") == {"fever": 0.5, "vitaminc": 0.25}


@pytest.mark.parametrize(
    "spec, message",
    [
        ("anli=1", "evaluation only"),
        ("mnli=1,anli=0.5", "evaluation only"),
        ("nosuchsource=1", "unknown source 'nosuchsource'"),
        ("mnli=-1", "finite number >= 0"),
        ("mnli=nan", "finite number >= 0"),
        ("mnli=inf", "finite number >= 0"),
        ("mnli=1,mnli=2", "named twice"),
        ("mnli=lots", "not a number"),
        (",", "names no source"),
    ],
)
def test_parse_mixture_refuses_bad_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_mixture(spec)


def test_weighted_sample_repeats_and_subsamples():
    split = datasets.Dataset.from_dict({"premise": [f"p{i}" for i in range(10)], "n": list(range(10))})
    assert len(weighted_sample(split, 2.0, seed=1)) == 20
    assert sorted(weighted_sample(split, 2.0, seed=1)["n"]) == sorted(list(range(10)) * 2)
    assert len(weighted_sample(split, 0.5, seed=1)) == 5
    assert len(weighted_sample(split, 0.33, seed=1)) == 3  # rounded
    assert len(weighted_sample(split, 1.5, seed=1)) == 15
    empty = weighted_sample(split, 0.0, seed=1)
    assert len(empty) == 0 and empty.column_names == split.column_names
    assert weighted_sample(split, 0.5, seed=7)["n"] == weighted_sample(split, 0.5, seed=7)["n"]
    assert len(set(weighted_sample(split, 0.5, seed=7)["n"])) == 5  # no repeats within the fraction


def test_load_mixture_weights_leaks_duplicates_and_pooled_validation():
    data = load_mixture({"cad": 2.0, "snli_mnli_subset": 0.5}, seed=3, validation_per_source=2)
    assert set(data) == {"train", "validation"}
    train, validation = data["train"], data["validation"]
    assert set(train.column_names) == {"premise", "hypothesis", "label", "source"}
    # cad: 5 train pairs, one whose premise is subset validation -> 4, doubled.
    # subset: 5 train pairs, one already taken from cad -> 4, halved.
    assert Counter(train["source"]) == {"cad": 8, "snli_mnli_subset": 2}
    assert "A girl paints a fence white." not in train["premise"]
    assert Counter(validation["source"]) == {"cad": 2, "snli_mnli_subset": 2}
    assert set(validation["label"]) <= set(LABELS)
    held = set(validation["premise"]) | {item["premise"] for item in read_source("snli_mnli_subset")["test"]}
    assert not set(train["premise"]) & held
    assert (
        load_mixture({"cad": 2.0, "snli_mnli_subset": 0.5}, seed=3, validation_per_source=2)["train"][
            "premise"
        ]
        == train["premise"]
    )


def test_mixture_string_goes_through_load_nli_dataset():
    data = load_nli_dataset("conjnli=1,mpe=0")
    assert Counter(data["train"]["source"]) == {"conjnli": 4}
    assert Counter(data["validation"]["source"]) == {"conjnli": 3, "mpe": 2}


def test_missing_folder_error_names_the_folder(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="fever_dev_gold_evidence"):
        read_source("fever", root=tmp_path)
    monkeypatch.setenv("CONTRADICT_NLI_DATA", str(tmp_path))
    assert nli_sources.data_root() == tmp_path
    with pytest.raises(FileNotFoundError, match="CONTRADICT_NLI_DATA.*fnc1_train"):
        load_nli_dataset("fnc1")


def test_training_data_embeds_with_sentence_transformers_whatever_the_corpus_default():
    """Stance windows and news pairs are training and test data: an OpenVINO bf16 embedder (the corpus
    scan's default on CPUs with bf16) picks other windows for near-tied sentences, so the kept teacher
    array would no longer match the recomputed pairs on such a machine."""
    nli_sources.data_embedder.cache_clear()
    try:
        embedder = nli_sources.data_embedder()
        assert embedder.backend == "torch"
        assert "@" not in embedder.identity  # no runtime suffix: sentence-transformers itself
    finally:
        nli_sources.data_embedder.cache_clear()


@pytest.mark.parametrize("source", ["arc", "fnc1", "emergent"])
def test_negated_stance_sources_keep_each_body_in_its_split_and_swap_the_stance(monkeypatch, source):
    """``arc_negated`` & co.: the same bodies in the same splits as the source (no held-out body
    trains), every claim negated, contradiction and entailment swapped."""
    monkeypatch.setattr(nli_sources, "default_embed", bag_of_words)
    original = read_source(source, root=FIXTURES)
    negated = read_source(f"{source}_negated", root=FIXTURES)
    assert set(negated) == set(original)
    assert sum(len(rows) for rows in negated.values()) > 0
    swap = {CONTRADICTION: ENTAILMENT, ENTAILMENT: CONTRADICTION, NEUTRAL: NEUTRAL}
    for split, rows in negated.items():
        assert groups(rows) <= groups(original[split])
        labels = {
            (item["premise"], item["group"], negate_claim(item["hypothesis"])): item["label"]
            for item in original[split]
        }
        for item in rows:
            assert swap[labels[(item["premise"], item["group"], item["hypothesis"])]] == item["label"]
    assert_no_group_on_two_sides(negated)
