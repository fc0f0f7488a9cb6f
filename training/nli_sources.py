"""Readers for the labelled folders in ``../shared/data/nli/``: one function per published format.

Each reader turns a folder, exactly as its public source publishes it, into rows of ``premise``,
``hypothesis``, ``label`` (a canonical label), ``group`` (the unit that must never sit on two sides
of a split: a premise, a news body, a claim) and named splits. Splits are fixed by stable hashes, so
every run, machine and session holds out the same pairs:

* MultiNLI matched dev: 2,000 pairs held out by a hash of the premise; the rest trains.
* SNLI dev: about 3,000 pairs held out by premise; the rest trains.
* FEVER dev: about 10% held out by evidence text.
* FNC-1 and ARC: held out by article body; ARC also keeps its published test split.
* Emergent: its published train/test, with train claims that reappear in test dropped.
* ANLI dev (CC BY-NC): evaluation only, never in the shipped weights.
* ``fnc1_unrelated`` and ``shuffled``: statements about different things, as neutral (FNC-1's
  unrelated pairs; premises of one source against hypotheses of another).

News stance data pairs a headline with a whole article, far past what a 128-token cross-encoder
reads and not what the service scores (statement vs statement). :func:`stance_windows` turns each
into a sentence-level pair: the body sentences most similar to the headline under the same
bi-encoder the corpus scan uses, kept in body order, as the premise.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import logging
import os
import random
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from contradict.labels import CONTRADICTION, ENTAILMENT, NEUTRAL, canonical_label
from training.fact_verification import cache_dir, normalize_text

if TYPE_CHECKING:
    from training.minimal_edits import SentenceRules

logger = logging.getLogger(__name__)

Row = dict[str, str]
Splits = dict[str, list[Row]]

_REPO = Path(__file__).resolve().parent.parent
_MPE_PREFIX = re.compile(r"\s*\d+jpg\d\s*")
STANCE_LABELS = {"agree": ENTAILMENT, "disagree": CONTRADICTION, "discuss": NEUTRAL, "unrelated": NEUTRAL}
EMERGENT_LABELS = {"for": ENTAILMENT, "against": CONTRADICTION, "observing": NEUTRAL}
ANLI_LABELS = {"e": ENTAILMENT, "n": NEUTRAL, "c": CONTRADICTION}
FEVER_LABELS = {"entailment": ENTAILMENT, "not_entailment": CONTRADICTION}


def data_root() -> Path:
    """``$CONTRADICT_NLI_DATA`` or ``shared/data/nli`` beside the repository (never inside it)."""
    return Path(os.environ.get("CONTRADICT_NLI_DATA") or _REPO.parent / "shared" / "data" / "nli")


def stable_bucket(key: str, buckets: int = 1000) -> int:
    return int(hashlib.md5(key.encode("utf-8")).hexdigest(), 16) % buckets


def row(premise: str, hypothesis: str, label: str | None, group: str) -> Row | None:
    """A cleaned row, or ``None`` when text or label is missing (counted by the caller)."""
    premise, hypothesis = normalize_text(premise or ""), normalize_text(hypothesis or "")
    if not premise or not hypothesis or label is None:
        return None
    return {"premise": premise, "hypothesis": hypothesis, "label": label, "group": group}


def _kept(rows: list[Row | None], name: str) -> list[Row]:
    kept = [item for item in rows if item is not None]
    if len(rows) != len(kept):
        logger.info("%s: dropped %d rows without text or label", name, len(rows) - len(kept))
    return kept


def hold_out_by_group(rows: list[Row], held_out_pairs: int) -> tuple[list[Row], list[Row]]:
    """Take whole groups in hash order until ``held_out_pairs`` rows are held out: deterministic,
    and no group (premise) ends up on both sides."""
    groups: dict[str, list[Row]] = {}
    for item in rows:
        groups.setdefault(item["group"], []).append(item)
    order = sorted(groups, key=lambda key: hashlib.md5(key.encode("utf-8")).hexdigest())
    held: list[Row] = []
    held_groups = set()
    for key in order:
        if len(held) >= held_out_pairs:
            break
        held.extend(groups[key])
        held_groups.add(key)
    return [item for item in rows if item["group"] not in held_groups], held


def split_by_bucket(rows: list[Row], held_out_per_mille: int, name: str = "validation") -> Splits:
    train = [item for item in rows if stable_bucket(item["group"]) >= held_out_per_mille]
    held = [item for item in rows if stable_bucket(item["group"]) < held_out_per_mille]
    return {"train": train, name: held}


def _csv_rows(path: Path, delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL) -> Iterator[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle, delimiter=delimiter, quoting=quoting)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


# -- general NLI ------------------------------------------------------------------------------------


def read_mnli(folder: Path) -> Splits:
    # Grouped by the premise as published: no two premises of the file differ only after cleaning,
    # and the key fixes which 2,000 pairs are held out (changing it would move them).
    rows = _kept(
        [
            row(r["premise"], r["hypothesis"], canonical_label(r["label"]), r["premise"])
            for r in _csv_rows(folder / "dev_matched.csv")
        ],
        "mnli",
    )
    train, held = hold_out_by_group(rows, 2000)
    return {"train": train, "validation": held}


def read_snli(folder: Path) -> Splits:
    premises, hypotheses, labels = (_lines(folder / f"{name}.dev") for name in ("s1", "s2", "labels"))
    if not len(premises) == len(hypotheses) == len(labels):
        raise ValueError(f"{folder}: s1/s2/labels have {len(premises)}/{len(hypotheses)}/{len(labels)} lines")
    rows = _kept(
        [
            row(p, h, canonical_label(lab), normalize_text(p))
            for p, h, lab in zip(premises, hypotheses, labels)
        ],
        "snli",
    )
    train, held = hold_out_by_group(rows, 3000)
    return {"train": train, "validation": held}


def read_table_splits(
    folder: Path,
    source: str,
    files: dict[str, str],
    columns: tuple[str, str, str],
    delimiter: str = ",",
    quoting: int = csv.QUOTE_MINIMAL,
) -> Splits:
    """A table per split, with the premise, hypothesis and label in the named ``columns``."""
    premise, hypothesis, label = columns
    return {
        split: _kept(
            [
                row(r[premise], r[hypothesis], canonical_label(r.get(label) or ""), r[premise])
                for r in _csv_rows(folder / name, delimiter, quoting)
            ],
            f"{source}/{split}",
        )
        for split, name in files.items()
    }


def read_snli_mnli_subset(folder: Path) -> Splits:
    files = {"train": "oie-train.csv", "validation": "oie-devin.csv", "test": "oie-testin.csv"}
    return read_table_splits(folder, "snli_mnli_subset", files, ("Premise", "Hypothesis", "GoldLabel"))


def read_cad(folder: Path) -> Splits:
    files = {"train": "train.tsv", "validation": "dev.tsv"}
    return read_table_splits(folder, "cad", files, ("sentence1", "sentence2", "gold_label"), "\t")


def read_conjnli(folder: Path) -> Splits:
    files = {"train": "adversarial_train_15k.tsv", "validation": "conj_dev.tsv"}
    # A raw TSV: a field that starts with '"' is text, not CSV quoting.
    columns = ("Premise", "Hypothesis", "Label")
    return read_table_splits(folder, "conjnli", files, columns, "\t", csv.QUOTE_NONE)


def clean_mpe_premise(text: str) -> str:
    """MPE concatenates four captions, each prefixed by its image id (``4615316828jpg1``)."""
    captions = [caption.strip().rstrip(".") for caption in _MPE_PREFIX.split(text) if caption.strip()]
    return ". ".join(captions) + "." if captions else ""


def read_mpe(folder: Path) -> Splits:
    files = {"train": "train.csv", "validation": "dev.csv"}
    out: Splits = {}
    for split, name in files.items():
        rows = []
        for r in _csv_rows(folder / name):
            premise = clean_mpe_premise(r["premise"])
            rows.append(row(premise, r["hypothesis"], canonical_label(r["label"]), premise))
        out[split] = _kept(rows, f"mpe/{split}")
    return out


def read_fever(folder: Path) -> Splits:
    evidence, claims, labels = (
        _lines(folder / f"dev.{name}") for name in ("raw.input0", "raw.input1", "label")
    )
    if not len(evidence) == len(claims) == len(labels):
        raise ValueError(f"{folder}: input0/input1/label line counts differ")
    rows = _kept(
        [
            row(e, c, FEVER_LABELS.get(lab.strip()), normalize_text(e))
            for e, c, lab in zip(evidence, claims, labels)
        ],
        "fever",
    )
    return split_by_bucket(rows, 100)


def read_anli(folder: Path) -> Splits:
    """Each round is its own validation set (``validation_r1`` ...): the rounds differ in hardness."""
    out: Splits = {}
    for round_number in (1, 2, 3):
        rows = []
        for line in _lines(folder / f"R{round_number}_dev.jsonl"):
            if line.strip():
                r = json.loads(line)
                rows.append(row(r["context"], r["hypothesis"], ANLI_LABELS.get(r["label"]), r["context"]))
        out[f"validation_r{round_number}"] = _kept(rows, f"anli/r{round_number}")
    return out


# -- news stance ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StancePair:
    """A headline or claim against an article body, before the body is cut to a window."""

    claim: str
    body_id: str
    stance: str


def read_stance_csv(stances: Iterable[Path], bodies: Path) -> tuple[list[StancePair], dict[str, str]]:
    pairs = [
        StancePair(r["Headline"], r["Body ID"], r["Stance"].strip().lower())
        for path in stances
        for r in _csv_rows(path)
    ]
    texts = {r["Body ID"]: r["articleBody"] for r in _csv_rows(bodies)}
    return pairs, texts


def body_sentences(texts: dict[str, str]) -> dict[str, list[str]]:
    """Sentences of each body, split by the corpus scan's own segmenter."""
    from contradict.corpus.reader import Article
    from contradict.corpus.segment import Segmenter

    segmenter = Segmenter()
    return {
        body_id: [s.text for s in segmenter.segment(0, Article(id=body_id, text=text))]
        for body_id, text in texts.items()
    }


