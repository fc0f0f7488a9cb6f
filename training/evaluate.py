"""Evaluate an NLI model on every held-out set, through the same scoring core the service uses.

One row per held-out set (:data:`EVAL_SETS`: VitaminC, MultiNLI, SNLI, CAD, ConjNLI, MPE, FEVER,
FNC-1 and ARC held-out bodies, Emergent, ANLI rounds 1-3): accuracy and macro-F1 of the labels the
service returns (calibrated, decision rule applied), contradiction F1, contradiction AUROC (vs the
rest, and vs entailment only, the stance measure for news), ECE; plus the behaviour suite's pass
rate per category; plus the news stance sets read the way a fact-checker asks (claim vs the whole
article, :mod:`contradict.claims`): AUROC of the pooled contradiction share, disagree vs agree. Any
other labelled data goes through ``--dataset``/``--split``.

    python -m training.evaluate --model models/contradict-minilm-l6-nli
    python -m training.evaluate --model M --sets vitaminc/test,mnli/validation --output report.json
    python -m training.evaluate --model M --dataset path/to/pairs.jsonl --split train
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np
from transformers import HfArgumentParser

from contradict.claims import DEFAULT_WINDOW, claim_pairs, document_windows, stances
from contradict.corpus.reader import Article
from contradict.labels import LABELS
from contradict.scorer import NLIScorer, Scorer, softmax
from training import behaviour, nli_sources
from training.calibrate import temperature_free_logits
from training.claim_negation import negated_stance_pairs
from training.data import load_nli_dataset
from training.logs import configure_logging
from training.metrics import binary_auroc, classification_report

logger = logging.getLogger("training.evaluate")

# The news stance sets with every claim it can negate negated and agree / disagree swapped
# (training.claim_negation): a model that reads which way the claim points scores them about as well
# as the originals; one that reads the article alone scores them below chance. Reported, never chosen
# on: the selection rule below keeps the ten sets it was declared with.
POLARITY_SETS = (
    "arc_negated/validation",
    "arc_negated/test",
    "fnc1_negated/validation",
    "emergent_negated/test",
)
# Every held-out set, as "source/split". ANLI is evaluation-only (CC BY-NC) and adversarial.
EVAL_SETS = (
    "vitaminc/validation",
    "vitaminc/test",
    "mnli/validation",
    "snli/validation",
    "snli_mnli_subset/validation",
    "cad/validation",
    "conjnli/validation",
    "mpe/validation",
    "fever/validation",
    "fnc1/validation",
    "arc/validation",
    "arc/test",
    "emergent/test",
    "anli/validation_r1",
    "anli/validation_r2",
    "anli/validation_r3",
    *POLARITY_SETS,
)
# The same stance data read claim vs whole article (agree/disagree pairs): validation sets chose the
# pool and the window (docs/model.md, "Claim vs document"); the test set is reported, never chosen on.
CLAIM_SETS = ("arc/validation", "fnc1/validation", "arc/test")
# The same, every claim the rule can negate negated and agree / disagree swapped (POLARITY_SETS).
CLAIMS_NEGATED = " (claims negated)"
CLAIM_REPORTS = CLAIM_SETS + tuple(name + CLAIMS_NEGATED for name in CLAIM_SETS)
# Model selection (export) uses validation sets only, one per training source, each weighted
# equally: no single source decides, and no test set or evaluation-only set is looked at.
SELECTION_SETS = tuple(
    name
    for name in EVAL_SETS
    if name.endswith("/validation") and not name.startswith("anli/") and name not in POLARITY_SETS
)
SELECTION_RULE = (
    "mean macro-F1 (labels as served: calibrated, decision rule applied) over "
    + ", ".join(SELECTION_SETS)
    + "; each set weighted equally"
)


def load_split(dataset: str, split: str) -> datasets.Dataset:
    data = load_nli_dataset(dataset)
    if split not in data:
        raise SystemExit(f"{dataset} has no split {split!r} (has {sorted(data)})")
    return data[split]


def pairs_of(split: datasets.Dataset) -> list[tuple[str, str]]:
    return list(zip(split["premise"], split["hypothesis"]))


def gold_ids(split: datasets.Dataset) -> np.ndarray:
    index = {label: position for position, label in enumerate(LABELS)}
    return np.array([index[label] for label in split["label"]], dtype=np.int64)


def evaluate(scorer: Scorer, split: datasets.Dataset, symmetric: bool = False) -> dict:
    """Metrics of ``scorer`` on ``split``, calibrated and decided as the service would serve it
    (without ``symmetric``, uncalibrated figures too, from the same forward passes)."""
    started = time.perf_counter()
    pairs = pairs_of(split)
    gold = gold_ids(split)
    if symmetric:
        calibrated = scorer.probabilities(pairs, symmetric=True)
        raw = None
    else:
        logits = temperature_free_logits(scorer, pairs)
        calibrated = softmax(logits, scorer.calibration.temperature)
        raw = softmax(logits, 1.0)
    report = classification_report(calibrated, gold, threshold=scorer.calibration.threshold)
    if raw is not None:
        uncalibrated = classification_report(raw, gold)
        report["uncalibrated"] = {key: uncalibrated[key] for key in ("ece", "nll", "accuracy", "macro_f1")}
    report["symmetric"] = symmetric
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def data_root_file(root: Path, name: str) -> Path:
    """Where a copy of the set ``source/split`` lives under ``root`` (``--data_root``)."""
    source, _, split = name.rpartition("/")
    return root.joinpath(*Path(source).parts[Path(source).is_absolute() :], f"{split}.jsonl")


def held_out_sets(
    names: Iterable[str], data_root: Path | None = None
) -> Iterator[tuple[str, datasets.Dataset]]:
    """Each ``source/split`` of ``names`` with its rows, each source loaded once. With ``data_root``,
    each set is read from ``data_root/SOURCE/SPLIT.jsonl`` instead (as ``training.device_kit``
    materialises them for a machine without the raw sources)."""
    loaded: dict[str, datasets.DatasetDict] = {}
    for name in names:
        source, _, split = name.rpartition("/")
        if data_root is not None:
            source, split = str(data_root_file(data_root, name)), "train"
        if source not in loaded:
            loaded[source] = load_nli_dataset(source)
        if split not in loaded[source]:
            raise ValueError(f"{source} has no split {split!r} (has {sorted(loaded[source])})")
        yield name, loaded[source][split]


def evaluate_sets(
    scorer: Scorer, names: tuple[str, ...] | list[str] = EVAL_SETS, data_root: Path | None = None
) -> dict[str, dict]:
    """One report per ``source/split`` (:func:`held_out_sets`, ``data_root`` included)."""
    reports = {}
    for name, rows in held_out_sets(names, data_root):
        reports[name] = evaluate(scorer, rows)
        logger.info(
            "%s: accuracy %.3f macro-F1 %.3f (%d pairs, %.0fs)",
            name,
            reports[name]["accuracy"],
            reports[name]["macro_f1"],
            reports[name]["examples"],
            reports[name]["seconds"],
        )
    return reports


def evaluate_claims(scorer: Scorer, name: str, window: int = DEFAULT_WINDOW) -> dict:
    """Claim vs whole document on a news stance split: every agree/disagree pair's claim against
    all windows of its article, pooled (:func:`contradict.claims.stances`); AUROC of the pooled
    contradiction share for disagree against agree. An article without a statement scores 0.5.
    ``name`` ending in :data:`CLAIMS_NEGATED`: the claims negated, agree and disagree swapped."""
    started = time.perf_counter()
    pairs, texts = nli_sources.stance_documents(name.removesuffix(CLAIMS_NEGATED))
    if name.endswith(CLAIMS_NEGATED):
        pairs = negated_stance_pairs(pairs)
        texts = {pair.body_id: texts[pair.body_id] for pair in pairs}
    windows = {
        body_id: document_windows(Article(id=body_id, text=text), window) for body_id, text in texts.items()
    }
    checks = [(pair.claim, windows[pair.body_id]) for pair in pairs]
    pooled = stances(checks, scorer.probabilities(claim_pairs(checks)))
    share = np.array([0.5 if stance is None else stance.contradiction_share for stance in pooled])
    disagree = np.array([pair.stance == "disagree" for pair in pairs])
    return {
        "pairs": len(pairs),
        "disagree": int(disagree.sum()),
        "documents": len(texts),
        "windows": sum(len(w) for _, w in checks),
        "without_windows": sum(stance is None for stance in pooled),
        "window": window,
        "contradiction_vs_entailment_auroc": binary_auroc(share, disagree),
        "seconds": round(time.perf_counter() - started, 1),
    }


def evaluate_claim_sets(scorer: Scorer, window: int = DEFAULT_WINDOW) -> dict[str, dict]:
    reports = {}
    for name in CLAIM_REPORTS:
        reports[name] = evaluate_claims(scorer, name, window)
        logger.info(
            "%s claim vs document: C-vs-E AUROC %.3f (%d pairs, %d windows, %.0fs)",
            name,
            reports[name]["contradiction_vs_entailment_auroc"],
            reports[name]["pairs"],
            reports[name]["windows"],
            reports[name]["seconds"],
        )
    return reports


def claims_table(reports: dict[str, dict]) -> str:
    rows = [
        "| claim vs whole document | pairs (disagree) | articles | windows | C-vs-E AUROC |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, report in reports.items():
        rows.append(
            f"| {name} | {report['pairs']:,} ({report['disagree']:,}) | {report['documents']:,} "
            f"| {report['windows']:,} | {_cell(report['contradiction_vs_entailment_auroc'])} |"
        )
    return "\n".join(rows)


def selection_score(reports: dict[str, dict]) -> float:
    """The export criterion (:data:`SELECTION_RULE`)."""
    missing = [name for name in SELECTION_SETS if name not in reports]
    if missing:
        raise ValueError(f"selection needs {missing}")
    return float(np.mean([reports[name]["macro_f1"] for name in SELECTION_SETS]))


def _cell(value: float) -> str:
    return "-" if value != value else f"{value:.3f}"  # NaN: the set lacks one of the classes


def markdown_table(reports: dict[str, dict]) -> str:
    rows = [
        "| set | pairs | accuracy | macro-F1 | contradiction F1 | contradiction AUROC | C-vs-E AUROC | ECE |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, report in reports.items():
        rows.append(
            f"| {name} | {report['examples']:,} | {report['accuracy']:.3f} | {report['macro_f1']:.3f} "
            f"| {report['per_class']['contradiction']['f1']:.3f} | {_cell(report['contradiction_auroc'])} "
            f"| {_cell(report['contradiction_vs_entailment_auroc'])} | {report['ece']:.3f} |"
        )
    return "\n".join(rows)


@dataclass
class EvaluateArguments:
    model: str = field(metadata={"help": "model folder or hub id"})
    sets: str = field(
        default="all", metadata={"help": "comma-separated source/split names, 'all' (EVAL_SETS) or 'none'"}
    )
    dataset: str | None = field(
        default=None, metadata={"help": "instead of --sets: any dataset load_nli_dataset reads"}
    )
    split: str = field(default="test", metadata={"help": "split of --dataset"})
    symmetric: bool = field(default=False, metadata={"help": "score both directions (with --dataset)"})
    behaviour: bool = field(default=True, metadata={"help": "also run the behaviour suite"})
    claims: bool = field(
        default=True, metadata={"help": "also read the news stance sets claim vs whole article (CLAIM_SETS)"}
    )
    claim_window: int = field(default=DEFAULT_WINDOW, metadata={"help": "statements per window for --claims"})
    output: str | None = field(default=None, metadata={"help": "write the report as JSON here"})
    backend: str = field(default="auto", metadata={"help": "scoring backend: auto, torch, onnx or openvino"})
    precision: str = field(
        default="auto", metadata={"help": "the openvino backend's compute precision: auto, f32 or bf16"}
    )
    device: str = field(
        default="cpu", metadata={"help": "torch device (cuda for a GPU; the ONNX backend is CPU only)"}
    )
    data_root: str | None = field(
        default=None,
        metadata={"help": "read each set from DATA_ROOT/SOURCE/SPLIT.jsonl (training.device_kit's copies)"},
    )


def main(argv: list[str] | None = None) -> dict:
    (args,) = HfArgumentParser(EvaluateArguments).parse_args_into_dataclasses(args=argv)
    configure_logging()
    scorer = NLIScorer(args.model, backend=args.backend, device=args.device, precision=args.precision)
    if args.dataset:
        split = load_split(args.dataset, args.split)
        reports = {f"{args.dataset}/{args.split}": evaluate(scorer, split, args.symmetric)}
    else:
        named = {"all": list(EVAL_SETS), "none": []}
        names = named[args.sets] if args.sets in named else [name.strip() for name in args.sets.split(",")]
        reports = evaluate_sets(scorer, names, Path(args.data_root) if args.data_root else None)
    result: dict = {
        "model": scorer.name,
        "version": scorer.version,
        "runtime": scorer.backend.describe(),
        "sets": reports,
    }
    if all(name in reports for name in SELECTION_SETS):
        result["selection"] = {"rule": SELECTION_RULE, "score": selection_score(reports)}
    if args.behaviour:
        result |= behaviour.suite_reports(scorer)
    if args.claims and not args.dataset:
        result["claim_vs_document"] = evaluate_claim_sets(scorer, args.claim_window)
    print(markdown_table(reports))
    if "claim_vs_document" in result:
        print("\n" + claims_table(result["claim_vs_document"]))
    if "selection" in result:
        print(f"\nselection score {result['selection']['score']:.4f} ({SELECTION_RULE})")
    if args.behaviour:
        print("\n" + behaviour.format_table(result["behaviour"]))
        print(
            "\nattributed (both sides put in a source's mouth):\n"
            + behaviour.format_table(result["behaviour_attributed"])
        )
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
