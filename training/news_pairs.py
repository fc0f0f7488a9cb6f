"""Unlabelled statement pairs across news articles: what the teacher labels for the student.

The stance data labels a headline against a whole article; nobody labelled the statement pairs the
product actually scores -- two sentences from *different* articles about the same event. The corpus
scan finds exactly those (segment the articles, pair each statement with its nearest neighbours in
other articles under the bi-encoder), so this module runs the scan's own segmentation and candidate
search over the FNC-1 and ARC *train* bodies (the held-out bodies never enter) and writes the pairs
without labels. A teacher (``training.teacher --pairs``) then gives them soft labels, and
``training.train --unlabelled_pairs`` distils those into the student alongside the labelled mixture.

    python -m training.news_pairs --output runs/news-pairs.jsonl            # FNC-1 + ARC train bodies
    python -m training.teacher --model runs/teacher/final --pairs runs/news-pairs.jsonl \\
        --output runs/soft-news.jsonl --temperature 2
    python -m training.train --soft_labels runs/soft.jsonl,runs/soft-news.jsonl \\
        --unlabelled_pairs runs/news-pairs.jsonl ...

Each candidate pair is written in both orders (the scorer scores both directions); pairs are kept
in the order of a stable hash, so a cap keeps a spread of the corpus, not only its near-duplicates.
A pair is dropped when either statement is a sentence of any held-out text of the news sources
(FNC-1 validation windows, ARC validation and test, Emergent test): news is syndicated, so a train
body can repeat a held-out article word for word.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser

from training.logs import configure_logging
from training.nli_sources import (
    ARC_HELD_OUT_PER_MILLE,
    FNC1_HELD_OUT_PER_MILLE,
    data_embedder,
    data_root,
    read_stance_csv,
    stable_bucket,
)

logger = logging.getLogger("training.news_pairs")

Pair = tuple[str, str]


def fnc1_train_bodies(folder: Path) -> dict[str, str]:
    """FNC-1 bodies on the train side of the split every FNC-1 source uses (by body id)."""
    _, texts = read_stance_csv([], folder / "train_bodies.csv")
    return {
        f"fnc1:{key}": text for key, text in texts.items() if stable_bucket(key) >= FNC1_HELD_OUT_PER_MILLE
    }


def arc_train_bodies(folder: Path) -> dict[str, str]:
    """ARC bodies that neither its published test split nor ``arc``'s validation split uses."""
    test, texts = read_stance_csv([folder / "arc_stances_test.csv"], folder / "arc_bodies.csv")
    train, _ = read_stance_csv([folder / "arc_stances_train.csv"], folder / "arc_bodies.csv")
    held = {pair.body_id for pair in test}
    used = {pair.body_id for pair in train} - held
    return {
        f"arc:{key}": texts[key]
        for key in sorted(used)
        if key in texts and stable_bucket(key) >= ARC_HELD_OUT_PER_MILLE
    }


HELD_OUT_FROM = ("fnc1", "arc", "emergent")


def held_out_sentences(sources: Iterable[str] = HELD_OUT_FROM, root: Path | None = None) -> set[str]:
    """Every sentence (the corpus segmenter's, whitespace-normalised) of the premises and hypotheses
    of the named sources' non-train splits."""
    from contradict.corpus.reader import Article
    from contradict.corpus.segment import Segmenter
    from training.nli_sources import read_source

    segmenter = Segmenter()
    sentences: set[str] = set()
    for name in sources:
        for split_name, rows in read_source(name, root).items():
            if split_name == "train":
                continue
            texts = {text for item in rows for text in (item["premise"], item["hypothesis"])}
            for text in texts:
                sentences.add(_normalised(text))
                sentences.update(_normalised(s.text) for s in segmenter.segment(0, Article(id="", text=text)))
    return sentences


def _normalised(text: str) -> str:
    return " ".join(text.split())


def pair_key(premise: str, hypothesis: str) -> Pair:
    """A pair as soft-label files and pair files are matched: whitespace runs made one space."""
    return _normalised(premise), _normalised(hypothesis)


def without_held_out(rows: Sequence[tuple[Pair, str]], held_out: set[str]) -> list[tuple[Pair, str]]:
    """The candidate rows none of whose statements is a held-out sentence."""
    return [item for item in rows if not any(_normalised(text) in held_out for text in item[0])]