def stance_windows(
    pairs: list[StancePair],
    sentences: dict[str, list[str]],
    embed: Callable[[list[str]], np.ndarray],
    window: int = 2,
) -> list[tuple[StancePair, str, float]]:
    """For each pair, the ``window`` body sentences most similar to the claim, in body order.

    Returns (pair, premise, similarity of the best sentence). Bodies and claims are embedded once.
    """
    claims = sorted({pair.claim for pair in pairs})
    claim_vectors = dict(zip(claims, embed(claims)))
    body_ids = sorted({pair.body_id for pair in pairs if sentences.get(pair.body_id)})
    flat = [sentence for body_id in body_ids for sentence in sentences[body_id]]
    vectors = embed(flat) if flat else np.zeros((0, 1), dtype=np.float32)
    offsets, start = {}, 0
    for body_id in body_ids:
        offsets[body_id] = (start, start + len(sentences[body_id]))
        start += len(sentences[body_id])
    out = []
    for pair in pairs:
        if pair.body_id not in offsets:
            continue
        lo, hi = offsets[pair.body_id]
        similarity = vectors[lo:hi] @ claim_vectors[pair.claim]
        top = sorted(np.argsort(-similarity)[:window].tolist())
        premise = " ".join(sentences[pair.body_id][i] for i in top)
        out.append((pair, premise, float(similarity.max())))
    return out


