"""training.claim_negation: the claim's direction reversed by rule, agree and disagree swapped."""

from __future__ import annotations

import pytest

from contradict.labels import CONTRADICTION, ENTAILMENT, NEUTRAL
from training.claim_negation import negate_claim, negated_rows, negated_stance_pairs
from training.nli_sources import StancePair


@pytest.mark.parametrize(
    ("claim", "negated"),
    [
        ("Dual citizenship should be allowed", "Dual citizenship should not be allowed"),
        ("Europe should not shun refugees", "Europe should shun refugees"),
        ("Writing can be assessed", "Writing cannot be assessed"),
        ("Electric cars will not succeed", "Electric cars will succeed"),
        ("Judd Nelson is dead", "Judd Nelson is not dead"),
        (
            "A Texas turkey farm was contaminated with Ebola",
            "A Texas turkey farm was not contaminated with Ebola",
        ),
        ("Comment sections have failed", "Comment sections have not failed"),
        ("TFA has not raised the status of teachers", "TFA has raised the status of teachers"),
        ("California doesn't need high-speed rail", "California needs high-speed rail"),
        ("Colorado didn't go too far with pot", "Colorado went too far with pot"),
        ("Colleges do not need humanities programs", "Colleges need humanities programs"),
        ("Tracking kids does not invade privacy", "Tracking kids invades privacy"),
        ("ISIS beheads Steve Sotloff", "ISIS does not behead Steve Sotloff"),
        ("Tenure protects bad teachers", "Tenure does not protect bad teachers"),
        ("Do not stop taxing capital gains", "Stop taxing capital gains"),
        ("Abolish Birthright Citizenship", "Do not abolish Birthright Citizenship"),
    ],
)
def test_negate_claim_reverses_the_main_verb(claim, negated):
    assert negate_claim(claim) == negated


@pytest.mark.parametrize(
    "claim",
    [
        "No, it can't denounce",  # a reply to a question the data does not hold
        "Are missing students in mass graves near Iguala?",  # a question asserts nothing
        "Canadian-Israeli Woman May Have Been Captured In Syria",  # a hedge: its negation is compatible
        "Royal Couple could be a modern family",
        "'Nasa Confirms Earth Will Go Dark' Fake News Story Goes Viral",  # the verb is the quote's
        "Audio recording allegedly captures moment Michael Brown was shot",  # another clause's verb
        "ISIS Claims To Have Captured US Airdrop Weapons",
        "Homeless man who received a meal insists it was not a hoax",  # the relative clause's verb
        "American hostage in Yemen freed in military raid",  # headlinese passive, "was" dropped
        "College free for everyone",  # no verb
    ],
)
def test_negate_claim_skips_what_it_cannot_read(claim):
    assert negate_claim(claim) is None


@pytest.mark.parametrize(
    "claim",
    ["Voting should be mandatory", "Big banks are not out of control", "Greece will destroy the Euro Zone"],
)
def test_negating_twice_gives_the_claim_back(claim):
    assert negate_claim(negate_claim(claim)) == claim


def test_negated_rows_swap_agree_and_disagree_and_keep_the_article():
    rows = [
        {
            "premise": "The law passed easily.",
            "hypothesis": "The law should be repealed",
            "label": CONTRADICTION,
            "group": "1",
        },
        {
            "premise": "Fans cheered the ban.",
            "hypothesis": "Happy hour should be banned",
            "label": ENTAILMENT,
            "group": "2",
        },
        {
            "premise": "Debate went on.",
            "hypothesis": "Voting should be mandatory",
            "label": NEUTRAL,
            "group": "3",
        },
        {"premise": "Nothing.", "hypothesis": "College free for everyone", "label": ENTAILMENT, "group": "4"},
        {
            "premise": "Suite.",
            "hypothesis": "The museum is open on Mondays",
            "label": ENTAILMENT,
            "group": "5",
        },
    ]
    out = negated_rows(rows, exclude=frozenset({"The museum is not open on Mondays"}))
    assert out == [
        {
            "premise": "The law passed easily.",
            "hypothesis": "The law should not be repealed",
            "label": ENTAILMENT,
            "group": "1",
        },
        {
            "premise": "Fans cheered the ban.",
            "hypothesis": "Happy hour should not be banned",
            "label": CONTRADICTION,
            "group": "2",
        },
        {
            "premise": "Debate went on.",
            "hypothesis": "Voting should not be mandatory",
            "label": NEUTRAL,
            "group": "3",
        },
    ]


def test_negated_stance_pairs_swap_agree_and_disagree_and_drop_what_cannot_be_negated():
    pairs = [
        StancePair("Voting should be mandatory", "1", "agree"),
        StancePair("Tenure protects bad teachers", "2", "disagree"),
        StancePair("Greece will destroy the Euro Zone", "3", "discuss"),
        StancePair("College free for everyone", "4", "agree"),
    ]
    assert negated_stance_pairs(pairs) == [
        StancePair("Voting should not be mandatory", "1", "disagree"),
        StancePair("Tenure does not protect bad teachers", "2", "agree"),
        StancePair("Greece will not destroy the Euro Zone", "3", "discuss"),
    ]


def test_polarity_sets_are_reported_but_never_chosen_on():
    """The selection rule keeps the ten validation sets it was declared with; the negated sets
    (and the claim-vs-document rows with claims negated) are measured beside it."""
    from training.evaluate import CLAIM_REPORTS, CLAIM_SETS, EVAL_SETS, POLARITY_SETS, SELECTION_SETS

    assert set(POLARITY_SETS) <= set(EVAL_SETS)
    assert not set(POLARITY_SETS) & set(SELECTION_SETS)
    declared = [
        "vitaminc",
        "mnli",
        "snli",
        "snli_mnli_subset",
        "cad",
        "conjnli",
        "mpe",
        "fever",
        "fnc1",
        "arc",
    ]
    assert tuple(f"{source}/validation" for source in declared) == SELECTION_SETS
    assert CLAIM_REPORTS[: len(CLAIM_SETS)] == CLAIM_SETS and len(CLAIM_REPORTS) == 2 * len(CLAIM_SETS)