BODY_READERS = {"fnc1": ("fnc1_train", fnc1_train_bodies), "arc": ("arc_stance", arc_train_bodies)}


def train_bodies(sources: Iterable[str], root: Path | None = None) -> dict[str, str]:
    """Train-side article bodies of the named stance sources, keyed ``source:body id``."""
    root = root or data_root()
    bodies: dict[str, str] = {}
    for name in sources:
        folder, read = BODY_READERS[name]
        bodies.update(read(root / folder))
    return bodies


def candidate_statement_pairs(
    bodies: dict[str, str], embedder, top_k: int = 5, min_similarity: float = 0.5
) -> list[tuple[Pair, str]]:
    """The corpus scan's candidate pairs over ``bodies`` (each body one article), with the two bodies
    they come from; one row per unordered pair."""
    from contradict.corpus.candidates import CandidateOptions
    from contradict.corpus.pipeline import CorpusOptions, prepare
    from contradict.corpus.reader import Article

    keys = sorted(bodies)
    articles = [Article(id=key, text=bodies[key]) for key in keys]
    options = CorpusOptions(candidates=CandidateOptions(top_k=top_k, min_similarity=min_similarity))
    statements, candidates = prepare(articles, options, embedder)
    return [
        (
            (statements[a].text, statements[b].text),
            f"{keys[statements[a].article]}|{keys[statements[b].article]}",
        )
        for a, b in zip(candidates.a.tolist(), candidates.b.tolist(), strict=True)
    ]


def both_orders(rows: Sequence[tuple[Pair, str]], max_pairs: int | None = None) -> list[dict[str, str]]:
    """Each pair in both orders, in stable-hash order of the unordered pair, at most ``max_pairs``
    rows (both orders of a pair stay together)."""
    ordered = sorted(rows, key=lambda item: stable_bucket("\t".join(item[0]), 1 << 30))
    out: list[dict[str, str]] = []
    for (first, second), group in ordered:
        if max_pairs is not None and len(out) + 2 > max_pairs:
            break
        out.append({"premise": first, "hypothesis": second, "group": group})
        out.append({"premise": second, "hypothesis": first, "group": group})
    return out


def read_pairs_file(path: Path | str) -> list[Pair]:
    """Distinct (premise, hypothesis) of a JSONL file, in first-seen order; labels, if any, ignored."""
    pairs: dict[Pair, None] = {}
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            try:
                pair = pair_key(record["premise"], record["hypothesis"])
            except (KeyError, AttributeError) as exc:
                raise ValueError(f"{path}, line {number}: needs string 'premise' and 'hypothesis'") from exc
            if pair[0] and pair[1]:
                pairs[pair] = None
    return list(pairs)


def write_pairs(rows: Sequence[dict[str, str]], output: Path | str) -> Path:
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with partial.open("w", encoding="utf-8") as sink:
        for record in rows:
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    partial.replace(output)
    return output


@dataclass
class NewsPairsArguments:
    output: str = field(metadata={"help": "JSONL of unlabelled pairs to write"})
    sources: str = field(default="fnc1,arc", metadata={"help": "stance sources whose train bodies to pair"})
    top_k: int = field(default=5, metadata={"help": "neighbours per statement (the corpus scan's top_k)"})
    min_similarity: float = field(default=0.5, metadata={"help": "cosine floor of a candidate pair"})
    max_pairs: int | None = field(default=None, metadata={"help": "at most this many rows (both orders)"})


def main(argv: list[str] | None = None) -> Path:
    (args,) = HfArgumentParser(NewsPairsArguments).parse_args_into_dataclasses(args=argv)
    configure_logging()
    bodies = train_bodies([name.strip() for name in args.sources.split(",") if name.strip()])
    logger.info("%d train bodies from %s", len(bodies), args.sources)
    candidates = candidate_statement_pairs(bodies, data_embedder(), args.top_k, args.min_similarity)
    kept = without_held_out(candidates, held_out_sentences())
    logger.info(
        "%d of %d candidate pairs hold a held-out sentence: dropped",
        len(candidates) - len(kept),
        len(candidates),
    )
    rows = both_orders(kept, args.max_pairs)
    logger.info("%d candidate pairs -> %d rows (both orders) in %s", len(kept), len(rows), args.output)
    return write_pairs(rows, args.output)


if __name__ == "__main__":
    main()
