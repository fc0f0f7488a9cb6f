"""Rewordings that keep the meaning: a training sentence against a copy with its verb phrase said in
other words, labelled entailment (both directions).

Why: model 3.1.0 learnt from the minimal edits that a swapped verb (an antonym) contradicts, and with
it that nearly any reworded verb phrase does: "resigned" / "stepped down", "called off" /
"cancelled", "turned down the proposal" / "the proposal was rejected" read as contradiction
(behaviour suite: paraphrase 46%). These pairs show the same surface change with the meaning kept:

==========  =========================================================================  =====
kind        change                                                                     label
==========  =========================================================================  =====
phrasal     a phrasal verb -> a one-word verb of the same WordNet first sense ("called   E
            off" -> "cancelled"), and back
reworded    two changes at once: a WordNet first-sense synonym of the main verb *and*   E
            the passive voice ("The club sacked the coach" -> "The coach was fired by
            the club")
==========  =========================================================================  =====
"""

from __future__ import annotations

import random

from contradict.labels import ENTAILMENT
from training.minimal_edits import (
    NO_SYNONYM,
    Edit,
    inflect,
    main_clause,
    passive_edits,
    synonym_form,
    verb_readings,
)
from training.wordnet import Lexicon

# The last lexicon's map, kept with the lexicon itself (a Lexicon is not hashable, and an id alone
# could be reused by another object).
_ONE_WORD_VERBS: list[tuple[Lexicon, dict[str, list[str]]]] = []


def _one_word_verbs(lexicon: Lexicon) -> dict[str, list[str]]:
    """phrasal verb -> the one-word verbs that share its first sense ("call off" -> ["cancel"])."""
    if _ONE_WORD_VERBS and _ONE_WORD_VERBS[0][0] is lexicon:
        return _ONE_WORD_VERBS[0][1]
    found: dict[str, set[str]] = {}
    for (word, pos), others in lexicon.synonyms.items():
        if pos == "VERB" and word not in NO_SYNONYM:
            for other in others:
                if other.count(" ") == 1 and "'" not in other and "-" not in other:
                    found.setdefault(other, set()).add(word)
    _ONE_WORD_VERBS[:] = [(lexicon, {phrase: sorted(words) for phrase, words in found.items()})]
    return _ONE_WORD_VERBS[0][1]


def phrasal_edits(sentence: str, lexicon: Lexicon, rng: random.Random) -> list[Edit]:
    """ "The airline called off the flights." -> "The airline cancelled the flights." (E)."""
    clause = main_clause(sentence)
    if clause is None or clause.copula or not clause.rest:
        return []
    particle, _, after = clause.rest.partition(" ")
    particle = particle.rstrip(".,")
    options = _one_word_verbs(lexicon).get(f"{clause.lemma} {particle}")
    if not options:
        return []
    form = inflect(rng.choice(options), clause.tag)
    if form is None:
        return []
    end = "" if after else clause.rest[len(particle) :]
    reworded = f"{clause.subject} {form}{' ' + after if after else end}"
    return [Edit(sentence, reworded, ENTAILMENT, "phrasal")]


def reworded_edits(sentence: str, lexicon: Lexicon, rng: random.Random) -> list[Edit]:
    """Synonym of the main verb, then the passive of that: two changes, the meaning kept."""
    clause = main_clause(sentence)
    if clause is None or clause.copula or clause.tag != "VBD":
        return []
    synonym = synonym_form(clause.verb, clause.tag, lexicon, rng)
    if synonym is None or " " in synonym or not any(tag == "VBD" for _, tag in verb_readings(synonym)):
        return []
    with_synonym = f"{clause.subject} {synonym} {clause.rest}"
    return [
        Edit(sentence, edit.hypothesis, ENTAILMENT, "reworded") for edit in passive_edits(with_synonym, rng)
    ]


def reword_edits_of(sentence: str, lexicon: Lexicon, rng: random.Random) -> list[Edit]:
    """Every rewording of one sentence (the rule-set signature of
    :func:`training.minimal_edits.build_edits`)."""
    return phrasal_edits(sentence, lexicon, rng) + reworded_edits(sentence, lexicon, rng)
