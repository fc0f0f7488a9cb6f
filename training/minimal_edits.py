"""Minimal-edit pairs: a real training sentence against a copy of it with one rule-made change whose
effect on meaning is known from the change alone.

Why: the behaviour suite (``training/behaviour_suite.jsonl``) showed the model reading contradiction
off surface cues: a "not" made it say contradiction even where the hypothesis followed ("Exports
increased" -> "Exports did not decrease"), while an antonym in an otherwise identical sentence left it
at entailment ("closed" -> "open"), and hedged or future statements read as the fact itself. Natural
NLI data holds few pairs that differ by exactly one such change, so each rule below writes them, in
counterfactual-augmentation style, from sentences the mixture already trains on:

========================  ==============================================================  =========
kind                      change                                                           label
========================  ==============================================================  =========
antonym                   predicate or main verb -> its WordNet antonym                    C
negated_antonym           ... -> "not" + the antonym ("rose" -> "did not fall")            E
synonym                   predicate or main verb -> a WordNet first-sense synonym          E
passive                   "X rejected the plan" <-> "The plan was rejected by X"           E
negation                  "not" added to the predicate or main verb                        C
negation_removed          a "not" taken away                                               C
number_changed            a count -> another count                                         C
number_bound              a count -> "more/fewer than K", K below or above it              E or C
number_from_bound         "more than N" -> a count above or below N                        N or C
year_changed / *_bound    "in 2015" -> another year / "before/after Y"                     C / E, C
date_specific             "in 2015" -> "in March 2015" (and back: E)                       N / E
weekday / month           "on Friday" -> "on Tuesday", "in May" -> "in June"               C
quantifier                "The Xs ..." with all / some / none / most / few / many of ...   table
modal_weakened            "X captured Y" -> "X may have captured Y"                        E
modal_unrealised          "X may/could/is expected to capture Y" -> "X captured Y"          N
modal_failed              "X failed to / could not capture Y" vs "X captured Y"            C
hedge                     "It is unclear whether s" -> "s"                                 N
same_text                 two sentences of one text (a news window, a premise)             N
========================  ==============================================================  =========

The rules act on the main clause (a short subject, then the verb or copula) and skip what they
cannot read safely; the rest is the noise any rule-made data carries, kept to a share of the
mixture by its weight. Every pair comes from a *train* split's sentence, and pairs that repeat a
behaviour suite sentence are dropped, so the suite stays a test of what the model generalises.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from contradict.labels import CONTRADICTION, ENTAILMENT, NEUTRAL
from training.wordnet import Lexicon, read_lexicon, wordnet_folder

logger = logging.getLogger(__name__)


def words(text: str) -> frozenset[str]:
    """A word list written as one string: long constant sets stay a few lines long."""
    return frozenset(text.split())


SUITE = Path(__file__).resolve().parent / "behaviour_suite.jsonl"
WORD = re.compile(r"[A-Za-z]+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
COPULAS = {"is": "VBZ", "are": "VBP", "was": "VBD", "were": "VBD"}
AUXILIARIES = {
    *COPULAS,
    *words("be been being has have had do does did will would can could may might must shall should not to"),
}
DETERMINERS = words("the a an its his her their our my your this that these those every each no some any")
DO_SUPPORT = {"VBD": "did", "VBZ": "does", "VBP": "do"}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
BOUND_WORDS = words(
    "about around nearly almost over under some approximately roughly least than to up most only just "
    "no number"
)
NOT_PREDICATES = words(
    "more less most least best worst better worse well much many few fewer first last only also very "
    "so too still often always never now then just same other such"
)
SUBJECT = re.compile(r"^[A-Z][A-Za-z\-]*(?: [A-Za-z\-]+)*$")
NOT_SUBJECT_START = words(
    "In On At After Before During Since When While If As By For From With Without Although Though "
    "Because Then There Here Today Yesterday However But And So Also What Who Even Only Not Once Now "
    "Perhaps Maybe Why How Where Just"
)
SUBJECT_CANNOT_END = words("of in on at for with to from by the a an and or")
QUANTIFIED_LABELS = {  # (premise quantifier, hypothesis quantifier) -> label; "the" = the plain plural
    ("the", "some"): ENTAILMENT,
    ("the", "none"): CONTRADICTION,
    ("all", "some"): ENTAILMENT,
    ("all", "most"): ENTAILMENT,
    ("all", "none"): CONTRADICTION,
    ("all", "few"): CONTRADICTION,
    ("some", "all"): NEUTRAL,
    ("some", "most"): NEUTRAL,
    ("some", "none"): CONTRADICTION,
    ("none", "some"): CONTRADICTION,
    ("none", "all"): CONTRADICTION,
    ("most", "some"): ENTAILMENT,
    ("most", "all"): NEUTRAL,
    ("most", "few"): CONTRADICTION,
    ("most", "none"): CONTRADICTION,
    ("few", "most"): CONTRADICTION,
    ("few", "all"): CONTRADICTION,
    ("many", "some"): ENTAILMENT,
    ("many", "all"): NEUTRAL,
    ("several", "all"): NEUTRAL,
    ("several", "none"): CONTRADICTION,
}
QUANTIFIER_PHRASES = {
    "the": "The",
    "all": "All of the",
    "some": "Some of the",
    "none": "None of the",
    "most": "Most of the",
    "few": "Few of the",
    "many": "Many of the",
    "several": "Several of the",
}
HEDGES = (
    "It is unclear whether {s}",
    "Officials are investigating whether {s}",
    "It has not been confirmed that {s}",
    "It is not yet known whether {s}",
    "Reports that {s} could not be verified",
)
UNREALISED = (
    "{subject} may {verb}",
    "{subject} might {verb}",
    "{subject} could {verb}",
    "{subject} {plans} to {verb}",
    "{subject} {be} expected to {verb}",
)
FAILED = ("{subject} failed to {verb}", "{subject} could not {verb}", "{subject} {was} unable to {verb}")


@dataclass(frozen=True)
class Edit:
    premise: str
    hypothesis: str
    label: str
    kind: str


@dataclass(frozen=True)
class Clause:
    """A sentence read as a short subject, a verb or copula, and the rest."""

    subject: str
    verb: str  # the word as written
    lemma: str
    tag: str  # Penn tag of ``verb``: VBD / VBZ / VBP, or the copula's
    rest: str
    copula: bool


# -- morphology (lemminflect: forms for a lemma and tag, without a tagger) ----------------------------


@functools.cache
def verb_readings(word: str) -> tuple[tuple[str, str], ...]:
    """(lemma, tag) of every verb form ``word`` can be, e.g. "rose" -> (("rise", "VBD"),)."""
    from lemminflect import getAllInflections, getAllLemmas

    readings = []
    for lemma in getAllLemmas(word).get("VERB", ()):
        for tag, forms in getAllInflections(lemma, upos="VERB").items():
            if word in forms:
                readings.append((lemma, tag))
    return tuple(readings)


@functools.cache
def is_noun(word: str) -> bool:
    from lemminflect import getAllLemmas

    return "NOUN" in getAllLemmas(word)


@functools.cache
def is_plural(word: str) -> bool:
    """A plural noun ("people", "soldiers"): what a count can quantify."""
    from lemminflect import getInflection, getLemma

    if word in {"people", "police", "staff"}:
        return True
    return any(
        word in getInflection(lemma, tag="NNS") and lemma != word for lemma in getLemma(word, upos="NOUN")
    )


def participle_of(lemma: str, past: str) -> str | None:
    """The past participle, the past form itself where that is one of them ("quit", not "quitted")."""
    from lemminflect import getInflection

    forms = getInflection(lemma, tag="VBN")
    return past if past in forms else (forms[0] if forms else None)


@functools.cache
def inflect(lemma: str, tag: str) -> str | None:
    from lemminflect import getInflection

    forms = getInflection(lemma, tag=tag)
    return forms[0] if forms else None


LOWERED_HEADS = words("The A An This That These Those It They He She We Some Many Most All Several Two Three")


def first_lower(text: str) -> str:
    """Lower-case a sentence's first word for embedding, unless it looks like a name."""
    head, _, tail = text.partition(" ")
    if head in LOWERED_HEADS:
        return head.lower() + (" " + tail if tail else "")
    return text


