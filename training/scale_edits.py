"""Minimal-edit pairs on scales: a count or a date in a training sentence against a coarser, bounded
or rounded statement of it, labelled by arithmetic.

Why: model 3.1.0 learnt that a changed number or year contradicts (:mod:`training.minimal_edits`),
and with it that almost *any* other wording of a number or date does: "opened in 1987" vs "in the
1980s", a population of 18,000 vs "fewer than 20,000", "on Friday" vs "at the weekend" all read as
contradiction or entailment by surface, not by value (behaviour suite: dates 53%, numbers 62%). Each
rule here restates a value at another grain, so the same surface change is entailment for some
values and contradiction for others, and only the value decides:

=================  ====================================================================  ==========
kind               change                                                                label
=================  ====================================================================  ==========
decade             "in 1987" -> "in the 1980s" / "in the 1990s" (and back: neutral)       E / C (N)
year_interval      "in 2015" -> "before / after / between" years around it                E or C
weekend            "on Saturday" / "on Friday" -> "at the weekend" (or "on a weekday")    E or C
day_in_month       "on 3 May" -> "in the first week of May", "in early / late May", ...   E or C
part_of_day        "on the morning of" -> "on the evening of", "in the morning" -> ...    C
count_round        a count -> "more / fewer than", "at least", "nearly" a round number    E or C
                   close to it (18,000 -> "fewer than 20,000")
count_range        a count -> "between A and B", inside or outside                        E or C
count_words        "3 soldiers" <-> "three soldiers", "12" <-> "a dozen"; another         E / C
                   number word
=================  ====================================================================  ==========

Same rules as the other edits: a sentence from a train split, one change, pairs touching the
behaviour suite's sentences dropped (:func:`training.minimal_edits.build_edits`).
"""

from __future__ import annotations

import random
import re

from contradict.labels import CONTRADICTION, ENTAILMENT, NEUTRAL
from training.minimal_edits import (
    BOUND_WORDS,
    MONTHS,
    WEEKDAYS,
    YEAR,
    Edit,
    _number,
    _written,
    is_plural,
    plain_counts,
)
from training.wordnet import Lexicon

NUMBER_WORDS = tuple(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ]
)
WORD_COUNT = re.compile(r"\b(?P<word>" + "|".join(NUMBER_WORDS[2:]) + r") (?P<noun>[a-z]+)\b")
DAY_MONTH = re.compile(
    r"\bon (?:(?P<day>[1-9]|[12]\d|3[01]) (?P<month>" + "|".join(MONTHS) + r")"
    r"|(?P<month2>" + "|".join(MONTHS) + r") (?P<day2>[1-9]|[12]\d|3[01]))\b(?!,? ?\d{1,2}\b)"
)
WEEKDAY_ON = re.compile(r"\bon (?P<day>" + "|".join(WEEKDAYS) + r")\b")
PARTS_OF_DAY = ("morning", "afternoon", "evening", "night")
PART_OF_DAY = re.compile(r"\b(?P<lead>on the|in the) (?P<part>morning|afternoon|evening)\b")