@functools.cache
def data_embedder():
    """The bi-encoder that builds training and test data (stance windows here, the unlabelled news
    pairs of :mod:`training.news_pairs`): sentence-transformers in fp32, whatever runtime the corpus
    scan defaults to on this machine. Data must not move with the CPU's bf16 support: an OpenVINO
    bf16 embedder picks another window for a few near-tied sentences, and the kept teacher array
    then no longer matches the recomputed pairs."""
    from contradict.corpus.candidates import Embedder

    return Embedder(backend="torch")


def default_embed(texts: list[str]) -> np.ndarray:
    return data_embedder().encode(texts)


def stance_rows(
    pairs: list[StancePair],
    texts: dict[str, str],
    name: str,
    window: int = 2,
    unrelated_fraction: float = 0.05,
    embed: Callable[[list[str]], np.ndarray] | None = None,
) -> list[Row]:
    """Sentence-level rows; ``unrelated`` pairs become neutral, sub-sampled by a stable hash (they
    are easy negatives the corpus scan's similarity search already filters out)."""
    kept = [
        pair
        for pair in pairs
        if pair.stance in STANCE_LABELS
        and (
            pair.stance != "unrelated"
            or stable_bucket(f"{pair.claim}|{pair.body_id}") < unrelated_fraction * 1000
        )
    ]
    windows = stance_windows(kept, body_sentences(texts), embed or default_embed, window)
    rows = [
        row(premise, pair.claim, STANCE_LABELS[pair.stance], pair.body_id) for pair, premise, _ in windows
    ]
    return _kept(rows, name)


