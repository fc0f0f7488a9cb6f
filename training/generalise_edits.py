"""Restatements that keep a fact true in other words: a more general noun or place, another unit,
a share said in words. Labelled by the taxonomy or by arithmetic, in both directions.

Why: model 3.6.0 still reads many true restatements as contradiction, with high confidence: "arrested
in Lyon" vs "arrested in France" (0.97), "1.2 kilometres long" vs "1,200 metres long" (0.95), "a
church" vs "a building" (0.77) (behaviour suite, places, numbers and hypernym failures). Natural NLI
data rarely holds one sentence twice with only the grain of one word changed, while VitaminC's
revision pairs teach that a changed word is a changed fact. These rules write the pairs where the
change keeps the fact, and the reverse direction, where it does not follow:

==============  ==========================================================================  =====
kind            change                                                                      label
==============  ==========================================================================  =====
hypernym        a common noun -> its nearest everyday category in WordNet ("a rifle" ->     E
                "a gun", "the senator" -> "the politician")
hyponym         the same pair read backwards: the general statement does not say which      N
cohyponym       the noun -> another noun of its category ("a rifle" -> "a pistol"), not for  C
                people or bodies (a man can be a nurse); without it every noun change in
                these pairs was E or N
place_region    "in Kabul" -> "in Afghanistan" (WordNet: a city and what it is part of)     E
place_within    ... backwards: "in Afghanistan" does not say "in Kabul"                     N
place_moved     the city -> a city in another country or state ("in Kabul" -> "in Lyon"):   C
                one event, one place; without it the pairs above taught "another name
                follows" (stage 16: "headquartered in Munich" -> "in Hamburg" and "won by
                Brazil" -> "by Argentina" read E)
unit            "12 kilometres" <-> "12,000 metres", "3 hours" <-> "180 minutes",           E
                "2 weeks" <-> "14 days", "5 million" <-> "5,000,000", either direction
unit_changed    the same with the converted value off by a factor ("12 kilometres" vs       C
                "1,200 metres")
share           "62 percent of voters" -> "more than half of voters" (and "less than half":  E / C
                C); values within 5 points of 50 are skipped
==============  ==========================================================================  =====

Nouns and places are only generalised in sentences with no negation or quantifier that would turn
the entailment around ("No rifle was found" does not entail "No gun was found"). Same rules as the
other edit sets: train-split sentences, one change each, behaviour suite sentences dropped
(:func:`training.minimal_edits.build_edits`).

Measured, not used: stage 13's recipe with these pairs (stages 16 and 17, ``experiments.json``) lost
selection score and VitaminC test accuracy and did not fix the cases above; no shipped mixture
includes ``generalise_edits``.
"""

from __future__ import annotations

import functools
import random
import re

from contradict.labels import CONTRADICTION, ENTAILMENT, NEUTRAL
from training.minimal_edits import Edit, words
from training.wordnet import Lexicon, Nouns, read_nouns, wordnet_folder

# Words that make a context downward-entailing or otherwise not a plain statement of fact.
NOT_UPWARD = words(
    "not no never none nobody nothing neither nor without every all each any few only if unless whether "
    "cannot than"
)  # and any "n't" (checked apart: the word pattern keeps "didn't" whole)
FOLLOWERS = words(
    "of in on at to for with by from near after during before was is were are has had have that which "
    "who and but when while as"
)
# Categories whose members can be the same thing at once ("the man" and "the nurse"): no sibling swap.
NO_SIBLINGS = words(
    "person politician leader official scientist artist musician athlete player soldier criminal worker "
    "team company business institution organization disease illness"
)
NOUN_AFTER_DETERMINER = re.compile(
    r"\b(a|an|the|his|her|their|its|our)\s+([a-z]+)(?=\s*[.,;:!?]|\s*$|\s+(\w+))", re.IGNORECASE
)
PLACE = re.compile(r"\b(in|near|from|outside|across)\s+([A-Z][a-z]+)\b")
NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
UNITS = {  # unit -> (smaller unit, factor)
    "kilometres": ("metres", 1000),
    "kilometers": ("meters", 1000),
    "kilograms": ("grams", 1000),
    "tonnes": ("kilograms", 1000),
    "hours": ("minutes", 60),
    "days": ("hours", 24),
    "weeks": ("days", 7),
    "years": ("months", 12),
    "million": ("", 1_000_000),
    "billion": ("million", 1000),
}
UNIT_PATTERN = re.compile(NUMBER + r"\s+(" + "|".join(UNITS) + r")\b")
SHARE = re.compile(r"(\w+\s+)?" + NUMBER + r"\s*(?:percent|per cent|%)\s+of\b")
# A share behind one of these is a bound or an estimate, not the value itself.
SHARE_QUALIFIERS = words("about nearly almost over than to around roughly some up least most approximately")


@functools.cache
def default_nouns() -> Nouns:
    return read_nouns(wordnet_folder())


def _upward(sentence: str) -> bool:
    return not any(word.lower() in NOT_UPWARD for word in re.findall(r"[A-Za-z']+", sentence)) and (
        "n't" not in sentence
    )