def _round_numbers(value: int) -> list[int]:
    """Round numbers near ``value`` (20,000 and 15,000 for 18,000), never ``value`` itself."""
    magnitude = 10 ** max(0, len(str(value)) - 1)
    steps = sorted({magnitude, magnitude // 2 or 1, magnitude * 10 // 4 or 1})
    found = {
        (value // step + offset) * step for step in steps for offset in (0, 1) if (value // step + offset) > 0
    }
    return sorted(number for number in found if number != value and 0.5 * value <= number <= 2 * value)


def count_edits(sentence: str, rng: random.Random) -> list[Edit]:
    edits: list[Edit] = []
    match = next(plain_counts(sentence), None)
    if match:
        value = _number(match.group("number"))
        head, tail = sentence[: match.start()], sentence[match.start("noun") - 1 :]
        written = match.group("number")

        def said(phrase: str) -> str:
            return f"{head}{phrase}{tail}"

        rounds = _round_numbers(value)
        if rounds:
            bound = rng.choice(rounds)
            options = [
                ("more than", value > bound),
                ("fewer than", value < bound),
                ("at least", value >= bound),
                ("at most", value <= bound),
            ]
            if bound < 0.9 * value or 0.85 * bound <= value < bound or value < 0.7 * bound:
                options.append(("nearly", 0.85 * bound <= value < bound))  # "nearly N": a bit under N
            phrase, holds = rng.choice(options)
            edits.append(
                Edit(
                    sentence,
                    said(f"{phrase} {_written(bound, written)}"),
                    ENTAILMENT if holds else CONTRADICTION,
                    "count_round",
                )
            )
        low = max(1, round(value * rng.choice((0.5, 0.7, 0.8, 1.2, 1.5))))
        high = low + max(2, round(value * rng.choice((0.2, 0.4, 0.6))))
        label = ENTAILMENT if low <= value <= high else CONTRADICTION
        if low != value and high != value:
            edits.append(
                Edit(
                    sentence,
                    said(f"between {_written(low, written)} and {_written(high, written)}"),
                    label,
                    "count_range",
                )
            )
        if value <= 20 and match.group("number").isdigit():
            word = "a dozen" if value == 12 and rng.random() < 0.5 else NUMBER_WORDS[value]
            edits.append(Edit(sentence, said(word), ENTAILMENT, "count_words"))
    match = WORD_COUNT.search(sentence)
    before = sentence[: match.start()].split()[-1:] if match else []
    if match and is_plural(match.group("noun")) and not {w.lower() for w in before} & (BOUND_WORDS | {"the"}):
        value = NUMBER_WORDS.index(match.group("word"))
        head, tail = sentence[: match.start()], sentence[match.end("word") :]
        other = rng.choice([n for n in range(2, 21) if n != value and abs(n - value) <= 5])
        edits.append(Edit(sentence, f"{head}{value}{tail}", ENTAILMENT, "count_words"))
        edits.append(Edit(sentence, f"{head}{NUMBER_WORDS[other]}{tail}", CONTRADICTION, "count_words"))
    return edits


def year_edits(sentence: str, rng: random.Random) -> list[Edit]:
    match = YEAR.search(sentence)
    if match is None or match.group("month"):
        return []
    year = int(match.group("year"))
    head, tail = sentence[: match.start()], sentence[match.end() :]
    edits: list[Edit] = []
    decade = year // 10 * 10
    other = decade + rng.choice((-20, -10, 10)) if decade + 10 <= 2020 else decade - 10
    edits.append(Edit(sentence, f"{head}in the {decade}s{tail}", ENTAILMENT, "decade"))
    edits.append(Edit(sentence, f"{head}in the {other}s{tail}", CONTRADICTION, "decade"))
    edits.append(Edit(f"{head}in the {decade}s{tail}", sentence, NEUTRAL, "decade"))
    gap, width = rng.randint(1, 12), rng.randint(2, 8)
    start = year - rng.randint(0, width) if rng.random() < 0.5 else year + gap
    options = [
        (f"before {year + gap}", True),
        (f"before {year - gap + 1}", False),
        (f"after {year - gap}", True),
        (f"after {year + gap - 1}", False),
        (f"between {start} and {start + width}", start <= year <= start + width),
    ]
    for phrase, holds in rng.sample(options, 2):
        edits.append(
            Edit(sentence, f"{head}{phrase}{tail}", ENTAILMENT if holds else CONTRADICTION, "year_interval")
        )
    return edits


def _day_phrases(day: int, month: str, rng: random.Random) -> list[tuple[str, bool]]:
    """Coarser statements of "on <day> <month>" whose truth the day decides, (phrase, holds);
    boundaries are left out where usage is loose ("early May" for the 11th)."""
    spans = [(1, 7, "the first week of"), (8, 14, "the second week of"), (15, 21, "the third week of")]
    spans.append((22, 31, "the last ten days of"))
    phrases = [(f"in {name} {month}", low <= day <= high) for low, high, name in spans]
    if day <= 7 or day >= 25:
        phrases += [(f"in early {month}", day <= 7), (f"in late {month}", day >= 25)]
    phrases += [(f"in {month}", True), (f"in {rng.choice([m for m in MONTHS if m != month])}", False)]
    return phrases


def day_edits(sentence: str, rng: random.Random) -> list[Edit]:
    edits: list[Edit] = []
    match = WEEKDAY_ON.search(sentence)
    if match:
        phrase = rng.choice(("at the weekend", "on a weekday"))
        holds = (match.group("day") in ("Saturday", "Sunday")) == (phrase == "at the weekend")
        said = f"{sentence[: match.start()]}{phrase}{sentence[match.end() :]}"
        edits.append(Edit(sentence, said, ENTAILMENT if holds else CONTRADICTION, "weekend"))
    match = DAY_MONTH.search(sentence)
    if match:
        day = int(match.group("day") or match.group("day2"))
        month = match.group("month") or match.group("month2")
        phrases = _day_phrases(day, month, rng)
        true = [phrase for phrase in phrases if phrase[1]]
        false = [phrase for phrase in phrases if not phrase[1]]
        for phrase, holds in (rng.choice(true), rng.choice(false)):
            said = f"{sentence[: match.start()]}{phrase}{sentence[match.end() :]}"
            edits.append(Edit(sentence, said, ENTAILMENT if holds else CONTRADICTION, "day_in_month"))
    match = PART_OF_DAY.search(sentence)
    if match:
        other = rng.choice([part for part in PARTS_OF_DAY if part != match.group("part")])
        lead = "at" if other == "night" and match.group("lead") == "in the" else match.group("lead")
        said = f"{sentence[: match.start()]}{lead} {other}{sentence[match.end() :]}"
        edits.append(Edit(sentence, said, CONTRADICTION, "part_of_day"))
    return edits


def scale_edits_of(sentence: str, lexicon: Lexicon, rng: random.Random) -> list[Edit]:
    """Every scale edit of one sentence (``lexicon`` unused: the rule-set signature of
    :func:`training.minimal_edits.build_edits`)."""
    return count_edits(sentence, rng) + year_edits(sentence, rng) + day_edits(sentence, rng)