def folder_fingerprint(folder: Path) -> str:
    """Content hash of a data folder: a cache built from other files is never served."""
    digest = hashlib.md5()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest.update(path.name.encode("utf-8"))
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _cached(name: str, folder: Path, build: Callable[[], Splits]) -> Splits:
    """Stance windows cost a bi-encoder pass over every body: build once per rule version and
    data content, keep in the user cache (never the repo)."""
    path = cache_dir() / "nli" / f"{name}-{STANCE_VERSION}-{folder_fingerprint(folder)}.json"
    if path.is_file():
        return json.loads(path.read_text())
    splits = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(splits))
    tmp.replace(path)
    return splits


STANCE_VERSION = "w2-u50"  # window 2 sentences, 5% of unrelated kept (per mille 50)


FNC1_HELD_OUT_PER_MILLE = 150  # bodies whose stable bucket is below it validate, in every FNC-1 source


def fnc1_stance_splits(folder: Path) -> tuple[dict[str, list[StancePair]], dict[str, str]]:
    """FNC-1's headline/body pairs by split, split by body (:data:`FNC1_HELD_OUT_PER_MILLE`), and the
    bodies: the sentence-level rows (:func:`read_fnc1`) and the claim-vs-document evaluation
    (:func:`stance_documents`) hold out the same bodies."""
    pairs, texts = read_stance_csv(
        [folder / "train_train_stances.csv", folder / "train_test_stances.csv"],
        folder / "train_bodies.csv",
    )
    held = [pair for pair in pairs if stable_bucket(pair.body_id) < FNC1_HELD_OUT_PER_MILLE]
    train = [pair for pair in pairs if stable_bucket(pair.body_id) >= FNC1_HELD_OUT_PER_MILLE]
    return {"train": train, "validation": held}, texts


def read_fnc1(folder: Path) -> Splits:
    def build() -> Splits:
        splits, texts = fnc1_stance_splits(folder)
        return {name: stance_rows(pairs, texts, f"fnc1/{name}") for name, pairs in splits.items()}

    return _cached("fnc1", folder, build)


UNRELATED_SLICE = (50, 300)  # per mille of FNC-1's unrelated pairs; fnc1 itself keeps [0, 50)


def read_fnc1_unrelated(folder: Path) -> Splits:
    """FNC-1 headlines against the most similar sentence of an *unrelated* article, as neutral.

    General NLI teaches the opposite: SNLI captions describe one photo, so two statements about
    different scenes are labelled contradiction, and the model carried that into news ("a dog runs
    in the park" vs "the stock market closed higher": contradiction). The corpus scan pairs such
    statements whenever two stories share words. A slice disjoint from the one ``fnc1`` keeps, split
    by body exactly like ``fnc1`` (same hash), so no held-out body trains here.
    """

    def build() -> Splits:
        pairs, texts = read_stance_csv(
            [folder / "train_train_stances.csv", folder / "train_test_stances.csv"],
            folder / "train_bodies.csv",
        )
        low, high = UNRELATED_SLICE
        unrelated = [
            pair
            for pair in pairs
            if pair.stance == "unrelated" and low <= stable_bucket(f"{pair.claim}|{pair.body_id}") < high
        ]
        rows = stance_rows(unrelated, texts, "fnc1_unrelated", window=1, unrelated_fraction=1.0)
        return split_by_bucket(rows, FNC1_HELD_OUT_PER_MILLE)

    return _cached(f"fnc1_unrelated-w1-s{UNRELATED_SLICE[0]}-{UNRELATED_SLICE[1]}", folder, build)


SHUFFLE_FROM = ("mnli", "snli", "fever", "emergent")
SHUFFLE_PER_SOURCE = 1500

HEADLINE_PAIRS_PER_BODY = 12