def strip_end(text: str) -> str:
    return text.rstrip(" .!?")


# -- reading the main clause ------------------------------------------------------------------------


def main_clause(sentence: str, max_subject_words: int = 6) -> Clause | None:
    """The first verb or copula after a short, comma-free subject; ``None`` when it is not plain."""
    tokens = list(WORD.finditer(sentence))
    if len(tokens) < 3 or not sentence[:1].isupper():
        return None
    for index, match in enumerate(tokens[1 : max_subject_words + 1], start=1):
        word = match.group()
        subject = sentence[: match.start()].strip()
        parts = subject.split()
        if not SUBJECT.match(subject) or parts[0] in NOT_SUBJECT_START:
            return None
        if any(part.endswith("ly") for part in parts[1:]) or parts[0].endswith("ing"):
            return None  # "In 2005 he quietly ...", "Having lived ...": no plain subject
        if parts[-1].lower() in SUBJECT_CANNOT_END:
            continue  # "One form of ground ...": the subject goes on
        following = tokens[index + 1].group() if index + 1 < len(tokens) else ""
        if word in COPULAS:
            if following in AUXILIARIES or not following.islower():
                return None
            return Clause(subject, word, "be", COPULAS[word], sentence[match.end() :].strip(), True)
        if word.lower() in AUXILIARIES or not word.islower():
            return None
        readings = [item for item in verb_readings(word) if item[1] in ("VBD", "VBZ")]
        previous = tokens[index - 1].group().lower()
        if is_noun(word) and previous in DETERMINERS:
            return None  # "The rose ...", "its cut ...": a noun, not the verb
        if any(tag == "VBZ" for _, tag in readings) and is_noun(word):
            continue  # "Oil prices rose": a plural noun, not "price" in the present
        if readings and following != "by":  # "A video uploaded by ..." is no clause
            lemma, tag = readings[0]
            if tokens[0].group() in {"The", "A", "An"} and len(parts) == 1:
                return None  # "The closed ...": a noun phrase's start, not a verb
            return Clause(subject, word, lemma, tag, sentence[match.end() :].strip(), False)
    return None


