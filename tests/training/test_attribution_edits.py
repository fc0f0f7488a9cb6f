"""Attributed pairs (training/attribution_edits.py) and the attributed behaviour suite."""

from __future__ import annotations

import re
from collections import Counter

from contradict.labels import CONTRADICTION, ENTAILMENT, NEUTRAL
from training import behaviour
from training.attribution_edits import (
    SOURCES,
    TRAINING_FRAMES,
    attribute,
    attributed_pair,
    attribution_edits,
)


def test_frames_put_the_sentence_in_a_sources_mouth_and_keep_names_capitalised():
    sentence = "The border is porous in the north."
    assert attribute(sentence, "the police", 0) == "The border is porous in the north, the police said."
    assert attribute(sentence, "the police", 1) == "The police said the border is porous in the north."
    assert (
        attribute(sentence, "the police", 2) == "According to the police, the border is porous in the north."
    )
    # A name at the start is never lower-cased: only the trailing frame fits.
    assert attribute("Obama visited Kabul.", "officials", 0) == "Obama visited Kabul, officials said."
    assert attribute("Obama visited Kabul.", "officials", 1) is None
    # Questions, quotes and over-long sentences are not attributed.
    assert attribute("Is the border porous?", "officials", 0) is None
    assert attribute('He said "no".', "officials", 0) is None
    assert attribute(" ".join(["word"] * 60) + ".", "officials", 0) is None


def _sources_in(text: str) -> set[str]:
    lowered = text.lower()
    return {source for source in SOURCES if source.lower() in lowered}


def test_labels_follow_the_table_entailment_only_from_one_source():
    pairs = [
        (f"The river flooded {n} villages in the valley.", f"The river did not flood {n} villages.", label)
        for n in range(40)
        for label in (CONTRADICTION, ENTAILMENT, NEUTRAL)
    ]
    seen_sides = Counter()
    for premise, hypothesis, label in pairs:
        made = attributed_pair(premise, hypothesis, label)
        assert made is not None
        new_premise, new_hypothesis = made
        assert premise.rstrip(".").split(" ", 1)[1] in new_premise or new_premise == premise
        premise_sources, hypothesis_sources = _sources_in(new_premise), _sources_in(new_hypothesis)
        if label == ENTAILMENT:  # both sides, one source
            assert premise_sources and premise_sources == hypothesis_sources
        else:  # either side, or both: two sources or one
            assert premise_sources or hypothesis_sources  # always attributed somewhere
            if not hypothesis_sources:
                seen_sides["premise"] += 1
            elif not premise_sources:
                seen_sides["hypothesis"] += 1
            else:
                seen_sides["same" if premise_sources == hypothesis_sources else "two"] += 1
        assert attributed_pair(premise, hypothesis, label) == made  # stable across runs and machines
    assert set(seen_sides) == {"premise", "hypothesis", "two", "same"}


def test_edits_are_capped_per_label_and_skip_the_behaviour_suite():
    pairs = [
        (f"The mayor opened {n} new parks.", f"The mayor closed {n} parks.", CONTRADICTION) for n in range(30)
    ]
    pairs += [
        (f"The mayor opened {n} new parks.", f"Parks were opened by the mayor {n}.", ENTAILMENT)
        for n in range(30)
    ]
    suite = "The mayor opened 3 new parks."
    made = attribution_edits(pairs, {CONTRADICTION: 5, ENTAILMENT: 7}, exclude=[suite])
    assert Counter(label for _, _, label in made) == {CONTRADICTION: 5, ENTAILMENT: 7}
    assert not any("opened 3 new parks" in premise for premise, _, _ in made)
    assert attribution_edits(pairs, {CONTRADICTION: 5, ENTAILMENT: 7}, exclude=[suite]) == made


def test_attributed_suite_uses_its_own_sources_and_frames():
    cases = behaviour.load_suite()
    attributed = behaviour.attributed(cases)
    assert 0.8 * len(cases) <= len(attributed) <= len(cases)
    assert (
        Counter(case.category for case in attributed).keys()
        == Counter(case.category for case in cases).keys()
    )
    assert not set(SOURCES) & set(behaviour.ATTRIBUTED_SOURCES)  # names never seen in training
    wording = {re.sub(r"\{\w+\}", "", frame) for frame in TRAINING_FRAMES}
    assert not wording & {re.sub(r"\{\w+\}", "", frame) for frame in behaviour.ATTRIBUTED_FRAMES}
    for case in attributed:
        assert "told reporters" in case.premise and "told reporters" in case.hypothesis
        premise_source = next(s for s in behaviour.ATTRIBUTED_SOURCES if s in case.premise.lower())
        hypothesis_source = next(s for s in behaviour.ATTRIBUTED_SOURCES if s in case.hypothesis.lower())
        assert (premise_source == hypothesis_source) == (case.label == ENTAILMENT)
