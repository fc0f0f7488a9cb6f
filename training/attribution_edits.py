"""Attributed pairs: a labelled training pair with one or both sides put in a source's mouth.

Why: news statements are attributed ("the border is porous, the police commander said"), and the
corpus scan pairs statements of *different* articles, so usually of different sources. Measured on
3.6.0 with :func:`training.behaviour.attributed` (the behaviour suite with both sides put in a
source's mouth, torch): contradiction recall 87.1% as written, 77.4% attributed (62 cases), the
misses going to neutral; neutral pairs rise (68.9% -> 91.1%), entailments stay (75.5%). The
product's question is whether two reports conflict, so for contradiction attribution is
transparent: "officials said P" and "P', a commander said" conflict when P and P' do.
Labels therefore follow the pair's own label where that holds:

============  ===============================================  ==================================
label         attributed how                                    label of the attributed pair
============  ===============================================  ==================================
contradiction either side, or both (two sources or one)          contradiction
entailment    both sides to the *same* source                   entailment (one source, P -> P')
neutral       either side, or both (two sources or one)          neutral
============  ===============================================  ==================================

Entailment across two sources is never made: that officials said P does not mean a witness said P'.
Frames and source names here are disjoint from the ones :func:`training.behaviour.attributed`
uses to measure this, so the measurement is not of memorised wording.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Sequence

from contradict.labels import CONTRADICTION, ENTAILMENT, NEUTRAL

SOURCES = (
    "officials",
    "the police",
    "a government spokesperson",
    "local residents",
    "the ministry",
    "a senior army commander",
    "witnesses",
    "the company",
    "state media",
    "an opposition leader",
    "the governor",
    "aid workers",
    "a military source",
    "hospital staff",
    "a UN official",
    "the agency",
    "investigators",
    "a lawyer for the family",
    "the local council",
    "the district police chief",
    "a union representative",
    "the prosecutor's office",
    "a diplomat",
    "the airline",
)
# First words that can be lower-cased after "X said": a capitalised article, pronoun or quantifier,
# never a name ("Paris", "Obama") or an acronym.
LOWERABLE = frozenset(
    (
        *("The", "A", "An", "It", "Its", "There", "This", "That", "These", "Those", "Some", "All", "Most"),
        *("Many", "Several", "Few", "No", "None", "Every", "Each", "He", "She", "They", "We", "His", "Her"),
        *("Their", "Our", "One", "Two", "Three", "Both", "Neither", "Only", "More", "Less", "Nearly"),
        *("About", "Almost"),
    )
)
MAX_WORDS = 45  # longer premises would push the hypothesis past the 128 tokens the model reads


def _capitalised(source: str) -> str:
    return source[0].upper() + source[1:]


def _lowered_start(sentence: str) -> str | None:
    first, _, rest = sentence.partition(" ")
    return f"{first.lower()} {rest}" if first in LOWERABLE and rest else None


# How a source is put on a sentence: {body} is the sentence without its final stop, {lowered} the
# same with its first word lower-cased (frames that need it skip sentences that start with a name).
TRAINING_FRAMES = ("{body}, {source} said.", "{Source} said {lowered}.", "According to {source}, {lowered}.")


def attribute(sentence: str, source: str, frame: int, frames: Sequence[str] = TRAINING_FRAMES) -> str | None:
    """``sentence`` as ``source`` reported it, in ``frames[frame]``; ``None`` where the frame does
    not fit (a question, a quote, a name at the start for the frames that lower-case it)."""
    sentence = sentence.strip()
    if not sentence or '"' in sentence or sentence.endswith("?") or len(sentence.split()) > MAX_WORDS:
        return None
    body = re.sub(r"[.!]+$", "", sentence)
    template = frames[frame]
    lowered = _lowered_start(body) if "{lowered}" in template else ""
    if lowered is None:
        return None
    return template.format(body=body, lowered=lowered, source=source, Source=_capitalised(source))


def _seed(*parts: str) -> int:
    return int(hashlib.md5("|".join(parts).encode("utf-8")).hexdigest()[:12], 16)


def attributed_pair(premise: str, hypothesis: str, label: str) -> tuple[str, str] | None:
    """One attributed version of a labelled pair (table above), chosen by a hash of the pair so the
    data is the same on every machine; ``None`` when no frame fits."""
    rng = random.Random(_seed(premise, hypothesis, label))
    first, second = rng.sample(SOURCES, 2)
    frames = rng.sample(range(3), 3)
    sides = "both" if label == ENTAILMENT else rng.choice(("premise", "hypothesis", "both", "same"))
    if sides == "both" and label == ENTAILMENT or sides == "same":
        sides, second = "both", first
    for frame in frames:
        new_premise = attribute(premise, first, frame) if sides in ("premise", "both") else premise
        new_hypothesis = (
            attribute(hypothesis, second, (frame + 1) % 3) if sides in ("hypothesis", "both") else hypothesis
        )
        if new_premise and new_hypothesis:
            return new_premise, new_hypothesis
    return None


def attribution_edits(
    pairs: Iterable[tuple[str, str, str]], per_label: dict[str, int], exclude: Sequence[str] = ()
) -> list[tuple[str, str, str]]:
    """Attributed versions of ``pairs`` (premise, hypothesis, label), at most ``per_label[label]`` of
    each label, in a stable hash order; pairs touching ``exclude`` (the behaviour suite) skipped."""
    excluded = set(exclude)
    ordered = sorted(
        {
            (p, h, label)
            for p, h, label in pairs
            if label in per_label and p not in excluded and h not in excluded
        },
        key=lambda item: _seed(*item),
    )
    out: list[tuple[str, str, str]] = []
    counts = dict.fromkeys(per_label, 0)
    for premise, hypothesis, label in ordered:
        if counts[label] >= per_label[label]:
            continue
        made = attributed_pair(premise, hypothesis, label)
        if made:
            out.append((*made, label))
            counts[label] += 1
    return out


# As many of each label: attribution itself must not predict a label. A first version with twice
# as many contradictions (3000 / 1500 / 1500, stage 19 in training/experiments.json) taught exactly
# that: attributed contradiction recall 77% -> 94%, attributed neutral 91% -> 51%.
PER_LABEL = {CONTRADICTION: 2000, ENTAILMENT: 2000, NEUTRAL: 2000}