def predicate(clause: Clause) -> tuple[str, str, str] | None:
    """For a copula clause: the word after it, its POS for WordNet, and the text after that word."""
    match = WORD.match(clause.rest)
    if match is None:
        return None
    word = match.group()
    after = clause.rest[match.end() :]
    if word in NOT_PREDICATES:
        return None
    if any(tag == "VBN" for _, tag in verb_readings(word)):
        return word, "VBN", after
    from lemminflect import getAllLemmas

    if "ADJ" in getAllLemmas(word):
        return word, "ADJ", after
    return None


def antonym_form(word: str, pos: str, lexicon: Lexicon, rng: random.Random) -> tuple[str, str] | None:
    """``word``'s antonym as (lemma, the same form as ``word``): "rose" -> ("fall", "fell")."""
    if pos == "ADJ":
        options = sorted(lexicon.antonyms.get((word.lower(), "ADJ"), ()))
        return (choice := rng.choice(options), choice) if options else None
    for lemma, tag in verb_readings(word):
        if tag != pos:
            continue
        options = sorted(lexicon.antonyms.get((lemma, "VERB"), ()))
        if options:
            choice = rng.choice(options)
            form = inflect(choice, tag)
            return (choice, form) if form else None
    return None


# Light and reporting verbs: their first-sense "synonyms" change the construction or the meaning
# ("made his money" -> "did", "spoke to" -> "mouthed", "said that" -> "told that").
NO_SYNONYM = words(
    "say tell make do have get take go come give speak search put set keep let see look find know "
    "think want use"
)


def synonym_form(word: str, pos: str, lexicon: Lexicon, rng: random.Random) -> str | None:
    """A synonym of ``word`` in the same form ("postponed" -> "put off", "bought" -> "purchased")."""
    if pos == "ADJ":
        options = sorted(lexicon.synonyms.get((word.lower(), "ADJ"), ()))
        return rng.choice(options) if options else None
    for lemma, tag in verb_readings(word):
        if tag != pos or lemma in NO_SYNONYM:
            continue
        options = sorted(lexicon.synonyms.get((lemma, "VERB"), ()))
        if options:
            head, _, particle = rng.choice(options).partition(" ")
            form = inflect(head, tag)
            return f"{form} {particle}".strip() if form else None
    return None


# -- the rules --------------------------------------------------------------------------------------


