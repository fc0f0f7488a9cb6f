"""VitaminC parsing, the page split, local file sources and label canonicalisation."""

from __future__ import annotations

import json

import datasets
import pytest

from contradict.labels import canonical_label
from tests.support.paths import FIXTURES
from training import fact_verification
from training.data import clean_split, load_nli_dataset

FIXTURE = FIXTURES / "fact_verification_task.json"


def parsed_rows() -> list[dict | None]:
    return [
        fact_verification.parse_example(example) for example in fact_verification.iter_task_examples(FIXTURE)
    ]


def test_parse_normalises_ptb_text_and_maps_labels():
    rows = parsed_rows()
    first = rows[0]
    assert first["title"] == "Westlife"
    assert first["premise"] == (
        "Westlife: According to the British Phonographic Industry (BPI), Westlife has been certified "
        "for 13 million albums and 9.8 million singles."
    )
    assert first["hypothesis"] == "Westlife made under 23.5 million sales in the UK."
    assert [row["label"] for row in rows[:3]] == ["neutral", "contradiction", "entailment"]
    assert '"roof of the world"' in rows[7]["premise"]


def test_colon_escape_in_title_and_ties_and_missing_claim_are_dropped():
    rows = parsed_rows()
    assert rows[3]["title"] == "Star Wars: The Last Jedi"
    assert rows[3]["premise"].startswith("Star Wars: The Last Jedi: The film grossed $1.3 billion")
    assert rows[5] is None  # True and False tie: ambiguous
    assert rows[8] is None  # no "Claim:" part


def test_page_split_is_deterministic_and_keeps_pages_on_one_side():
    splits = fact_verification.parse_examples(fact_verification.iter_task_examples(FIXTURE))
    again = fact_verification.parse_examples(fact_verification.iter_task_examples(FIXTURE))
    assert splits == again
    titles = {name: {row["title"] for row in rows} for name, rows in splits.items()}
    assert not titles["train"] & titles["test"]
    assert not titles["train"] & titles["validation"]
    assert not titles["validation"] & titles["test"]
    assert sum(len(rows) for rows in splits.values()) == 7
    # The rule itself: md5(title) % 10 == 0 -> test, == 1 -> validation.
    names = [f"page {i}" for i in range(200)]
    assigned = {fact_verification.split_of(name) for name in names}
    assert assigned == {"train", "validation", "test"}
    assert sum(fact_verification.split_of(name) == "test" for name in names) in range(8, 35)


def test_vitaminc_source_reads_the_cached_task(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTRADICT_CACHE_DIR", str(tmp_path))
    target = tmp_path / "bigbench" / "vitaminc_fact_verification" / "task.json"
    target.parent.mkdir(parents=True)
    target.write_text(FIXTURE.read_text())
    data = load_nli_dataset("vitaminc")
    assert set(data) == {"train", "validation", "test"}
    assert sum(len(split) for split in data.values()) == 7
    assert set(data["train"]["label"]) <= {"contradiction", "entailment", "neutral"}


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("CONTRADICTION", "contradiction"),
        ("Contradictory", "contradiction"),
        ("entailment", "entailment"),
        ("ENTAILS", "entailment"),
        ("Neutral", "neutral"),
        ("NOT ENOUGH INFO", "neutral"),
        ("True", "entailment"),
        ("False", "contradiction"),
        ("Neither", "neutral"),
        ("LABEL_0", None),
        ("-", None),
    ],
)
def test_label_canonicalisation(raw, expected):
    assert canonical_label(raw) == expected


def test_local_jsonl_file_is_cleaned(tmp_path):
    rows = [
        {"premise": "A man plays.", "hypothesis": "Nobody plays.", "label": "CONTRADICTION"},
        {"premise": "A man plays.", "hypothesis": "Nobody plays.", "label": "contradiction"},  # duplicate
        {"premise": "  ", "hypothesis": "Empty premise.", "label": "neutral"},
        {"premise": "A dog runs.", "hypothesis": "An animal moves.", "label": "entails"},
        {"premise": "A dog runs.", "hypothesis": "It is sunny.", "label": "maybe"},  # unmappable
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    train = load_nli_dataset(str(path))["train"]
    assert train["label"] == ["contradiction", "entailment"]
    assert train["premise"] == ["A man plays.", "A dog runs."]


def test_local_folder_with_csv_splits(tmp_path):
    header = "sentence1,sentence2,gold_label\n"
    (tmp_path / "train.csv").write_text(header + "A cat sleeps.,The cat is awake.,contradiction\n")
    (tmp_path / "validation.csv").write_text(header + "A cat sleeps.,A cat rests.,entailment\n")
    data = load_nli_dataset(str(tmp_path))
    assert set(data) == {"train", "validation"}
    assert data["train"][0] == {
        "premise": "A cat sleeps.",
        "hypothesis": "The cat is awake.",
        "label": "contradiction",
    }


def test_hub_style_class_ids_follow_the_dataset_label_names():
    # MultiNLI/SNLI order: 0 entailment, 1 neutral, 2 contradiction; -1 means no gold label.
    features = datasets.Features(
        {
            "premise": datasets.Value("string"),
            "hypothesis": datasets.Value("string"),
            "label": datasets.ClassLabel(names=["entailment", "neutral", "contradiction"]),
        }
    )
    split = datasets.Dataset.from_dict(
        {"premise": ["p1", "p2", "p3"], "hypothesis": ["h1", "h2", "h3"], "label": [0, 2, 1]},
        features=features,
    )
    assert clean_split(split)["label"] == ["entailment", "contradiction", "neutral"]


def test_missing_columns_are_refused():
    split = datasets.Dataset.from_dict({"text": ["x"], "label": ["neutral"]})
    with pytest.raises(ValueError, match="missing columns"):
        clean_split(split, "train")


def test_sdist_link_is_read_from_a_simple_index_page():
    page = (
        '<a href="https://files.example/p/bigbench-0.0.1.tar.gz#sha256=aa">bigbench-0.0.1.tar.gz</a><br/>'
        '<a href="../../packages/95/bigbench-1.0.0.tar.gz#sha256=1bb3">bigbench-1.0.0.tar.gz</a>'
    )
    assert fact_verification.sdist_link(page, "bigbench-1.0.0.tar.gz") == (
        "../../packages/95/bigbench-1.0.0.tar.gz",
        "1bb3",
    )
    with pytest.raises(FileNotFoundError, match="bigbench-2.0.0.tar.gz"):
        fact_verification.sdist_link(page, "bigbench-2.0.0.tar.gz")
