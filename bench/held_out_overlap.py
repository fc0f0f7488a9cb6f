"""Held-out rows with a near-copy in the training mixture, and the model's figures without them.

Not a test: a script that prints one line per held-out set. ``training.data.load_mixture`` drops a
training pair whose premise is *exactly* a held-out premise of any source; near-copies across
sources pass (VitaminC's evidence is FEVER's with a "Title: " prefix and other punctuation; FNC-1's
bodies are Emergent's articles). A held-out row counts as *seen* when

* a training pair of the mixture has word-3-gram Jaccard >= ``--jaccard`` with it (premise and
  hypothesis shingled separately), or
* one of its premise sentences (>= 6 words, case and spacing aside) occurs verbatim in a training
  text: a pair of the mixture, or a FNC-1 / ARC training body (the unlabelled news pairs that
  stages 9-10 trained on were cut from those bodies).

Then the model is evaluated (``training.evaluate.evaluate``, the scoring core) on all rows and on
the unseen ones::

    .venv/bin/python bench/held_out_overlap.py --mixture "$MIX14"      # the mixture of the stage
    .venv/bin/python bench/held_out_overlap.py --mixture "$MIX14" --sets vitaminc/test,fnc1/validation
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import datasets  # noqa: E402

from contradict.corpus.sentences import sentence_spans  # noqa: E402
from contradict.scorer import NLIScorer  # noqa: E402
from contradict.settings import default_model  # noqa: E402
from training import nli_sources  # noqa: E402
from training.data import load_mixture, parse_mixture  # noqa: E402
from training.evaluate import EVAL_SETS, evaluate, held_out_sets  # noqa: E402

WORD = re.compile(r"[a-z0-9]+")
MAX_POSTING = 400  # shingles in more training pairs than this are too common to tell pairs apart
NEWS_BODIES = ("fnc1", "arc")


def shingles(text: str, side: str, n: int = 3) -> set[int]:
    words = WORD.findall(text.lower())
    if len(words) < n:
        return {hash((side, " ".join(words)))}
    return {hash((side, " ".join(words[i : i + n]))) for i in range(len(words) - n + 1)}


def pair_shingles(premise: str, hypothesis: str) -> set[int]:
    return shingles(premise, "p") | shingles(hypothesis, "h")


def sentences(text: str) -> list[str]:
    """Its sentences of >= 6 words (the corpus scan's splitter), case and spacing aside."""
    spans = (text[start:end] for start, end in sentence_spans(text))
    return [" ".join(span.lower().split()) for span in spans if len(span.split()) >= 6]


class TrainingIndex:
    """The mixture's training pairs by shingle, and every sentence of its texts and news bodies."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = pairs
        self.postings: dict[int, list[int]] = defaultdict(list)
        self.sentences: set[str] = set()
        for index, (premise, hypothesis) in enumerate(pairs):
            for shingle in pair_shingles(premise, hypothesis):
                if len(self.postings[shingle]) <= MAX_POSTING:
                    self.postings[shingle].append(index)
            self.sentences.update(sentences(premise))
            self.sentences.update(sentences(hypothesis))
        for source in NEWS_BODIES:
            folder, splits_of = nli_sources.STANCE_DOCUMENT_SOURCES[source]
            splits, texts = splits_of(nli_sources.data_root() / folder)
            for body_id in {pair.body_id for pair in splits["train"]}:
                self.sentences.update(sentences(texts.get(body_id, "")))

    def seen(self, premise: str, hypothesis: str, jaccard: float) -> bool:
        wanted = pair_shingles(premise, hypothesis)
        votes: dict[int, int] = defaultdict(int)
        for shingle in wanted:
            posting = self.postings.get(shingle)
            if posting and len(posting) <= MAX_POSTING:
                for index in posting:
                    votes[index] += 1
        for index, _ in sorted(votes.items(), key=lambda item: -item[1])[:20]:
            other = pair_shingles(*self.pairs[index])
            if len(wanted & other) / len(wanted | other) >= jaccard:
                return True
        return any(sentence in self.sentences for sentence in sentences(premise))


def figures(scorer: NLIScorer, rows: datasets.Dataset) -> dict:
    report = evaluate(scorer, rows)
    keys = ("examples", "accuracy", "macro_f1", "contradiction_vs_entailment_auroc")
    return {key: report[key] for key in keys}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mixture", required=True, help="the training mixture, as training.train takes it")
    parser.add_argument("--model", default=str(default_model()), help="NLI model folder")
    parser.add_argument("--backend", default="torch", help="scoring backend")
    parser.add_argument("--sets", default=",".join(EVAL_SETS), help="held-out sets (source/split)")
    parser.add_argument("--jaccard", type=float, default=0.7, help="pair similarity that counts as seen")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    train = load_mixture(parse_mixture(args.mixture))["train"]
    index = TrainingIndex(list(dict.fromkeys(zip(train["premise"], train["hypothesis"]))))
    print(
        f"{len(index.pairs):,} distinct training pairs, {len(index.sentences):,} training sentences",
        flush=True,
    )
    scorer = NLIScorer(args.model, backend=args.backend)
    report = {}
    for name, rows in held_out_sets(args.sets.split(",")):
        seen = [index.seen(p, h, args.jaccard) for p, h in zip(rows["premise"], rows["hypothesis"])]
        unseen = rows.select([i for i, was_seen in enumerate(seen) if not was_seen])
        report[name] = {"rows": len(rows), "seen": sum(seen), "all": figures(scorer, rows)}
        report[name]["unseen"] = figures(scorer, unseen) if len(unseen) else None
        line = report[name]
        shown = " / ".join(
            f"{part} {f['accuracy']:.3f} acc, {f['contradiction_vs_entailment_auroc']:.3f} C-vs-E"
            for part in ("all", "unseen")
            if (f := line[part])
        )
        print(f"{name}: {line['seen']:,} of {line['rows']:,} seen; {shown}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