def read_fnc1_headline_pairs(folder: Path) -> Splits:
    """Two FNC-1 headlines about one article: both agree with it -> entailment; one agrees and the
    other disagrees -> contradiction. Train bodies only (FNC-1's own split by body).

    Why: the product's question is exactly this one -- two outlets' statements about one event -- and
    the other sources pair a headline with a *body* sentence. Two headlines that take the same stance
    on one article report the same claim in other words ("Rapper Big Bank Hank dies at 57" / "Big Bank
    Hank, Sugarhill Gang founder member, dies at 57"), the paraphrases the model read as
    contradiction; an agreeing and a disagreeing headline are the news contradictions it must find
    ("... discovered a spider had burrowed under his skin" / "Experts debunk spider burrowing
    claims"). Labels inherit FNC-1's stance noise, and "both agree" can still differ in detail, so
    this is weighted as a share of the mixture. At most :data:`HEADLINE_PAIRS_PER_BODY` pairs of
    each kind per body, so the few bodies with dozens of headlines do not dominate."""
    pairs, _ = read_stance_csv(
        [folder / "train_train_stances.csv", folder / "train_test_stances.csv"], folder / "train_bodies.csv"
    )
    claims: dict[str, dict[str, list[str]]] = {}
    for pair in pairs:
        if pair.stance in ("agree", "disagree"):
            said = claims.setdefault(pair.body_id, {"agree": [], "disagree": []})[pair.stance]
            if pair.claim not in said:
                said.append(pair.claim)
    rng = random.Random(0)
    rows: list[Row | None] = []
    for body_id in sorted(claims):
        if stable_bucket(body_id) < FNC1_HELD_OUT_PER_MILLE:
            continue
        agree, disagree = claims[body_id]["agree"], claims[body_id]["disagree"]
        same = [(a, b, ENTAILMENT) for i, a in enumerate(agree) for b in agree[i + 1 :]]
        opposed = [(a, d, CONTRADICTION) for a in agree for d in disagree]
        for kind in (same, opposed):
            for first, second, label in rng.sample(kind, min(len(kind), HEADLINE_PAIRS_PER_BODY)):
                if rng.random() < 0.5:  # both relations hold either way round
                    first, second = second, first
                rows.append(row(first, second, label, body_id))
    return {"train": _kept(rows, "fnc1_headlines")}


def read_shuffled(root: Path) -> Splits:
    """Premises of one source against hypotheses of another, as neutral: statements about different
    things are compatible, whatever SNLI's one-photo convention says. Train only; built from train
    splits, so no held-out premise or hypothesis is used."""
    pools = {name: read_source(name, root)["train"] for name in SHUFFLE_FROM}
    rng = random.Random(0)
    rows: list[Row | None] = []
    for name in SHUFFLE_FROM:
        others = [item for other in SHUFFLE_FROM if other != name for item in pools[other]]
        for item in rng.sample(pools[name], min(SHUFFLE_PER_SOURCE, len(pools[name]))):
            partner = rng.choice(others)
            rows.append(row(item["premise"], partner["hypothesis"], NEUTRAL, item["premise"]))
    return {"train": _kept(rows, "shuffled")}


EDITS_FROM = ("mnli", "snli_mnli_subset", "fever", "fnc1", "arc", "emergent")
EDITS_PER_KIND = 2000


def _edits_of_train_sentences(
    root: Path, name: str, rules: SentenceRules | None = None, per_kind: int = EDITS_PER_KIND
) -> Splits:
    """Rule-made pairs of the sentences in :data:`EDITS_FROM`'s train splits; train only, so no
    held-out sentence is edited; pairs touching the behaviour suite's sentences dropped."""
    from training import minimal_edits

    texts = {
        item[side]: None
        for source in EDITS_FROM
        for item in read_source(source, root)["train"]
        for side in ("premise", "hypothesis")
    }
    edits = minimal_edits.build_edits(
        texts,
        minimal_edits.default_lexicon(),
        per_kind,
        exclude=minimal_edits.suite_sentences(),
        rules=rules,
    )
    return {
        "train": _kept([row(edit.premise, edit.hypothesis, edit.label, edit.premise) for edit in edits], name)
    }


def read_minimal_edits(root: Path) -> Splits:
    """:mod:`training.minimal_edits`: antonyms, negation, numbers, dates, quantifiers, modality (3.1.0)."""
    return _edits_of_train_sentences(root, "edits")


def read_scale_edits(root: Path) -> Splits:
    """:mod:`training.scale_edits`: counts and dates restated at another grain, labelled by arithmetic."""
    from training.scale_edits import scale_edits_of

    return _edits_of_train_sentences(root, "scale_edits", scale_edits_of)


