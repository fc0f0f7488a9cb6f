"""The scale edits (counts and dates at another grain) and the rewordings: every label checked by
arithmetic or by the rule's meaning over many seeds, what the rules must leave alone, and both sources
built from train sentences only (the shared source test is in ``test_minimal_edits``)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from contradict.labels import CONTRADICTION, ENTAILMENT, NEUTRAL
from tests.support import paths
from training import wordnet
from training.minimal_edits import MONTHS, Edit
from training.reword_edits import reword_edits_of
from training.scale_edits import scale_edits_of

SEEDS = range(30)


@pytest.fixture(scope="module")
def lexicon() -> wordnet.Lexicon:
    return wordnet.read_lexicon(Path(paths.FIXTURES / "wordnet"))


def of_kind(sentence: str, kind: str, seed: int, lexicon=None) -> list[Edit]:
    return [edit for edit in scale_edits_of(sentence, lexicon, random.Random(seed)) if edit.kind == kind]


def label_of(holds: bool) -> str:
    return ENTAILMENT if holds else CONTRADICTION


def test_a_year_against_its_decade_and_another_decade():
    edits = of_kind("The stadium was built in 1998.", "decade", 0)
    assert (
        Edit("The stadium was built in 1998.", "The stadium was built in the 1990s.", ENTAILMENT, "decade")
        in edits
    )
    assert (
        Edit("The stadium was built in the 1990s.", "The stadium was built in 1998.", NEUTRAL, "decade")
        in edits
    )
    (other,) = [edit for edit in edits if edit.label == CONTRADICTION]
    assert re.fullmatch(r"The stadium was built in the (19[0-8]0|2000)s\.", other.hypothesis)


@pytest.mark.parametrize("seed", SEEDS)
def test_year_intervals_are_labelled_by_arithmetic(seed):
    for edit in of_kind("The bridge was completed in 2015 after years of delay.", "year_interval", seed):
        phrase = re.search(r"completed (.+?) after years", edit.hypothesis).group(1)
        if match := re.fullmatch(r"before (\d{4})", phrase):
            holds = int(match.group(1)) > 2015
        elif match := re.fullmatch(r"after (\d{4})", phrase):
            holds = int(match.group(1)) < 2015
        else:
            low, high = map(int, re.fullmatch(r"between (\d{4}) and (\d{4})", phrase).groups())
            holds = low <= 2015 <= high
        assert edit.label == label_of(holds), edit


@pytest.mark.parametrize("day", ["Monday", "Friday", "Saturday", "Sunday"])
def test_a_weekday_against_the_weekend(day):
    for seed in range(6):
        (edit,) = of_kind(f"The market is held on {day} in the square.", "weekend", seed)
        weekend = day in ("Saturday", "Sunday")
        said_weekend = "at the weekend" in edit.hypothesis
        assert "on a weekday" in edit.hypothesis or said_weekend
        assert edit.label == label_of(weekend == said_weekend)


def day_holds(day: int, month: str, phrase: str) -> bool | None:
    """The truth of a coarser date phrase for ``day`` ``month``, written independently of the rule."""
    spans = {"first week": (1, 7), "second week": (8, 14), "third week": (15, 21), "last ten days": (22, 31)}
    for name, (low, high) in spans.items():
        if phrase == f"in the {name} of {month}":
            return low <= day <= high
    if phrase == f"in early {month}":
        return day <= 10
    if phrase == f"in late {month}":
        return day >= 21
    if phrase == f"in {month}":
        return True
    if phrase.startswith("in ") and phrase[3:] in MONTHS:
        return False
    return None


@pytest.mark.parametrize("day", [1, 3, 7, 9, 12, 20, 24, 25, 31])
def test_a_day_of_the_month_against_coarser_dates(day):
    for written in (f"on {day} May", f"on May {day}"):
        sentence = f"The report was published {written} by the ministry."
        for seed in range(8):
            edits = of_kind(sentence, "day_in_month", seed)
            assert {edit.label for edit in edits} == {ENTAILMENT, CONTRADICTION}
            for edit in edits:
                phrase = re.search(r"published (.+?) by the", edit.hypothesis).group(1)
                holds = day_holds(day, "May", phrase)
                assert holds is not None and edit.label == label_of(holds), edit
                if "early" in phrase or "late" in phrase:
                    assert day <= 7 or day >= 25  # no edit near the loose boundaries


def test_another_part_of_the_day_contradicts():
    (edit,) = of_kind("The flight left on the morning of 9 July.", "part_of_day", 0)
    assert edit.label == CONTRADICTION
    assert re.fullmatch(r"The flight left on the (afternoon|evening|night) of 9 July\.", edit.hypothesis)


def count_holds(value: int, phrase: str) -> bool:
    number = lambda text: int(text.replace(",", ""))  # noqa: E731
    if match := re.fullmatch(r"between ([\d,]+) and ([\d,]+)", phrase):
        return number(match.group(1)) <= value <= number(match.group(2))
    bound, written = phrase.rsplit(" ", 1)
    limit = number(written)
    return {
        "more than": value > limit,
        "fewer than": value < limit,
        "at least": value >= limit,
        "at most": value <= limit,
        "nearly": 0.85 * limit <= value < limit,
    }[bound]


@pytest.mark.parametrize("value", [12, 45, 180, 18000, 2400])
def test_counts_against_round_bounds_and_ranges_are_labelled_by_arithmetic(value):
    written = f"{value:,}"
    sentence = f"The town has {written} inhabitants, officials said."
    kinds = set()
    for seed in SEEDS:
        for kind in ("count_round", "count_range"):
            for edit in of_kind(sentence, kind, seed):
                kinds.add((kind, edit.label))
                phrase = re.search(r"has (.+) inhabitants", edit.hypothesis).group(1)
                assert edit.label == label_of(count_holds(value, phrase)), edit
                if kind == "count_round" and "nearly" in phrase and edit.label == CONTRADICTION:
                    limit = int(phrase.split()[-1].replace(",", ""))
                    assert limit < 0.9 * value or value < 0.7 * limit  # never a borderline "nearly"
    assert {label for _, label in kinds} == {ENTAILMENT, CONTRADICTION}


def test_counts_in_words_and_digits_say_the_same():
    (edit,) = of_kind("Rescuers found 12 survivors in the rubble.", "count_words", 1)
    assert edit.label == ENTAILMENT and edit.hypothesis in {
        "Rescuers found twelve survivors in the rubble.",
        "Rescuers found a dozen survivors in the rubble.",
    }
    same, other = of_kind("Police arrested three men at the scene.", "count_words", 0)
    assert same == Edit(
        "Police arrested three men at the scene.",
        "Police arrested 3 men at the scene.",
        ENTAILMENT,
        "count_words",
    )
    assert other.label == CONTRADICTION and "three" not in other.hypothesis


@pytest.mark.parametrize(
    "sentence",
    [
        "About 40 people were killed in the attack.",  # already a bound
        "The iOS 8 users complained.",  # a version, not a count
        "The talks began in the spring.",  # no year, day or count
        "Nearly three people in four agreed.",
    ],
)
def test_what_the_scale_rules_leave_alone(sentence):
    kinds = {edit.kind for seed in range(5) for edit in scale_edits_of(sentence, None, random.Random(seed))}
    assert not kinds & {
        "count_round",
        "count_range",
        "count_words",
        "decade",
        "year_interval",
        "day_in_month",
    }


def test_a_phrasal_verb_becomes_its_one_word_synonym(lexicon):
    edits = reword_edits_of("The council put off the vote until March.", lexicon, random.Random(0))
    assert (
        Edit(
            "The council put off the vote until March.",
            "The council postponed the vote until March.",
            ENTAILMENT,
            "phrasal",
        )
        in edits
    )


def test_a_reworded_sentence_changes_the_verb_and_the_voice(lexicon):
    edits = reword_edits_of("The company bought the factory in 2010.", lexicon, random.Random(0))
    assert edits == [
        Edit(
            "The company bought the factory in 2010.",
            "The factory was purchased by the company in 2010.",
            ENTAILMENT,
            "reworded",
        )
    ]
    assert reword_edits_of("The company was bought in 2010.", lexicon, random.Random(0)) == []
