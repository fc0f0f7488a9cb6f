"""Turn a training checkpoint into the shipped model folder, in four steps a reader can follow:

1. **stage** -- fp16 safetensors + tokenizer in a temporary folder beside the output;
2. **measure** -- calibrate on *pooled* validation data (temperature, decision threshold), then
   evaluate every held-out set, the behaviour suite and the headline pair, all on exactly the
   staged (fp16-stored) weights through the scoring core;
3. **record** -- ``metrics.json`` (figures, training records, the datasets in the weights and
   their licences) and the model card written from it;
4. **promote** -- replace the shipped model only when the staged one has the higher selection score
   (:data:`training.evaluate.SELECTION_RULE`, validation sets only), unless ``--force``.

    python -m training.export --checkpoint runs/model2/final --output models/contradict-minilm-l6-nli \
        --version 2.0.0 --calibration_data "vitaminc=1,mnli=1,snli=1,..."
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, HfArgumentParser

from contradict.scorer import METRICS_FILE, RUN_ARGS_FILE, NLIScorer, trained_max_length
from training import behaviour
from training.calibrate import calibrate, temperature_free_logits
from training.data import licence_of, source_names
from training.evaluate import (
    EVAL_SETS,
    SELECTION_RULE,
    SELECTION_SETS,
    evaluate_claim_sets,
    evaluate_sets,
    gold_ids,
    load_split,
    pairs_of,
    selection_score,
)
from training.export_onnx import export_onnx
from training.logs import configure_logging
from training.model_card import HEADLINE_PAIR, write_model_card

logger = logging.getLogger("training.export")

TRAINING_KEYS = (
    "learning_rate",
    "num_train_epochs",
    "per_device_train_batch_size",
    "warmup_steps",
    "weight_decay",
    "lr_scheduler_type",
    "seed",
    "max_steps",
)
RUN_KEYS = (
    "base_model",
    "dataset",
    "max_length",
    "class_weighting",
    "reverse_contradictions",
    "averaged_from",
    "soft_labels",
    "unlabelled_pairs",
    "max_unlabelled_pairs",
    "distill_alpha",
    "distill_temperature",
)


def _json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def datasets_in_weights(checkpoint: Path, _depth: int = 0) -> list[str]:
    """Every dataset these weights learnt from: this run's, its base model's, and those of the
    checkpoints it averages, followed through their records (``run_args.json``, ``metrics.json``)."""
    exported = _json(checkpoint / METRICS_FILE)
    if "datasets_in_weights" in exported:
        return list(exported["datasets_in_weights"])
    run_args = _json(checkpoint / RUN_ARGS_FILE)
    names = set(source_names(run_args["dataset"])) if "dataset" in run_args else set()
    if "dataset" in exported:  # an exported model from before this record existed
        names |= set(source_names(exported["dataset"]))
    parents = [Path(path) for path in run_args.get("averaged_from", [])]
    if run_args.get("base_model"):
        parents.append(Path(run_args["base_model"]))
    for parent in parents:
        if parent.is_dir() and _depth < 10:
            names |= set(datasets_in_weights(parent, _depth + 1))
    return sorted(names)


def stage(checkpoint: Path, staging: Path) -> None:
    """Store weights in fp16 (half the size) while the config keeps float32 as the load dtype."""
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, dtype=torch.float32)
    save_fp16(model, AutoTokenizer.from_pretrained(checkpoint), staging)


def save_fp16(model: torch.nn.Module, tokenizer, staging: Path) -> None:
    model.half()
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    # save_pretrained records float16; declare float32 so dtype="auto" loaders (transformers 5's
    # default, CrossEncoder) upcast on load: fp16 inference on CPU is slow or unsupported.
    config_path = staging / "config.json"
    config = json.loads(config_path.read_text())
    config["dtype"] = "float32"
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def measure(
    staging: Path, calibration_data: str, sets: tuple[str, ...] = EVAL_SETS, max_length: int | None = None
) -> dict:
    """Calibrate the staged model in place, then measure it as the service will serve it.

    ``max_length``: the tokens per pair it was trained with; the staged folder holds no record of it
    yet (``metrics.json`` is written after), and serving will use it.
    """
    scorer = NLIScorer(str(staging), max_length=max_length)
    validation = load_split(calibration_data, "validation")
    calibration, calibration_report = calibrate(
        temperature_free_logits(scorer, pairs_of(validation)), gold_ids(validation)
    )
    calibration_report["data"] = calibration_data
    calibration.save(staging)
    scorer = NLIScorer(str(staging), max_length=max_length)
    reports = evaluate_sets(scorer, sets)
    measured = {
        "calibration": calibration_report,
        "evaluation": reports,
        **behaviour.suite_reports(scorer),
        "claim_vs_document": evaluate_claim_sets(scorer),
        "headline": {
            "premise": HEADLINE_PAIR[0],
            "hypothesis": HEADLINE_PAIR[1],
            "forward": scorer.score([HEADLINE_PAIR])[0].as_dict(),
            "symmetric": scorer.score([HEADLINE_PAIR], symmetric=True)[0].as_dict(),
        },
    }
    if all(name in reports for name in SELECTION_SETS):
        measured["selection"] = {"rule": SELECTION_RULE, "score": selection_score(reports)}
    # ``test`` is what ``/v1/model`` and ``contradict model-info`` show: the VitaminC test set,
    # comparable with every earlier version.
    if "vitaminc/test" in reports:
        measured["test"] = reports["vitaminc/test"]
    return measured


def record(staging: Path, checkpoint: Path, measured: dict, name: str, version: str) -> dict:
    training_args = _json(checkpoint / "training_args.json")
    run_args = _json(checkpoint / RUN_ARGS_FILE)
    in_weights = datasets_in_weights(checkpoint)
    metrics = {
        "name": name,
        "version": version,
        "datasets_in_weights": in_weights,
        "licences": {dataset: licence_of(dataset) for dataset in in_weights},
        **measured,
        "training": {key: training_args[key] for key in TRAINING_KEYS if key in training_args}
        | {key: run_args[key] for key in RUN_KEYS if key in run_args},
    }
    (staging / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")
    write_model_card(staging, metrics)
    return metrics


def shipped_selection_score(output: Path) -> float | None:
    """The shipped model's selection score: from its record, or measured now for older models."""
    if not (output / "config.json").is_file():
        return None
    recorded = _json(output / METRICS_FILE).get("selection", {}).get("score")
    if recorded is not None:
        return float(recorded)
    logger.info("%s has no selection score on record: measuring it on %s", output, ", ".join(SELECTION_SETS))
    return selection_score(evaluate_sets(NLIScorer(str(output), backend="torch"), SELECTION_SETS))