def _article(word: str, like: str) -> str:
    """``a``/``an`` before ``word`` when ``like`` was an indefinite article; other determiners stay."""
    if like.lower() not in ("a", "an"):
        return like
    article = "an" if word[:1].lower() in "aeiou" else "a"
    return article.capitalize() if like[:1].isupper() else article


def noun_edits(sentence: str, nouns: Nouns, rng: random.Random) -> list[Edit]:
    """ "The police found a rifle." -> "The police found a gun." (E), and backwards (N)."""
    if not _upward(sentence):
        return []
    options = [
        match
        for match in NOUN_AFTER_DETERMINER.finditer(sentence)
        if match.group(2) in nouns.general and (match.group(3) is None or match.group(3).lower() in FOLLOWERS)
    ]
    if not options:
        return []
    match = rng.choice(options)
    noun, general = match.group(2), nouns.general[match.group(2)]

    def said_as(word: str) -> str:
        return (
            sentence[: match.start()] + f"{_article(word, match.group(1))} {word}" + sentence[match.end() :]
        )

    edited = said_as(general)
    edits = [Edit(sentence, edited, ENTAILMENT, "hypernym"), Edit(edited, sentence, NEUTRAL, "hyponym")]
    siblings = nouns.siblings(noun)
    if general not in NO_SIBLINGS and siblings:
        edits.append(Edit(sentence, said_as(rng.choice(siblings)), CONTRADICTION, "cohyponym"))
    return edits


def place_edits(sentence: str, nouns: Nouns, rng: random.Random) -> list[Edit]:
    """ "The suspect was arrested in Kabul." -> "... in Afghanistan." (E), and backwards (N)."""
    if not _upward(sentence):
        return []
    options = [match for match in PLACE.finditer(sentence) if match.group(2) in nouns.region]
    if not options:
        return []
    match = rng.choice(options)
    region = nouns.region[match.group(2)]
    if region in sentence:
        return []
    edited = sentence[: match.start(2)] + region + sentence[match.end(2) :]
    edits = [
        Edit(sentence, edited, ENTAILMENT, "place_region"),
        Edit(edited, sentence, NEUTRAL, "place_within"),
    ]
    elsewhere = [
        city for city, other in sorted(nouns.region.items()) if other != region and city not in sentence
    ]
    if elsewhere:
        moved = sentence[: match.start(2)] + rng.choice(elsewhere) + sentence[match.end(2) :]
        edits.append(Edit(sentence, moved, CONTRADICTION, "place_moved"))
    return edits


def _value(text: str) -> float:
    return float(text.replace(",", ""))


def _format(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def unit_edits(sentence: str, rng: random.Random) -> list[Edit]:
    """ "The bridge is 1.2 kilometres long." <-> "The bridge is 1,200 metres long." (E); the converted
    value off by a factor of 10 or 2 (C)."""
    matches = list(UNIT_PATTERN.finditer(sentence))
    if not matches:
        return []
    match = rng.choice(matches)
    value, unit = _value(match.group(1)), match.group(2)
    smaller, factor = UNITS[unit]
    converted = value * factor
    if converted >= 10**12:
        return []

    def said(amount: float) -> str:
        return f"{_format(amount)} {smaller}".rstrip()

    same = sentence[: match.start()] + said(converted) + sentence[match.end() :]
    wrong = (
        sentence[: match.start()]
        + said(converted * rng.choice((0.1, 0.5, 2.0, 10.0)))
        + sentence[match.end() :]
    )
    entailed = Edit(sentence, same, ENTAILMENT, "unit")
    if rng.random() < 0.5:
        entailed = Edit(same, sentence, ENTAILMENT, "unit")
    return [entailed, Edit(sentence, wrong, CONTRADICTION, "unit_changed")]


def share_edits(sentence: str, rng: random.Random) -> list[Edit]:
    """ "62 percent of voters backed it." -> "More than half of voters backed it." (E) / "less than
    half" (C)."""
    match = SHARE.search(sentence)
    if match is None or (match.group(1) or "").strip().lower() in SHARE_QUALIFIERS:
        return []
    value = _value(match.group(2))
    if abs(value - 50) <= 5 or value > 100:
        return []
    phrase, label = rng.choice((("more than half of", value > 50), ("less than half of", value < 50)))
    start = match.start(2)
    if start == 0:
        phrase = phrase.capitalize()
    edited = sentence[:start] + phrase + sentence[match.end() :]
    return [Edit(sentence, edited, ENTAILMENT if label else CONTRADICTION, "share")]


def generalise_edits_of(sentence: str, lexicon: Lexicon | None, rng: random.Random) -> list[Edit]:
    """Every rule's edits of one sentence (the rule-set signature of :func:`build_edits`; the WordNet
    noun taxonomy is read once, cached)."""
    nouns = default_nouns()
    return [
        *noun_edits(sentence, nouns, rng),
        *place_edits(sentence, nouns, rng),
        *unit_edits(sentence, rng),
        *share_edits(sentence, rng),
    ]
