"""A hand-written behaviour suite for the NLI model, reported as a pass rate per category.

Held-out datasets (VitaminC validation/test) measure averages: a model can gain a point of accuracy
there while it still calls "improved" vs "worsened" neutral, or loses negation. The suite pins the
behaviours users report (negation, antonyms, numbers, dates, names and places, quantifiers, modality
and tense, paraphrase, hypernyms, compatible and unrelated statements, news-style contradictions),
each a named category of short hand-written pairs, so a retrained model shows which behaviours it
gained or lost. Pairs go through the same scoring core the service uses.

    python -m training.behaviour --model models/contradict-minilm-l6-nli [--symmetric] [--output x.json]
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from transformers import HfArgumentParser

from contradict.labels import LABELS
from training.logs import configure_logging

if TYPE_CHECKING:  # the scoring core (torch) loads only when a model is scored
    from contradict.scorer import Scorer

logger = logging.getLogger("training.behaviour")

DEFAULT_SUITE = Path(__file__).with_name("behaviour_suite.jsonl")
FIELDS = ("premise", "hypothesis", "label", "category")


@dataclass(frozen=True)
class BehaviourCase:
    premise: str
    hypothesis: str
    label: str
    category: str


def load_suite(path: Path | str = DEFAULT_SUITE) -> list[BehaviourCase]:
    """Read a JSONL suite; a malformed row raises ``ValueError`` naming the file and line."""
    path = Path(path)
    cases: list[BehaviourCase] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}, line {number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{where}: invalid JSON ({error.msg})") from error
            if not isinstance(row, dict):
                raise ValueError(f"{where}: expected a JSON object, got {type(row).__name__}")
            for name in FIELDS:
                value = row.get(name)
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(f"{where}: field {name!r} must be a non-empty string, got {value!r}")
            if row["label"] not in LABELS:
                raise ValueError(f"{where}: label {row['label']!r} is not one of {', '.join(LABELS)}")
            cases.append(BehaviourCase(**{name: row[name] for name in FIELDS}))
    if not cases:
        raise ValueError(f"{path}: the suite holds no cases")
    return cases


# Sources and frames of the attributed suite: none of them is in training.attribution_edits, so the
# measure is of attribution, not of memorised wording.
ATTRIBUTED_SOURCES = (
    "border guards",
    "a provincial spokesman",
    "a regional newspaper",
    "the defence ministry",
    "a village elder",
    "the foreign office",
    "farmers",
    "the central bank",
    "a security analyst",
    "the fire service",
    "the school board",
)
ATTRIBUTED_FRAMES = ("{body}, {source} told reporters.", "{Source} told reporters that {lowered}.")


def attributed(cases: Sequence[BehaviourCase]) -> list[BehaviourCase]:
    """The suite as news reports it: both sides put in a source's mouth. Contradictions and neutral
    pairs get two different sources (two reports that conflict, or that do not bear on each other);
    entailments one source for both sides (that one source said P does not mean another said P').
    The label stays; a case whose sentences no frame fits is left out."""
    from training.attribution_edits import attribute

    out = []
    for index, case in enumerate(cases):
        first = ATTRIBUTED_SOURCES[index % len(ATTRIBUTED_SOURCES)]
        second = (
            first if case.label == "entailment" else ATTRIBUTED_SOURCES[(index + 1) % len(ATTRIBUTED_SOURCES)]
        )
        for frame in range(len(ATTRIBUTED_FRAMES)):
            premise = attribute(case.premise, first, frame, ATTRIBUTED_FRAMES)
            hypothesis = attribute(case.hypothesis, second, 1 - frame, ATTRIBUTED_FRAMES)
            if premise and hypothesis:
                out.append(BehaviourCase(premise, hypothesis, case.label, case.category))
                break
    return out


def run_suite(scorer: Scorer, cases: Sequence[BehaviourCase], symmetric: bool = False) -> dict:
    """Score every case in one call to ``scorer.score``; pass rates overall and per category.

    A case passes when the predicted label equals the expected one. Categories keep the order in
    which they first appear in ``cases``.
    """
    if not cases:
        raise ValueError("run_suite needs at least one case")
    results = list(scorer.score([(case.premise, case.hypothesis) for case in cases], symmetric=symmetric))
    if len(results) != len(cases):
        raise ValueError(f"the scorer returned {len(results)} results for {len(cases)} pairs")

    counts: dict[str, list[int]] = {}  # category -> [passed, total]
    by_label: dict[str, list[int]] = {}  # expected label -> [passed, total]
    failures = []
    for case, result in zip(cases, results):
        tally = counts.setdefault(case.category, [0, 0])
        label_tally = by_label.setdefault(case.label, [0, 0])
        tally[1] += 1
        label_tally[1] += 1
        if result.label == case.label:
            tally[0] += 1
            label_tally[0] += 1
        else:
            failures.append(
                {
                    "category": case.category,
                    "premise": case.premise,
                    "hypothesis": case.hypothesis,
                    "expected": case.label,
                    "got": result.label,
                    "contradiction": float(result.contradiction),
                }
            )
    categories = {
        name: {"pass_rate": passed / total, "passed": passed, "total": total}
        for name, (passed, total) in counts.items()
    }
    passed = sum(passed for passed, _ in counts.values())
    weakest = min(categories, key=lambda name: categories[name]["pass_rate"])
    return {
        "overall": passed / len(cases),
        "passed": passed,
        "total": len(cases),
        "categories": categories,
        # Pass rate per expected label: for contradictions, the recall the product lives on.
        "labels": {label: by_label[label][0] / by_label[label][1] for label in LABELS if label in by_label},
        "min_category": (weakest, categories[weakest]["pass_rate"]),
        "failures": failures,
    }


def suite_reports(scorer: Scorer) -> dict[str, dict]:
    """The shipped suite as written and attributed (:func:`attributed`), as evaluate and export
    record them: ``behaviour`` and ``behaviour_attributed``."""
    cases = load_suite()
    return {
        "behaviour": run_suite(scorer, cases),
        "behaviour_attributed": run_suite(scorer, attributed(cases)),
    }


def format_table(report: dict) -> str:
    """Per-category pass counts and rates as a plain-text table, overall last."""
    rows = [
        (name, stats["passed"], stats["total"], stats["pass_rate"])
        for name, stats in report["categories"].items()
    ]
    width = max(len("category"), *(len(row[0]) for row in rows))
    header = f"{'category':<{width}}  {'passed':>6}  {'total':>5}  {'pass rate':>9}"

    def line(name: str, passed: int, total: int, rate: float) -> str:
        return f"{name:<{width}}  {passed:>6}  {total:>5}  {100 * rate:>8.1f}%"

    lines = [header, *(line(*row) for row in rows), "-" * len(header)]
    lines.append(line("overall", report["passed"], report["total"], report["overall"]))
    name, rate = report["min_category"]
    lines.append(f"weakest category: {name} ({100 * rate:.1f}%)")
    return "\n".join(lines)


@dataclass
class BehaviourArguments:
    model: str = field(metadata={"help": "local model folder or hub id of the NLI model to test"})
    suite: Path = field(default=DEFAULT_SUITE, metadata={"help": "JSONL suite to run"})
    symmetric: bool = field(default=False, metadata={"help": "score both directions (service rule)"})
    output: Path | None = field(default=None, metadata={"help": "write the full report as JSON here"})


def main(argv: list[str] | None = None) -> dict:
    from contradict.scorer import NLIScorer

    parser = HfArgumentParser(BehaviourArguments, description=__doc__.splitlines()[0])
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    configure_logging()

    cases = load_suite(args.suite)
    scorer = NLIScorer(args.model)
    logger.info("model %s %s | %d cases from %s", scorer.name, scorer.version, len(cases), args.suite)
    report = run_suite(scorer, cases, symmetric=args.symmetric)
    report.update(
        {
            "model": scorer.name,
            "version": scorer.version,
            "suite": str(args.suite),
            "symmetric": args.symmetric,
        }
    )
    print(format_table(report))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        logger.info("wrote %s", args.output)
    return report


if __name__ == "__main__":
    main()