def promote(staging: Path, output: Path, metrics: dict, force: bool) -> bool:
    new = metrics.get("selection", {}).get("score")
    old = None
    if not force and (output / "config.json").is_file():
        if new is None:
            logger.warning("no selection score (not every selection set was measured): not replaced")
            return False
        old = shipped_selection_score(output)
        if old is not None and new <= old:
            logger.warning("selection score %.4f does not beat the shipped %.4f: not replaced", new, old)
            return False
    if output.exists():
        shutil.rmtree(output)
    shutil.move(str(staging), output)
    export_onnx(output)  # the ONNX backend's file, made from (and recorded against) these weights
    logger.info("exported %s (selection score %s, shipped was %s)", output, new, old)
    return True


def export(
    checkpoint: Path,
    output: Path,
    version: str,
    calibration_data: str,
    force: bool = False,
    sets: tuple[str, ...] = EVAL_SETS,
) -> dict:
    with tempfile.TemporaryDirectory(dir=output.parent) as tmp:
        staging = Path(tmp) / output.name
        stage(checkpoint, staging)
        measured = measure(staging, calibration_data, sets, trained_max_length(checkpoint))
        metrics = record(staging, checkpoint, measured, output.name, version)
        metrics["promoted"] = promote(staging, output, metrics, force)
    return metrics


@dataclass
class ExportArguments:
    checkpoint: str = field(metadata={"help": "trained model folder (training/train.py's final/)"})
    output: str = field(default="models/contradict-minilm-l6-nli", metadata={"help": "shipped model folder"})
    version: str = field(default="2.0.0", metadata={"help": "version written into metrics.json and the card"})
    calibration_data: str = field(
        default="vitaminc",
        metadata={
            "help": "dataset or mixture whose (pooled) validation split fits temperature and threshold"
        },
    )
    sets: str = field(default="all", metadata={"help": "comma-separated held-out sets to report, or 'all'"})
    force: bool = field(default=False, metadata={"help": "replace the shipped model even if not better"})


def main(argv: list[str] | None = None) -> dict:
    (args,) = HfArgumentParser(ExportArguments).parse_args_into_dataclasses(args=argv)
    configure_logging()
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    sets = EVAL_SETS if args.sets == "all" else tuple(name.strip() for name in args.sets.split(","))
    return export(Path(args.checkpoint), output, args.version, args.calibration_data, args.force, sets)


if __name__ == "__main__":
    main()