def clause_edits(sentence: str, lexicon: Lexicon, rng: random.Random) -> list[Edit]:
    """Antonym, negated antonym, negation and modality edits of the main clause."""
    clause = main_clause(sentence)
    if clause is None:
        return []
    edits: list[Edit] = []
    if clause.copula:
        read = predicate(clause)
        if read is None:
            return []
        word, pos, after = read
        head = f"{clause.subject} {clause.verb}"
        antonym = antonym_form(word, pos, lexicon, rng)
        edits.append(Edit(sentence, f"{head} not {word}{after}", CONTRADICTION, "negation"))
        synonym = synonym_form(word, pos, lexicon, rng)
        if synonym:
            edits.append(Edit(sentence, f"{head} {synonym}{after}", ENTAILMENT, "synonym"))
        if antonym:
            _, antonym = antonym
            edits.append(Edit(sentence, f"{head} {antonym}{after}", CONTRADICTION, "antonym"))
            edits.append(Edit(sentence, f"{head} not {antonym}{after}", ENTAILMENT, "negated_antonym"))
        return edits
    do = DO_SUPPORT[clause.tag]
    rest = f" {clause.rest}" if clause.rest else ""
    edits.append(Edit(sentence, f"{clause.subject} {do} not {clause.lemma}{rest}", CONTRADICTION, "negation"))
    synonym = synonym_form(clause.verb, clause.tag, lexicon, rng)
    if synonym:
        edits.append(Edit(sentence, f"{clause.subject} {synonym}{rest}", ENTAILMENT, "synonym"))
    antonym = antonym_form(clause.verb, clause.tag, lexicon, rng)
    if antonym:
        base, antonym = antonym
        edits.append(Edit(sentence, f"{clause.subject} {antonym}{rest}", CONTRADICTION, "antonym"))
        edits.append(Edit(sentence, f"{clause.subject} {do} not {base}{rest}", ENTAILMENT, "negated_antonym"))
    if clause.tag == "VBD":
        participle = inflect(clause.lemma, "VBN")
        verb_phrase = f"{clause.lemma}{rest}"
        if participle:
            edits.append(
                Edit(sentence, f"{clause.subject} may have {participle}{rest}", ENTAILMENT, "modal_weakened")
            )
        plural = clause.subject.split()[-1] in {"they", "we", "you", "They", "We", "You"} or is_plural(
            clause.subject.split()[-1]
        )
        unrealised = rng.choice(UNREALISED).format(
            subject=clause.subject,
            verb=verb_phrase,
            plans="plan" if plural else "plans",
            be="are" if plural else "is",
        )
        edits.append(Edit(unrealised, sentence, NEUTRAL, "modal_unrealised"))
        failed = rng.choice(FAILED).format(
            subject=clause.subject, verb=verb_phrase, was="were" if plural else "was"
        )
        edits.append(Edit(failed, sentence, CONTRADICTION, "modal_failed"))
        hedge = rng.choice(HEDGES).format(s=first_lower(strip_end(sentence))) + "."
        edits.append(Edit(hedge, sentence, NEUTRAL, "hedge"))
    return edits


NEGATED = re.compile(
    r"^(?P<subject>[A-Z][^,;\"]{0,60}?) (?P<aux>did|does|do|was|were|is|are|has|have|will) "
    r"not (?P<word>[a-z]+)(?P<rest>.*)$"
)


def negation_removed(sentence: str) -> list[Edit]:
    match = NEGATED.match(sentence)
    if match is None or len(match.group("subject").split()) > 6:
        return []
    subject, aux, word, rest = match.group("subject", "aux", "word", "rest")
    if aux in DO_SUPPORT.values():
        tag = {"did": "VBD", "does": "VBZ", "do": "VBP"}[aux]
        if not any(lemma == word for lemma, _ in verb_readings(word)):
            return []
        form = inflect(word, tag)
        if form is None:
            return []
        return [Edit(sentence, f"{subject} {form}{rest}", CONTRADICTION, "negation_removed")]
    return [Edit(sentence, f"{subject} {aux} {word}{rest}", CONTRADICTION, "negation_removed")]


COUNT = re.compile(r"(?<![\d.,$£€])\b(?P<number>\d{1,3}(?:,\d{3})+|\d+)\b(?![.,]\d|%|:|\w) (?P<noun>[a-z]+)")
MORE_THAN = re.compile(
    r"\b(?P<bound>[Mm]ore than|[Oo]ver) (?P<number>\d{1,3}(?:,\d{3})+|\d+) (?P<noun>[a-z]+)"
)


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _written(value: int, like: str) -> str:
    return f"{value:,}" if "," in like or value >= 10_000 else str(value)


