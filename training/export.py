"""Turn a training checkpoint into the shipped model folder: fp16 safetensors, calibration,
test metrics and a model card.

Calibration and evaluation run on the exported (fp16-stored) weights, so the figures in the card
are the figures of exactly what ships. An existing model is only replaced when the new one beats
it on the test split (macro-F1), unless ``--force``.

    python -m training.export --checkpoint runs/minilm-vitaminc/final \
        --output models/contradict-minilm-l6-nli
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from contradict.scorer import METRICS_FILE, NLIScorer
from training.calibrate import calibrate
from training.evaluate import evaluate, gold_ids, load_split, pairs_of
from training.model_card import HEADLINE_PAIR, write_model_card
from training.train import RUN_ARGS_FILE

logger = logging.getLogger("training.export")


def save_fp16(checkpoint: Path, output: Path) -> None:
    """Store weights in fp16 (half the size) while the config keeps float32 as the load dtype."""
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, dtype=torch.float32)
    model.half()
    model.save_pretrained(output)
    AutoTokenizer.from_pretrained(checkpoint).save_pretrained(output)
    # save_pretrained records float16; declare float32 so dtype="auto" loaders (transformers 5's
    # default, CrossEncoder) upcast on load: fp16 inference on CPU is slow or unsupported.
    config_path = output / "config.json"
    config = json.loads(config_path.read_text())
    config["dtype"] = "float32"
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def export(
    checkpoint: Path, output: Path, version: str, dataset: str = "vitaminc", force: bool = False
) -> dict:
    with tempfile.TemporaryDirectory(dir=output.parent) as tmp:
        staging = Path(tmp) / output.name
        save_fp16(checkpoint, staging)

        # Calibrate on validation with the shipped weights, then evaluate on test.
        scorer = NLIScorer(str(staging))
        validation = load_split(dataset, "validation")
        calibration, calibration_report = calibrate(
            scorer.canonical_logits(pairs_of(validation)), gold_ids(validation)
        )
        calibration.save(staging)
        scorer = NLIScorer(str(staging))
        test_report = evaluate(scorer, load_split(dataset, "test"))
        validation_report = evaluate(scorer, validation)

        training_args = {}
        if (checkpoint / "training_args.json").is_file():
            training_args = json.loads((checkpoint / "training_args.json").read_text())
        run_args = {}
        if (checkpoint / RUN_ARGS_FILE).is_file():
            run_args = json.loads((checkpoint / RUN_ARGS_FILE).read_text())
        headline = {
            "premise": HEADLINE_PAIR[0],
            "hypothesis": HEADLINE_PAIR[1],
            "forward": scorer.predict(*HEADLINE_PAIR).as_dict(),
            "symmetric": scorer.predict(*HEADLINE_PAIR, symmetric=True).as_dict(),
        }
        metrics = {
            "name": output.name,
            "version": version,
            "dataset": dataset,
            "test": test_report,
            "validation": validation_report,
            "calibration": calibration_report,
            "training": {
                key: training_args.get(key)
                for key in (
                    "learning_rate",
                    "num_train_epochs",
                    "per_device_train_batch_size",
                    "warmup_steps",
                    "weight_decay",
                    "lr_scheduler_type",
                    "seed",
                    "max_steps",
                )
                if key in training_args
            },
            "headline": headline,
        }
        metrics["training"].update(
            {
                key: run_args[key]
                for key in (
                    "base_model",
                    "max_length",
                    "class_weighting",
                    "reverse_contradictions",
                    "averaged_from",
                )
                if key in run_args
            }
        )
        (staging / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")
        write_model_card(staging, metrics)

        previous = output / METRICS_FILE
        if previous.is_file() and not force:
            old = json.loads(previous.read_text())["test"]["macro_f1"]
            if test_report["macro_f1"] <= old:
                logger.warning(
                    "new model macro-F1 %.4f does not beat shipped %.4f: not replaced",
                    test_report["macro_f1"],
                    old,
                )
                return metrics
        if output.exists():
            shutil.rmtree(output)
        shutil.move(str(staging), output)
    logger.info(
        "exported %s: test accuracy %.4f macro-F1 %.4f",
        output,
        test_report["accuracy"],
        test_report["macro_f1"],
    )
    return metrics


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--output", type=Path, default=Path("models/contradict-minilm-l6-nli"))
    parser.add_argument("--version", default="1.0.0")
    parser.add_argument("--dataset", default="vitaminc")
    parser.add_argument("--force", action="store_true", help="replace even if not better on test")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    return export(args.checkpoint, args.output, args.version, args.dataset, args.force)


if __name__ == "__main__":
    main()
