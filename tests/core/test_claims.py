"""Claim vs document (contradict/claims.py and `contradict claim`): windows, pooling, the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from contradict.claims import (
    ClaimStance,
    Window,
    claim_pairs,
    document_windows,
    pool,
    stance_of,
    stances,
)
from contradict.cli import app
from contradict.corpus.reader import Article
from contradict.scorer import NLIScorer

ARTICLE = Article(
    id="a",
    text=(
        "The border is porous in the north of the district.\n\n"
        "Local police said the Taliban control the crossings. Ok. "
        "Officials in the capital deny that militants crossed the river."
    ),
)
CLAIM = "The border is well guarded from both sides."


def test_windows_are_runs_of_consecutive_statements_with_exact_offsets():
    windows = document_windows(ARTICLE, size=2)
    statements = [w.text for w in document_windows(ARTICLE, size=1)]
    assert statements == [
        "The border is porous in the north of the district.",
        "Local police said the Taliban control the crossings.",
        "Officials in the capital deny that militants crossed the river.",
    ]  # "Ok." is a fragment, not a statement
    assert [w.text for w in windows] == [" ".join(statements[0:2]), " ".join(statements[1:3])]
    for window in windows:
        passage = ARTICLE.text[window.start : window.end]
        assert passage.startswith(window.text.split(".")[0]) and passage.endswith(window.text[-20:])
    # Fewer statements than the window: one window of all of them; none: no window.
    assert [w.text for w in document_windows(ARTICLE, size=5)] == [" ".join(statements)]
    assert document_windows(Article(id="b", text="Ok. Yes."), size=2) == []
    with pytest.raises(ValueError):
        document_windows(ARTICLE, size=0)


def test_a_marked_headline_is_context_not_a_window():
    text = "Border is porous, police say\n\nThe border is porous in the north of the district."
    article = Article(id="h", text=text, title="Border is porous, police say", headline_end=28)
    assert [w.text for w in document_windows(article, size=1)] == [
        "The border is porous in the north of the district."
    ]


def test_pool_is_the_contradicting_share_of_the_evidence_and_the_mean_bearing():
    # Columns in LABELS order: contradiction, entailment, neutral.
    rows = np.array([[0.6, 0.2, 0.2], [0.0, 0.2, 0.8], [0.0, 0.0, 1.0]], dtype=np.float32)
    share, bearing = pool(rows)
    assert share == pytest.approx(0.6 / (0.6 + 0.4))
    assert bearing == pytest.approx((0.8 + 0.2 + 0.0) / 3)
    # A window that bears on nothing changes the share not at all, only the bearing.
    more = np.vstack([rows, [[0.0, 0.0, 1.0]]])
    assert pool(more)[0] == pytest.approx(share) and pool(more)[1] < bearing
    assert pool(np.array([[0.0, 0.0, 1.0]]))[0] == 0.5  # no evidence either way


def test_stance_names_the_most_contradicting_and_most_entailing_windows():
    windows = [Window(0, 5, "one"), Window(6, 11, "two"), Window(12, 17, "three")]
    rows = np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1], [0.3, 0.3, 0.4]], dtype=np.float32)
    stance = stance_of(windows, rows)
    assert isinstance(stance, ClaimStance) and stance.windows == 3
    assert (
        stance.most_contradicting.text == "two"
        and stance.most_contradicting.contradiction == pytest.approx(0.8)
    )
    assert stance.most_entailing.text == "one" and stance.most_entailing.entailment == pytest.approx(0.7)
    with pytest.raises(ValueError):
        stance_of(windows, rows[:2])


def test_checks_score_in_one_pass_and_split_back_per_document(tiny_model_dir):
    scorer = NLIScorer(str(tiny_model_dir))
    empty = Article(id="e", text="Ok.")
    checks = [(CLAIM, document_windows(ARTICLE)), ("Another claim here.", document_windows(empty))]
    checks.append(("Third claim about it.", document_windows(ARTICLE, size=1)))
    pairs = claim_pairs(checks)
    assert pairs[0] == (checks[0][1][0].text, CLAIM)  # window is the premise, the claim the hypothesis
    assert len(pairs) == 2 + 0 + 3
    pooled = stances(checks, scorer.probabilities(pairs))
    assert pooled[1] is None
    # Each document's stance is what scoring that document alone gives.
    for index in (0, 2):
        claim, windows = checks[index]
        alone = stance_of(windows, scorer.probabilities(claim_pairs([(claim, windows)])))
        assert pooled[index].contradiction_share == pytest.approx(alone.contradiction_share, abs=1e-5)
        assert pooled[index].bearing == pytest.approx(alone.bearing, abs=1e-5)
    with pytest.raises(ValueError):
        stances(checks, scorer.probabilities(pairs[:-1]))


# -- the command --------------------------------------------------------------------------------


def invoke(*args: str):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def test_claim_command_writes_one_row_per_article_in_order(tmp_path, tiny_model_dir):
    corpus = tmp_path / "articles.jsonl"
    docs = [
        {"id": "a", "text": ARTICLE.text, "source": "NYT"},
        {"id": 7, "text": "Ok."},
        {"id": "c", "text": "The river runs almost parallel to the border. Villages line its bank."},
    ]
    corpus.write_text("".join(json.dumps(doc) + "\n" for doc in docs))
    out = tmp_path / "stance.jsonl"
    result = invoke("claim", CLAIM, corpus, "-o", out, "--model", tiny_model_dir, "--window", "1", "-q")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == ["a", "7", "c"]
    assert rows[0]["source"] == "NYT" and rows[0]["windows"] == 3
    assert rows[1]["windows"] == 0 and rows[1]["contradiction_share"] is None
    scorer = NLIScorer(str(tiny_model_dir))
    windows = document_windows(Article(id="a", text=ARTICLE.text), size=1)
    expected = stance_of(windows, scorer.probabilities(claim_pairs([(CLAIM, windows)])))
    assert rows[0]["contradiction_share"] == pytest.approx(expected.contradiction_share, abs=1e-5)
    evidence = rows[0]["most_contradicting"]
    assert ARTICLE.text[evidence["start"] : evidence["end"]] == evidence["text"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["   ", "CORPUS"], "CLAIM is empty"),
        (["The bridge \udcff opened.", "CORPUS"], "CLAIM is not UTF-8 text"),  # a byte of another encoding
        ([CLAIM, "MISSING"], "no such file or folder"),
        ([CLAIM, "CORPUS", "--window", "0"], "--window"),
        ([CLAIM, "EMPTY"], "no articles"),
    ],
)
def test_claim_command_bad_input_is_a_message_and_exit_2(tmp_path, tiny_model_dir, args, fragment):
    corpus = tmp_path / "articles.jsonl"
    corpus.write_text(json.dumps({"id": "a", "text": ARTICLE.text}) + "\n")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    paths = {"CORPUS": corpus, "MISSING": tmp_path / "nope.jsonl", "EMPTY": empty}
    result = invoke("claim", *[paths.get(arg, arg) for arg in args], "--model", tiny_model_dir, "-q")
    assert result.exit_code == 2, result.output
    assert fragment in result.output
    assert "Traceback" not in result.output