def _other_count(value: int, rng: random.Random) -> int:
    while True:
        other = max(1, round(value * rng.choice((0.3, 0.5, 0.6, 1.5, 2, 3, 4)) + rng.randint(-2, 2)))
        if other != value:
            return other


def plain_counts(sentence: str) -> Iterator[re.Match[str]]:
    """Counts of plural nouns ("12 survivors"), not years, bounds or versions."""
    for match in COUNT.finditer(sentence):
        value, noun = _number(match.group("number")), match.group("noun")
        before = sentence[: match.start()].split()
        if value < 2 or (1800 <= value <= 2100 and "," not in match.group("number")) or not is_plural(noun):
            continue
        if before and (
            before[-1].lower() in BOUND_WORDS or not before[-1].isalpha() or not before[-1].islower()
        ):
            continue  # "at least 40", "iOS 8 users", "(3 ...": not a plain count
        yield match


def number_edits(sentence: str, rng: random.Random) -> list[Edit]:
    edits: list[Edit] = []
    for match in plain_counts(sentence):
        value = _number(match.group("number"))
        head, tail = sentence[: match.start()], sentence[match.start("noun") - 1 :]
        other = _other_count(value, rng)
        edits.append(
            Edit(
                sentence,
                f"{head}{_written(other, match.group('number'))}{tail}",
                CONTRADICTION,
                "number_changed",
            )
        )
        lower = max(1, value // 2) if value > 2 else 1
        higher = value * 2
        bound, label = rng.choice(
            (
                (f"more than {lower}", ENTAILMENT),
                (f"more than {higher}", CONTRADICTION),
                (f"fewer than {higher}", ENTAILMENT),
                (f"fewer than {lower}", CONTRADICTION),
            )
        )
        if "fewer than 1 " in f"{bound} ":
            continue
        edits.append(Edit(sentence, f"{head}{bound}{tail}", label, "number_bound"))
        break
    match = MORE_THAN.search(sentence)
    if match and is_plural(match.group("noun")):
        value = _number(match.group("number"))
        head, tail = sentence[: match.start()], sentence[match.start("noun") - 1 :]
        above = value + max(1, round(value * rng.choice((0.1, 0.2, 0.5))))
        below = max(1, round(value * rng.choice((0.3, 0.5, 0.7))))
        if below < value:
            edits.append(
                Edit(
                    sentence,
                    f"{head}{_written(above, match.group('number'))}{tail}",
                    NEUTRAL,
                    "number_from_bound",
                )
            )
            edits.append(
                Edit(
                    sentence,
                    f"{head}{_written(below, match.group('number'))}{tail}",
                    CONTRADICTION,
                    "number_from_bound",
                )
            )
    return edits


YEAR = re.compile(r"\bin (?P<month>(?:" + "|".join(MONTHS) + r") )?(?P<year>1[89]\d\d|20[0-2]\d)\b(?!,? ?\d)")
WEEKDAY = re.compile(r"\bon (?P<day>" + "|".join(WEEKDAYS) + r")\b")
MONTH = re.compile(r"\bin (?P<month>" + "|".join(MONTHS) + r")\b(?! \d)")


def date_edits(sentence: str, rng: random.Random) -> list[Edit]:
    edits: list[Edit] = []
    match = YEAR.search(sentence)
    if match:
        year, month = int(match.group("year")), match.group("month")
        head, tail = sentence[: match.start()], sentence[match.end() :]
        other = year + rng.choice((-7, -4, -3, -2, -1, 1, 2, 3, 5))
        edits.append(Edit(sentence, f"{head}in {month or ''}{other}{tail}", CONTRADICTION, "year_changed"))
        gap = rng.randint(1, 6)
        bound, label = rng.choice(
            (
                (f"before {year + gap}", ENTAILMENT),
                (f"before {year - gap + 1}", CONTRADICTION),
                (f"after {year - gap}", ENTAILMENT),
                (f"after {year + gap - 1}", CONTRADICTION),
            )
        )
        edits.append(Edit(sentence, f"{head}{bound}{tail}", label, "year_bound"))
        if month is None:
            specific = f"{head}in {rng.choice(MONTHS)} {year}{tail}"
            edits.append(Edit(sentence, specific, NEUTRAL, "date_specific"))
        else:
            edits.append(Edit(sentence, f"{head}in {year}{tail}", ENTAILMENT, "date_specific"))
    for pattern, group, names, kind in (
        (WEEKDAY, "day", WEEKDAYS, "weekday"),
        (MONTH, "month", MONTHS, "month"),
    ):
        match = pattern.search(sentence)
        if match:
            other = rng.choice([name for name in names if name != match.group(group)])
            changed = f"{sentence[: match.start(group)]}{other}{sentence[match.end(group) :]}"
            edits.append(Edit(sentence, changed, CONTRADICTION, kind))
    return edits


PLURAL_SUBJECT = re.compile(r"^The (?P<noun>[a-z]+) (?P<rest>(?:are|were|have|had|[a-z]+ed)\b.*)$")


def quantifier_edits(sentence: str, rng: random.Random) -> list[Edit]:
    """Plural definite subjects ("The protesters were ...") quantified both sides, labelled by table."""
    from lemminflect import getAllLemmas, getInflection

    match = PLURAL_SUBJECT.match(sentence)
    if match is None:
        return []
    noun = match.group("noun")
    # Known plural nouns only (lemminflect's dictionary, not is_plural's rules for unknown words):
    # a quantified subject needs a noun read for sure. Changing this changes 3.1.0's training pairs.
    lemmas = getAllLemmas(noun).get("NOUN", ())
    if not lemmas or getInflection(lemmas[0], tag="NNS")[0] != noun or lemmas[0] == noun:
        return []
    (first, second), label = rng.choice(sorted(QUANTIFIED_LABELS.items()))

    def said(quantifier: str) -> str:
        return f"{QUANTIFIER_PHRASES[quantifier]} {noun} {match.group('rest')}"

    return [Edit(said(first), said(second), label, "quantifier")]


OBJECT_START = {"the", "a", "an", "its", "his", "her", "their", "our", "two", "three", "several", "many"}
OBJECT_END = words(
    "in on at after before during for with from to into over as because when while since until and "
    "but which who that by"
)
TIME_NOUNS = words(
    "day days week weeks month months year years time times hour hours minute minutes night nights "
    "morning evening weekend way"
)
OBJECT_CASE = {"He": "him", "She": "her", "They": "them", "We": "us", "I": "me", "It": "it", "You": "you"}


def passive_edits(sentence: str, rng: random.Random) -> list[Edit]:
    """ "The mayor rejected the plan on Monday." <-> "The plan was rejected by the mayor on Monday.":
    the same claim in other words and order, entailment both ways."""
    clause = main_clause(sentence)
    if clause is None or clause.copula or clause.tag != "VBD" or clause.lemma in {"have", "say", "tell"}:
        return []
    tokens = clause.rest.split(" ")
    if len(tokens) < 2 or tokens[0] not in OBJECT_START:
        return []
    end = next((i for i, word in enumerate(tokens) if i > 0 and word.lower() in OBJECT_END), len(tokens))
    object_words, after = tokens[:end], tokens[end:]
    if not 2 <= len(object_words) <= 5 or not after and not object_words[-1].endswith("."):
        return []
    last = object_words[-1].rstrip(".,")
    if (
        any(not word.rstrip(".").isalpha() or word in AUXILIARIES for word in object_words)
        or not last.islower()
    ):
        return []  # "believed his penis was ...": a clause, not an object
    if last in TIME_NOUNS or not (is_noun(last) or is_plural(last)):
        return []  # "came a day after": a time, not an object
    participle = participle_of(clause.lemma, clause.verb)
    if participle is None:
        return []
    tail = " ".join(after) if after else "."
    if not after:
        object_words[-1] = last
    agent = OBJECT_CASE.get(clause.subject, first_lower(clause.subject))
    be = "were" if is_plural(last) else "was"
    thing = " ".join(object_words)
    passive = f"{thing[0].upper()}{thing[1:]} {be} {participle} by {agent}"
    passive += tail if not after else f" {tail}"
    return [Edit(sentence, passive, ENTAILMENT, "passive")]


RULES: tuple[Callable[[str, random.Random], list[Edit]], ...] = (
    number_edits,
    date_edits,
    quantifier_edits,
    passive_edits,
)


def edits_of(sentence: str, lexicon: Lexicon, rng: random.Random) -> list[Edit]:
    """Every edit the rules make of one sentence."""
    edits = clause_edits(sentence, lexicon, rng) + negation_removed(sentence)
    for rule in RULES:
        edits.extend(rule(sentence, rng))
    return edits


def sentences_of(texts: Iterable[str], min_words: int = 5, max_words: int = 30) -> list[str]:
    """Distinct plain sentences of ``texts`` (split at sentence ends), in first-seen order."""
    seen: dict[str, None] = {}
    for text in texts:
        for sentence in SENTENCE_END.split(text):
            sentence = sentence.strip()
            if min_words <= len(sentence.split()) <= max_words and sentence[-1:] in ".!":
                seen.setdefault(sentence, None)
    return list(seen)


def suite_sentences(path: Path = SUITE) -> set[str]:
    with open(path, encoding="utf-8") as handle:
        cases = [json.loads(line) for line in handle if line.strip()]
    return {case[side] for case in cases for side in ("premise", "hypothesis")}


# Plain negation is capped lower: a "not" already pulls the model to contradiction, and
# negated_antonym (about as many as antonym) should show it as often in entailments.
# The modal and hedge rules fire on almost every past-tense clause; capped so they do not outweigh
# the rarer number, date and antonym edits.
CAPS = {
    "negation": 1000,
    "negation_removed": 1000,
    "hedge": 1500,
    "modal_weakened": 1500,
    "modal_unrealised": 1500,
    "modal_failed": 1000,
    "year_changed": 1000,
}


def same_text_edits(sentences: list[str], rng: random.Random) -> list[Edit]:
    """Two sentences of one text (a news article's window, a multi-sentence premise) as neutral: the
    same topic from one author, so compatible, and mostly neither one follows from the other."""
    if len(sentences) < 2:
        return []
    first, second = rng.sample(sentences, 2)
    return [Edit(first, second, NEUTRAL, "same_text")]


# Pairs whose relation holds both ways go in a random direction.
SYMMETRIC_KINDS = {"passive", "same_text", "synonym"}


SentenceRules = Callable[[str, Lexicon, random.Random], list[Edit]]


def build_edits(
    texts: Iterable[str],
    lexicon: Lexicon,
    per_kind: int,
    seed: int = 0,
    exclude: set[str] = frozenset(),
    rules: SentenceRules | None = None,
    caps: dict[str, int] | None = None,
) -> list[Edit]:
    """Edits of the sentences of ``texts`` by ``rules`` (default: :func:`edits_of` plus two sentences
    of one text as neutral), at most ``per_kind`` of each kind (``caps`` lower, default :data:`CAPS`;
    texts taken in a seeded order, each sentence edited once), symmetric relations in a random
    direction, none touching ``exclude``.

    Other rule sets (:mod:`training.scale_edits`, :mod:`training.reword_edits`) pass their own
    ``rules``; the default path draws from the random generator exactly as 3.1.0's data did."""
    caps = CAPS if caps is None else caps
    rng = random.Random(seed)
    pool = list(texts)
    rng.shuffle(pool)
    counts: dict[str, int] = {}
    kept: list[Edit] = []
    seen: set[str] = set()
    for text in pool:
        sentences = sentences_of([text])
        edits = same_text_edits(sentences, rng) if rules is None else []
        for sentence in sentences:
            if sentence not in seen:
                seen.add(sentence)
                edits.extend((rules or edits_of)(sentence, lexicon, rng))
        for edit in edits:
            if counts.get(edit.kind, 0) >= min(per_kind, caps.get(edit.kind, per_kind)):
                continue
            if edit.premise == edit.hypothesis:
                continue
            if edit.premise in exclude or edit.hypothesis in exclude:
                continue
            if (edit.label == CONTRADICTION or edit.kind in SYMMETRIC_KINDS) and rng.random() < 0.5:
                edit = Edit(edit.hypothesis, edit.premise, edit.label, edit.kind)
            counts[edit.kind] = counts.get(edit.kind, 0) + 1
            kept.append(edit)
    logger.info(
        "minimal edits: %d pairs from %d sentences of %d texts; per kind %s",
        len(kept),
        len(seen),
        len(pool),
        dict(sorted(counts.items())),
    )
    return kept


def default_lexicon() -> Lexicon:
    return read_lexicon(wordnet_folder())