def read_reword_edits(root: Path) -> Splits:
    """:mod:`training.reword_edits`: verb phrases said in other words, entailment."""
    from training.reword_edits import reword_edits_of

    return _edits_of_train_sentences(root, "reword_edits", reword_edits_of)


def read_generalise_edits(root: Path) -> Splits:
    """:mod:`training.generalise_edits`: a noun, place, unit or share restated at another grain."""
    from training.generalise_edits import generalise_edits_of

    return _edits_of_train_sentences(root, "generalise_edits", generalise_edits_of)


ARC_HELD_OUT_PER_MILLE = 100  # ARC train bodies whose stable bucket is below it validate


def arc_stance_splits(folder: Path) -> tuple[dict[str, list[StancePair]], dict[str, str]]:
    """ARC's claim/post pairs by split, and the posts: ARC's test split; its train split without the
    test posts, split by post (:data:`ARC_HELD_OUT_PER_MILLE`) into train and validation."""
    train_pairs, texts = read_stance_csv([folder / "arc_stances_train.csv"], folder / "arc_bodies.csv")
    test_pairs, _ = read_stance_csv([folder / "arc_stances_test.csv"], folder / "arc_bodies.csv")
    test_bodies = {pair.body_id for pair in test_pairs}
    train_pairs = [pair for pair in train_pairs if pair.body_id not in test_bodies]
    return {
        "train": [pair for pair in train_pairs if stable_bucket(pair.body_id) >= ARC_HELD_OUT_PER_MILLE],
        "validation": [pair for pair in train_pairs if stable_bucket(pair.body_id) < ARC_HELD_OUT_PER_MILLE],
        "test": test_pairs,
    }, texts


ATTRIBUTED_FROM = ("mnli", "snli_mnli_subset", "fever", "fnc1", "arc", "emergent", "edits")


def read_attribution_edits(root: Path) -> Splits:
    """:mod:`training.attribution_edits`: train pairs with one or both sides attributed to a source."""
    from training.attribution_edits import PER_LABEL, attribution_edits
    from training.minimal_edits import suite_sentences

    pairs = [
        (item["premise"], item["hypothesis"], item["label"])
        for source in ATTRIBUTED_FROM
        for item in read_source(source, root)["train"]
    ]
    made = attribution_edits(pairs, PER_LABEL, exclude=sorted(suite_sentences()))
    return {"train": _kept([row(p, h, label, p) for p, h, label in made], "attribution_edits")}


def read_arc(folder: Path) -> Splits:
    def build() -> Splits:
        splits, texts = arc_stance_splits(folder)
        return {name: stance_rows(pairs, texts, f"arc/{name}") for name, pairs in splits.items()}

    return _cached("arc", folder, build)


def _claims_negated(splits: Splits) -> Splits:
    """:mod:`training.claim_negation`: every split of a stance source with its claims negated, the
    bodies (and so the train / held-out split) unchanged."""
    from training.claim_negation import negated_rows
    from training.minimal_edits import suite_sentences

    exclude = frozenset(suite_sentences())
    return {name: negated_rows(rows, exclude) for name, rows in splits.items()}


def read_arc_negated(folder: Path) -> Splits:
    return _claims_negated(read_arc(folder))


def read_fnc1_negated(folder: Path) -> Splits:
    return _claims_negated(read_fnc1(folder))


STANCE_DOCUMENT_SOURCES = {
    "arc": ("arc_stance", arc_stance_splits),
    "fnc1": ("fnc1_train", fnc1_stance_splits),
}


def stance_documents(name: str, root: Path | None = None) -> tuple[list[StancePair], dict[str, str]]:
    """The agree/disagree pairs of a news stance split (``"arc/test"``, ``"fnc1/validation"``, ...)
    with their whole bodies: the claim-vs-document evaluation (:mod:`contradict.claims`) reads the
    claim against the whole article, not against the window the sentence-level rows keep."""
    source, _, split = name.rpartition("/")
    if source not in STANCE_DOCUMENT_SOURCES:
        raise ValueError(f"no stance documents for {source!r} (have {sorted(STANCE_DOCUMENT_SOURCES)})")
    folder_name, splits_of = STANCE_DOCUMENT_SOURCES[source]
    splits, texts = splits_of((root or data_root()) / folder_name)
    if split not in splits:
        raise ValueError(f"{source} has no split {split!r} (has {sorted(splits)})")
    pairs = [pair for pair in splits[split] if pair.stance in ("agree", "disagree") and pair.body_id in texts]
    return pairs, {pair.body_id: texts[pair.body_id] for pair in pairs}


