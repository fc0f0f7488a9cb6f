"""Stance pairs with the claim negated: the same article against "X did not happen" instead of "X
happened", with agree and disagree swapped.

Why: measured on model 3.7.0 (docs/model.md, "Claim polarity"), the news stance skill was mostly a
shortcut. With the claim of every held-out ARC / FNC-1 pair negated and the labels swapped, its
contradiction-vs-entailment AUROC fell from 0.674 to 0.446 on ARC test and from 0.888 to 0.282 on
FNC-1's held-out bodies: below chance, so it read "this article debunks something" off the article
and hardly looked at which way the claim points. A fact-checker asking "is the border well guarded?"
and "is the border not well guarded?" got the same answer. Training on both polarities of every
claim it can negate takes that shortcut away: the article is the same, only the claim's direction
decides the label.

The rule (:func:`negate_claim`) handles the shapes of debate claims and rumour headlines: a
negated modal, copula or perfect ("should be" <-> "should not be", "can't" -> "can"), do-support
("doesn't need" -> "needs", "X quit" -> "X did not quit"), the imperative ("Abolish X" <-> "Do not
abolish X"). It skips what it cannot read safely (an answer like "No, it can't ...", a noun phrase,
a verb inside a relative clause); a discuss / observing pair stays neutral either way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from contradict.labels import CONTRADICTION, ENTAILMENT
from training.minimal_edits import DO_SUPPORT, is_noun, main_clause, negation_removed, verb_readings, words

if TYPE_CHECKING:
    from training.nli_sources import StancePair

# A contracted or fused negation -> the positive auxiliary.
CONTRACTED = {
    "can't": "can",
    "cannot": "can",
    "won't": "will",
    "don't": "do",
    "doesn't": "does",
    "didn't": "did",
    "isn't": "is",
    "aren't": "are",
    "wasn't": "was",
    "weren't": "were",
    "shouldn't": "should",
    "couldn't": "could",
    "wouldn't": "would",
    "mustn't": "must",
    "hasn't": "has",
    "haven't": "have",
    "hadn't": "had",
}
# Take "not" right after them; "can not" is written "cannot".
AUXILIARY = words("should can will must would shall is are was were")
# "X may have happened" and "X may not have happened" are both hedges, compatible with each other:
# no label to swap.
HEDGED = words("may might could")
PERFECT = words("has have had")  # auxiliary only before "not", "been" or a participle
# Before the main clause's auxiliary: the next verb belongs to another clause ("the moment X was shot",
# "claims to have captured"), so the rule would negate the wrong one.
SUBORDINATE = words("who which that whose whom because after when while if as since where moment to")
# Headlinese drops "was": "Hostage freed in raid" is passive, "did not free in raid" would be wrong.
PASSIVE_HEADLINE_NEXT = words("in by at on after from over during as")
ANSWERS = words("no yes")  # "No, it can't denounce": a reply to a question we do not have
QUOTES = frozenset("'\"\u2018\u201c")
SWAPPED = {CONTRADICTION: ENTAILMENT, ENTAILMENT: CONTRADICTION}
SUBJECT_WORDS = 6  # the auxiliary of a claim's main clause comes after at most this many words


def _join(tokens: list[str]) -> str:
    return " ".join(tokens).replace("can not ", "cannot ")


def _remove_do_not(tokens: list[str]) -> str | None:
    """A claim negated with do-support, positive: "do not need" -> "need", "doesn't remain" -> "remains"."""
    removed = negation_removed(" ".join(tokens))
    return removed[0].hypothesis if removed else None


def negate_claim(claim: str) -> str | None:
    """The claim with its main verb's polarity reversed, or ``None`` when the rule cannot tell."""
    text = claim.strip().rstrip(".!")
    tokens = text.split()
    if len(tokens) < 2 or tokens[0].rstrip(",").lower() in ANSWERS or "?" in text:
        return None  # a question asserts nothing to negate
    if text[0] in QUOTES:
        return None  # "'X happened' story goes viral": the verb we would find is the quote's
    lowered = [token.lower() for token in tokens]
    if lowered[:2] == ["do", "not"] and len(tokens) > 2:  # "Do not stop X" -> "Stop X"
        return _join([tokens[2].capitalize(), *tokens[3:]])
    if lowered[0] == "don't":
        return _join([tokens[1].capitalize(), *tokens[2:]])
    for index, word in enumerate(lowered[1 : SUBJECT_WORDS + 1], start=1):
        if word in SUBORDINATE or word in HEDGED or word.endswith("ly"):
            return None  # another clause's verb, a hedge, or an adverb before a verb we cannot see
        following = lowered[index + 1] if index + 1 < len(lowered) else ""
        if word in CONTRACTED:
            positive = CONTRACTED[word]
            expanded = [*tokens[:index], positive, "not", *tokens[index + 1 :]]
            if positive in DO_SUPPORT.values():
                return _remove_do_not(expanded)
            return _join([*tokens[:index], positive, *tokens[index + 1 :]])
        if word in DO_SUPPORT.values() and following == "not":
            return _remove_do_not(tokens)
        is_perfect = word in PERFECT and (following in ("not", "been") or following.endswith("ed"))
        if word in AUXILIARY or is_perfect:
            if following == "not":
                return _join([*tokens[: index + 1], *tokens[index + 2 :]])
            return _join([*tokens[: index + 1], "not", *tokens[index + 1 :]])
    clause = main_clause(text)
    if clause is not None and not clause.copula:
        if SUBORDINATE & set(clause.subject.lower().split()):
            return None
        if clause.tag == "VBD" and clause.rest.split(" ", 1)[0].lower() in PASSIVE_HEADLINE_NEXT:
            return None
        rest = f" {clause.rest}" if clause.rest else ""
        return f"{clause.subject} {DO_SUPPORT[clause.tag]} not {clause.lemma}{rest}"
    first = lowered[0]
    imperative = any(lemma == first and tag == "VB" for lemma, tag in verb_readings(first))
    if imperative and not is_noun(first):  # "Abolish X" -> "Do not abolish X"
        return _join(["Do", "not", first, *tokens[1:]])
    return None


def negated_rows(rows: list[dict], exclude: frozenset[str] = frozenset()) -> list[dict]:
    """Each row whose hypothesis (the claim) can be negated, with the negated claim and the label
    swapped between contradiction and entailment (neutral stays); the premise and group (the body,
    so splits stay leak-free) are kept. A negated claim in ``exclude`` (the behaviour suite's
    sentences) is skipped, so the suite stays a test."""
    out = []
    for row in rows:
        negated = negate_claim(row["hypothesis"])
        if negated is None or negated in exclude:
            continue
        label = SWAPPED.get(row["label"], row["label"])
        out.append({**row, "hypothesis": negated, "label": label})
    return out


def negated_stance_pairs(pairs: list[StancePair]) -> list[StancePair]:
    """Claim-vs-article pairs with the claim negated and agree / disagree swapped (the others keep
    their stance); pairs whose claim the rule cannot negate are left out."""
    swapped = {"agree": "disagree", "disagree": "agree"}
    out = []
    for pair in pairs:
        negated = negate_claim(pair.claim)
        if negated is not None:
            out.append(replace(pair, claim=negated, stance=swapped.get(pair.stance, pair.stance)))
    return out
