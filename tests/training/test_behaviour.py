"""The behaviour suite: the shipped JSONL is well formed and covers every category; ``run_suite``
counts passes as the scoring core labels them (tiny random model, no mocks); the CLI runs on the
shipped model. No pass rate is asserted for the shipped model: it is being retrained."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from contradict.labels import LABELS
from contradict.scorer import NLIScorer
from training.behaviour import DEFAULT_SUITE, BehaviourCase, load_suite, run_suite
from training.behaviour import main as behaviour_main

CATEGORIES = (
    "negation",
    "antonyms",
    "numbers",
    "dates",
    "places_names",
    "quantifiers",
    "modality_tense",
    "paraphrase",
    "hypernym",
    "compatible",
    "unrelated",
    "news",
)
NEWS_PAIRS = (
    (
        "The border is well guarded from both the Afghan and Tajik side.",
        "The border is porous, almost entirely controlled by the Taliban.",
    ),
    ("The city was buried under snow all week.", "The city had a heatwave above 40 °C all week."),
    ("The patient's condition improved overnight.", "The patient's condition worsened overnight."),
    ("The museum is open on Mondays.", "The museum is not open on Mondays."),
)


@pytest.fixture(scope="module")
def suite() -> list[BehaviourCase]:
    return load_suite()


def assert_report_complete(report: dict, cases: list[BehaviourCase]) -> None:
    assert set(report) >= {"overall", "passed", "total", "categories", "min_category", "failures"}
    assert report["total"] == len(cases)
    assert report["passed"] == sum(stats["passed"] for stats in report["categories"].values())
    assert report["total"] == sum(stats["total"] for stats in report["categories"].values())
    assert report["overall"] == pytest.approx(report["passed"] / report["total"])
    assert len(report["failures"]) == report["total"] - report["passed"]
    assert set(report["categories"]) == {case.category for case in cases}
    for stats in report["categories"].values():
        assert set(stats) == {"pass_rate", "passed", "total"}
        assert 0 <= stats["passed"] <= stats["total"]
        assert stats["pass_rate"] == pytest.approx(stats["passed"] / stats["total"])
    name, rate = report["min_category"]
    assert rate == min(stats["pass_rate"] for stats in report["categories"].values())
    assert report["categories"][name]["pass_rate"] == rate
    for failure in report["failures"]:
        assert set(failure) >= {"premise", "hypothesis", "expected", "got", "contradiction"}
        assert failure["expected"] != failure["got"]
        assert failure["got"] in LABELS and 0.0 <= failure["contradiction"] <= 1.0


def test_suite_file_is_complete_and_well_formed(suite):
    assert DEFAULT_SUITE.is_file() and DEFAULT_SUITE.parent.name == "training"
    assert len(suite) >= 130
    counts = Counter(case.category for case in suite)
    assert set(counts) == set(CATEGORIES)
    assert all(counts[category] >= 10 for category in CATEGORIES), counts
    assert all(case.label in LABELS for case in suite)
    pairs = [(case.premise, case.hypothesis) for case in suite]
    assert len(set(pairs)) == len(pairs), [pair for pair, n in Counter(pairs).items() if n > 1]
    labels = {
        category: {case.label for case in suite if case.category == category} for category in CATEGORIES
    }
    assert labels["paraphrase"] == labels["hypernym"] == {"entailment"}
    assert labels["compatible"] == labels["unrelated"] == {"neutral"}
    for category in ("negation", "numbers", "dates", "quantifiers", "modality_tense"):
        assert len(labels[category]) == 3, (category, labels[category])
    news = {(case.premise, case.hypothesis): case.label for case in suite if case.category == "news"}
    assert all(news.get(pair) == "contradiction" for pair in NEWS_PAIRS)
    assert sum(label == "contradiction" for label in news.values()) > len(news) / 2
    assert "neutral" in news.values()


def write_rows(path, rows) -> None:
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))


GOOD = {
    "premise": "The minister resigned.",
    "hypothesis": "The minister stepped down.",
    "label": "entailment",
}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({**GOOD, "category": "paraphrase", "label": "contradicts"}, "label 'contradicts'"),
        ({**GOOD, "category": ""}, "'category'"),
        ({"premise": "a", "label": "neutral", "category": "x"}, "'hypothesis'"),
        ('{"premise": "a", "hypothesis": ', "invalid JSON"),
        ('["a", "b", "neutral", "x"]', "JSON object"),
    ],
)
def test_load_suite_rejects_bad_row_naming_the_line(tmp_path, bad, message):
    path = tmp_path / "suite.jsonl"
    write_rows(path, [{**GOOD, "category": "paraphrase"}, "", bad])
    with pytest.raises(ValueError, match="line 3") as error:
        load_suite(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_load_suite_reads_a_valid_file(tmp_path):
    path = tmp_path / "suite.jsonl"
    write_rows(path, [{**GOOD, "category": "paraphrase"}])
    assert load_suite(path) == [
        BehaviourCase(GOOD["premise"], GOOD["hypothesis"], "entailment", "paraphrase")
    ]


@pytest.mark.parametrize("symmetric", [False, True])
def test_run_suite_counts_match_the_scoring_core(tiny_model_dir, suite, symmetric):
    scorer = NLIScorer(str(tiny_model_dir))
    report = run_suite(scorer, suite, symmetric=symmetric)
    assert_report_complete(report, suite)

    results = scorer.score([(case.premise, case.hypothesis) for case in suite], symmetric=symmetric)
    passed, total = Counter(), Counter()
    for case, result in zip(suite, results):
        total[case.category] += 1
        passed[case.category] += result.label == case.label
    assert {name: stats["passed"] for name, stats in report["categories"].items()} == {
        name: passed[name] for name in total
    }
    assert {name: stats["total"] for name, stats in report["categories"].items()} == dict(total)
    assert report["passed"] == sum(passed.values())
    by_label = Counter(case.label for case in suite)
    hits = Counter(case.label for case, result in zip(suite, results) if result.label == case.label)
    assert report["labels"] == {label: hits[label] / by_label[label] for label in LABELS}
    failed = [
        (case.premise, case.hypothesis, result.label)
        for case, result in zip(suite, results)
        if result.label != case.label
    ]
    assert [(f["premise"], f["hypothesis"], f["got"]) for f in report["failures"]] == failed


def test_run_suite_scores_all_pairs_in_one_call(tiny_model_dir, suite):
    class CountingScorer(NLIScorer):
        """The real core; only records how many pairs each ``score`` call gets."""

        calls: list[int]

        def score(self, pairs, *, symmetric=False, **kwargs):
            self.calls.append(len(pairs))
            return super().score(pairs, symmetric=symmetric, **kwargs)

    scorer = CountingScorer(str(tiny_model_dir))
    scorer.calls = []
    run_suite(scorer, suite[:20])
    assert scorer.calls == [20]


@pytest.mark.slow  # the shipped model
def test_shipped_model_runs_the_suite(shipped_model_dir, suite, tmp_path, capsys):
    output = tmp_path / "behaviour.json"
    report = behaviour_main(["--model", str(shipped_model_dir), "--output", str(output)])
    assert_report_complete(report, suite)
    assert list(report["categories"]) == list(CATEGORIES)
    table = capsys.readouterr().out
    assert all(category in table for category in CATEGORIES) and "overall" in table
    saved = json.loads(output.read_text())
    assert saved["total"] == report["total"] and saved["categories"] == report["categories"]