def read_emergent(folder: Path) -> Splits:
    def read(name: str) -> list[Row]:
        rows = []
        for line in _lines(folder / name):
            if line.strip():
                r = json.loads(line)
                premise = " ".join(r["summary"])
                rows.append(
                    row(premise, r["claim"], EMERGENT_LABELS.get(r["label"].strip().lower()), r["claim"])
                )
        return _kept(rows, f"emergent/{name}")

    test = read("lead3_test.jsonl")
    claims = {item["group"] for item in test}
    train = [item for item in read("lead3_train.jsonl") if item["group"] not in claims]
    return {"train": train, "test": test}


def read_emergent_negated(folder: Path) -> Splits:
    return _claims_negated(read_emergent(folder))


@dataclass(frozen=True)
class Source:
    """A folder under :func:`data_root`, how to read it, and whether its licence lets it train."""

    folder: str
    reader: Callable[[Path], Splits]
    licence: str
    trainable: bool = True


SOURCES: dict[str, Source] = {
    "mnli": Source("mnli_dev_matched", read_mnli, "OANC / CC BY-SA 3.0 mix"),
    "snli": Source("snli_dev", read_snli, "CC BY-SA 4.0"),
    "snli_mnli_subset": Source("snli_mnli_subset", read_snli_mnli_subset, "SNLI CC BY-SA 4.0 / MNLI terms"),
    "cad": Source("cad_snli", read_cad, "Apache-2.0 (repository), SNLI CC BY-SA 4.0"),
    "conjnli": Source("conjnli", read_conjnli, "MIT"),
    "mpe": Source("mpe", read_mpe, "Flickr30k-derived, licence not stated"),
    "fever": Source("fever_dev_gold_evidence", read_fever, "CC BY-SA 3.0"),
    "fnc1": Source("fnc1_train", read_fnc1, "not stated (derived from Emergent)"),
    "fnc1_unrelated": Source("fnc1_train", read_fnc1_unrelated, "not stated (derived from Emergent)"),
    "fnc1_headlines": Source("fnc1_train", read_fnc1_headline_pairs, "not stated (derived from Emergent)"),
    "shuffled": Source(".", read_shuffled, "MNLI / SNLI / FEVER / Emergent terms (recombined)"),
    "edits": Source(".", read_minimal_edits, "WordNet 3.0 licence + the edited sources' terms (rule-made)"),
    "scale_edits": Source(".", read_scale_edits, "the edited sources' terms (rule-made)"),
    "reword_edits": Source(
        ".", read_reword_edits, "WordNet 3.0 licence + the edited sources' terms (rule-made)"
    ),
    "generalise_edits": Source(
        ".", read_generalise_edits, "WordNet 3.0 licence + the edited sources' terms (rule-made)"
    ),
    "attribution_edits": Source(
        ".",
        read_attribution_edits,
        "the attributed sources' terms (rule-made: MNLI, SNLI, FEVER, news stance)",
    ),
    "arc": Source("arc_stance", read_arc, "not stated"),
    "emergent": Source("emergent", read_emergent, "not stated"),
    "arc_negated": Source("arc_stance", read_arc_negated, "not stated (ARC; rule-made: claims negated)"),
    "fnc1_negated": Source(
        "fnc1_train", read_fnc1_negated, "not stated (derived from Emergent; rule-made: claims negated)"
    ),
    "emergent_negated": Source(
        "emergent", read_emergent_negated, "not stated (Emergent; rule-made: claims negated)"
    ),
    "anli": Source("anli_dev", read_anli, "CC BY-NC 4.0 (evaluation only)", trainable=False),
}


def read_source(name: str, root: Path | None = None) -> Splits:
    """All splits of one named source, cleaned; raises when its folder is missing."""
    source = SOURCES[name]
    folder = (root or data_root()) / source.folder
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder} not found: set CONTRADICT_NLI_DATA to the folder holding {source.folder}/ "
            "(or use a hub id instead)"
        )
    splits = source.reader(folder)
    if not source.trainable:
        splits.pop("train", None)
    return splits
