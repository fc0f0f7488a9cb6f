"""Data sources for NLI fine-tuning, all behind one function returning a ``datasets.DatasetDict``.

Every source ends in the same shape -- ``premise``, ``hypothesis``, ``label`` (a canonical label
name) -- so training and evaluation never care where rows came from:

* ``vitaminc`` -- VitaminC from the BIG-bench sdist, split by page title (the default);
* a local ``.jsonl``/``.json``/``.csv`` file or a folder holding ``train``/``validation``/``test`` files;
* a named folder of ``../shared/data/nli/`` (``mnli``, ``snli``, ``fnc1``, ... see
  :data:`training.nli_sources.SOURCES`), read in the format its publisher uses;
* a **mixture** ``"mnli=2,snli=1,vitaminc=0.25"``: each source's train split repeated (weight > 1)
  or sub-sampled (weight < 1), pairs whose premise is held out by *any* source dropped from train,
  duplicates across sources dropped, validation pooled with at most
  :data:`VALIDATION_PER_SOURCE` pairs per source so no source dominates model selection;
* any hub dataset id (``nyu-mll/multi_nli``, ``stanfordnlp/snli``, ``facebook/anli``, ...) through
  ``datasets.load_dataset`` for users who can reach the hub.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from pathlib import Path

import datasets

from contradict.labels import DEFAULT_ID2LABEL, LABELS, canonical_label
from contradict.records import SUFFIXES
from training import fact_verification, nli_sources

logger = logging.getLogger(__name__)

COLUMNS = ("premise", "hypothesis", "label")
# The project's one suffix map (contradict.records), onto the ``datasets`` builder of each format.
_BUILDERS = {"jsonl": "json", "csv": "csv"}
LOCAL_SUFFIXES = {suffix: _BUILDERS[fmt] for suffix, fmt in SUFFIXES.items()}
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


VALIDATION_PER_SOURCE = 1000
VITAMINC_LICENCE = "CC BY-SA 3.0"


def licence_of(name: str) -> str:
    if name == "vitaminc":
        return VITAMINC_LICENCE
    if name in nli_sources.SOURCES:
        return nli_sources.SOURCES[name].licence
    return "see the data's own terms (local file or hub dataset)"


def source_names(spec: str) -> list[str]:
    """The sources a ``--dataset`` value draws on: a mixture's names, or the one source."""
    return list(parse_mixture(spec)) if "=" in spec else [spec]


def load_nli_dataset(source: str = "vitaminc") -> datasets.DatasetDict:
    """Load ``source`` as a clean DatasetDict with canonical labels; log counts per split/label."""
    if "=" in source:
        return load_mixture(parse_mixture(source))
    if source == "vitaminc":
        raw = _load_vitaminc()
    elif source in nli_sources.SOURCES:
        raw = _load_shared(source)
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


def _load_shared(name: str) -> datasets.DatasetDict:
    return datasets.DatasetDict(
        {
            split: datasets.Dataset.from_list(rows)
            for split, rows in nli_sources.read_source(name).items()
            if rows
        }
    )


def parse_mixture(spec: str) -> dict[str, float]:
    """``"mnli=2,snli=1,vitaminc=0.25"`` -> weights; refuses unknown and evaluation-only sources."""
    weights: dict[str, float] = {}
    for part in filter(None, (item.strip() for item in spec.split(","))):
        name, sep, value = part.partition("=")
        name = name.strip()
        try:
            weight = float(value) if sep else 1.0
        except ValueError:
            raise ValueError(f"mixture {spec!r}: weight of {name!r} is not a number: {value!r}") from None
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"mixture {spec!r}: weight of {name!r} must be a finite number >= 0")
        if name in weights:
            raise ValueError(f"mixture {spec!r}: {name!r} is named twice")
        known = name == "vitaminc" or name in nli_sources.SOURCES or Path(name).exists()
        if not known:
            raise ValueError(
                f"mixture {spec!r}: unknown source {name!r} "
                f"(known: vitaminc, {', '.join(nli_sources.SOURCES)}, or a local file)"
            )
        if name in nli_sources.SOURCES and not nli_sources.SOURCES[name].trainable:
            raise ValueError(f"mixture {spec!r}: {name} is licensed for evaluation only, never for training")
        weights[name] = weight
    if not weights:
        raise ValueError(f"mixture {spec!r} names no source")
    return weights


def weighted_sample(split: datasets.Dataset, weight: float, seed: int) -> datasets.Dataset:
    """``weight`` copies of ``split``: whole repeats, then a seeded random part for the fraction."""
    whole, fraction = int(weight), weight - int(weight)
    parts = [split] * whole
    extra = round(fraction * len(split))
    if extra:
        parts.append(split.shuffle(seed=seed).select(range(extra)))
    return datasets.concatenate_datasets(parts) if parts else split.select([])


def load_mixture(
    weights: dict[str, float], seed: int = 42, validation_per_source: int = VALIDATION_PER_SOURCE
) -> datasets.DatasetDict:
    """Train on a weighted mixture, validate on a pooled, capped sample of every source's validation."""
    loaded = {name: load_nli_dataset(name) for name in weights}
    held_out_premises = {
        premise
        for data in loaded.values()
        for split_name, split in data.items()
        if split_name != "train"
        for premise in split["premise"]
    }
    train_parts, validation_parts = [], []
    seen: set[tuple[str, str]] = set()
    for name, weight in weights.items():
        data = loaded[name]
        if "train" not in data:
            raise ValueError(f"{name} has no train split")
        train = data["train"].select_columns(list(COLUMNS))
        keep, leaked, duplicate = [], 0, 0
        for index, (premise, hypothesis) in enumerate(zip(train["premise"], train["hypothesis"])):
            if premise in held_out_premises:
                leaked += 1
            elif (premise, hypothesis) in seen:
                duplicate += 1
            else:
                seen.add((premise, hypothesis))
                keep.append(index)
        train = weighted_sample(train.select(keep), weight, seed)
        logger.info(
            "mixture %s x%.2f: %d train rows (%d dropped: premise held out elsewhere, %d duplicates)",
            name,
            weight,
            len(train),
            leaked,
            duplicate,
        )
        train_parts.append(train.add_column("source", [name] * len(train)))
        if "validation" in data:
            validation = data["validation"].select_columns(list(COLUMNS))
            validation = validation.shuffle(seed=seed).select(
                range(min(validation_per_source, len(validation)))
            )
            validation_parts.append(validation.add_column("source", [name] * len(validation)))
    mixed = datasets.DatasetDict({"train": datasets.concatenate_datasets(train_parts).shuffle(seed=seed)})
    if validation_parts:
        mixed["validation"] = datasets.concatenate_datasets(validation_parts)
    log_counts(mixed)
    return mixed


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
