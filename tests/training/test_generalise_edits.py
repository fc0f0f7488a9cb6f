"""The generalising edits: the WordNet noun taxonomy read from invented rows in its exact file shapes,
each rule's label by the taxonomy or by arithmetic over many seeds, and what the rules must leave
alone (the source-level test, train sentences only, is in ``test_minimal_edits``)."""

from __future__ import annotations

import random
import re

import pytest

from contradict.labels import CONTRADICTION, ENTAILMENT, NEUTRAL
from tests.support import paths
from training import wordnet
from training.generalise_edits import noun_edits, place_edits, share_edits, unit_edits

SEEDS = range(20)


@pytest.fixture(scope="module")
def nouns() -> wordnet.Nouns:
    return wordnet.read_nouns(paths.FIXTURES / "wordnet")


def test_nouns_generalise_to_the_nearest_everyday_category_and_places_to_their_country(nouns):
    # rifle -> firearm -> gun -> weapon: "gun" is the nearest category; categories are not sources
    assert nouns.general == {"rifle": "gun", "pistol": "gun", "firearm": "gun", "senator": "politician"}
    # siblings share the category but neither is above the other: a rifle is a firearm, not a pistol
    assert (nouns.siblings("rifle"), nouns.siblings("firearm")) == (["pistol"], [])
    # Kabul is an instance of a city and part of an instance of an Asian_country; Portland is in two
    # states (two synsets), so it is left out
    assert nouns.region == {"Kabul": "Afghanistan", "Lyon": "France"}


def test_noun_generalised_is_entailed_the_reverse_neutral_and_a_sibling_contradicts(nouns):
    edits = noun_edits("Police found a rifle in the car.", nouns, random.Random(0))
    assert [(e.premise, e.hypothesis, e.label, e.kind) for e in edits] == [
        ("Police found a rifle in the car.", "Police found a gun in the car.", ENTAILMENT, "hypernym"),
        ("Police found a gun in the car.", "Police found a rifle in the car.", NEUTRAL, "hyponym"),
        ("Police found a rifle in the car.", "Police found a pistol in the car.", CONTRADICTION, "cohyponym"),
    ]
    # people: a senator can also be many other things, so no sibling swap
    edits = noun_edits("An aide said the senator had left.", nouns, random.Random(0))
    assert [(e.hypothesis, e.kind) for e in edits] == [
        ("An aide said the politician had left.", "hypernym"),
        ("An aide said the senator had left.", "hyponym"),
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "No rifle was found in the car.",  # downward: "no gun" would not follow
        "Police did not find a rifle.",
        "Police didn't find a rifle.",
        "Every senator voted for the bill.",
        "The rifle range closed early.",  # a noun modifying a noun: "the gun range" is another thing
        "Officers found rifles in the car.",  # no determiner right before it
    ],
)
def test_nouns_are_left_alone_where_the_entailment_would_not_hold(nouns, sentence):
    assert noun_edits(sentence, nouns, random.Random(0)) == []


def test_place_in_its_country_is_entailed_the_reverse_neutral_and_another_city_contradicts(nouns):
    edits = place_edits("The suspect was arrested in Kabul on Monday.", nouns, random.Random(0))
    assert [(e.hypothesis, e.label, e.kind) for e in edits] == [
        ("The suspect was arrested in Afghanistan on Monday.", ENTAILMENT, "place_region"),
        ("The suspect was arrested in Kabul on Monday.", NEUTRAL, "place_within"),
        ("The suspect was arrested in Lyon on Monday.", CONTRADICTION, "place_moved"),
    ]
    assert place_edits("The suspect was never in Kabul.", nouns, random.Random(0)) == []


def amount(text: str, unit: str) -> float:
    return float(re.search(r"([\d,.]+) " + unit, text).group(1).replace(",", ""))


@pytest.mark.parametrize(
    ("sentence", "unit", "smaller", "factor"),
    [
        ("The new bridge is 1.2 kilometres long.", "kilometres", "metres", 1000),
        ("The flight took 3 hours.", "hours", "minutes", 60),
        ("The siege lasted 2 weeks before the town fell.", "weeks", "days", 7),
    ],
)
def test_unit_conversions_are_entailed_either_way_and_wrong_ones_contradict(sentence, unit, smaller, factor):
    directions = set()
    for seed in SEEDS:
        same, wrong = unit_edits(sentence, random.Random(seed))
        assert (same.label, wrong.label) == (ENTAILMENT, CONTRADICTION)
        original, converted = (
            (same.premise, same.hypothesis) if same.premise == sentence else (same.hypothesis, same.premise)
        )
        assert original == sentence
        directions.add(same.premise == sentence)
        assert amount(converted, smaller) == pytest.approx(amount(sentence, unit) * factor)
        assert wrong.premise == sentence
        assert amount(wrong.hypothesis, smaller) != pytest.approx(amount(sentence, unit) * factor)
    assert directions == {True, False}


def test_a_share_said_in_words_is_labelled_by_its_value():
    seen = set()
    for sentence, value in (
        ("62 percent of voters backed the plan.", 62),
        ("Only 30% of the staff came back.", 30),
    ):
        for seed in SEEDS:
            (edit,) = share_edits(sentence, random.Random(seed))
            more = "more than half of" in edit.hypothesis.lower()
            assert "half of" in edit.hypothesis.lower()
            assert edit.label == (ENTAILMENT if more == (value > 50) else CONTRADICTION)
            seen.add(edit.label)
    assert seen == {ENTAILMENT, CONTRADICTION}


@pytest.mark.parametrize(
    "sentence",
    [
        "About 62 percent of voters backed the plan.",  # an estimate, not the value
        "More than 62 percent of voters backed the plan.",
        "Some 70 percent of voters backed the plan.",
        "Turnout was 48 percent of the register.",  # within 5 points of half
    ],
)
def test_shares_that_are_bounds_or_near_half_are_left_alone(sentence):
    assert all(share_edits(sentence, random.Random(seed)) == [] for seed in SEEDS)
