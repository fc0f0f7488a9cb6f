"""Carry the teacher recipe to a lent GPU machine and bring its results back, within what the device
tool moves.

Why this exists: the device tool (how this project's sessions borrow a GPU machine) sends the repo's
working tree plus carried, git-ignored paths, at most 64 MiB a call; keeps carried paths on the
machine between calls while it stays warm (30 s idle); returns at most 8 files of 16 MiB; and the
machine reaches no network. The teacher's base (all-mpnet-base-v2, 438 MB of fp32 weights), the
shipped student (45 MB), the data sources (with their caches, the bigbench sdist and WordNet) and the
Python packages the machine lacks do not fit one call, and the repo's own model files (79 MB) make
the tree too large by themselves. The first GPU session (stop 16) solved this by hand and spent
about half of its 15 minutes on it (792 s used; the recipe itself ran about 7 minutes); this module
makes it one prepared sequence:

- ``pack`` (here, on a CPU) writes ``.kit/``: every source of the mixture with all its splits, and
  every held-out set, as JSONL (the machine then needs neither the raw sources nor the embedder nor
  WordNet; the copies are checked to give exactly the mixture's training rows), the unlabelled news
  pairs, the teacher's base with its matrices int8 per row, the student with its word embeddings
  int8 per row, the wheels the machine lacks; all split into ``.kit/callN`` folders that each fit
  one call beside the slimmed tree (``slim``), and ``.kit/PLAN.md`` naming the calls.
- ``unpack`` (there) rebuilds both model folders, in the float dtypes they had, and the data.
- ``send`` (there) puts what the run made into files the tool returns.
- ``collect`` (back here) joins the returned student parts into a model folder and writes the
  teacher's soft labels as ``.npy`` + ``.meta.json`` with the mixture spec they belong to, ready to
  keep in ``training/soft_labels/`` so that CPU stages can distil them (``training.teacher
  --from_array``).

``training/device_session.sh`` is what runs there. Weights travel int8 per row because the float
files do not fit: for all-mpnet-base-v2, sentence embeddings within cosine 0.999 of the original's
(docs/model.md, "The kit"); the student's other tensors travel exactly as stored (fp16).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from training.logs import configure_logging

logger = logging.getLogger("training.device_kit")

REPO = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
CALL_LIMIT = 64 * MiB  # the tree plus carried paths, per call
RETURN_FILE_LIMIT = 16 * MiB  # per file the machine sends back
MARGIN = 2 * MiB  # tree growth between packing and calling, file-system overhead
PART_BYTES = 15 * MiB  # one weights part: under RETURN_FILE_LIMIT, so parts travel either way
SCALE_SUFFIX = ".row_scale"
# A float tensor is stored int8 per row when it is a matrix of at least this many values; vectors
# (biases, LayerNorm) and small matrices stay float32: they are a rounding error of the size.
QUANTISE_MIN_VALUES = 1 << 16
# The repo's files that make the tree too big; they are committed, so `git checkout` restores them.
MODEL_FILES = ("model.safetensors", "model.onnx")
# Python packages the machine lacks, or holds at other versions than the ones this code was tested
# with (its image, read 2026-11-17: torch, numpy, pandas, pyarrow, typer, accelerate are there).
KIT_PACKAGES = (
    "transformers",
    "huggingface-hub",
    "httpx2",
    "httpcore2",
    "truststore",
    "tokenizers",
    "datasets",
    "dill",
    "multiprocess",
    "pydantic",
    "pydantic-core",
    "pydantic-settings",
    "annotated-types",
    "typing-inspection",
    "python-dotenv",
)
WHEEL_PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux1_x86_64",
)


# -- weights ---------------------------------------------------------------------------------------


def quantise_rows(
    tensors: Mapping[str, np.ndarray], only: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """int8 per row (symmetric, scale = the row's max |w| / 127) for every float matrix of at least
    :data:`QUANTISE_MIN_VALUES` values (or for the names in ``only``); other tensors unchanged.
    Each quantised tensor ``name`` is stored as int8 beside ``name + SCALE_SUFFIX`` (float32)."""
    chosen = set(only) if only is not None else None
    out: dict[str, np.ndarray] = {}
    for name, tensor in tensors.items():
        wanted = (
            name in chosen if chosen is not None else tensor.ndim == 2 and tensor.size >= QUANTISE_MIN_VALUES
        )
        if not wanted or tensor.dtype.kind != "f":
            out[name] = tensor
            continue
        values = tensor.astype(np.float32)
        scale = np.abs(values).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        out[name] = np.clip(np.rint(values / scale[:, None]), -127, 127).astype(np.int8)
        out[name + SCALE_SUFFIX] = scale.astype(np.float32)
    return out


def dequantise_rows(stored: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The inverse of :func:`quantise_rows`: quantised tensors back as float32, the rest as stored."""
    out: dict[str, np.ndarray] = {}
    for name, tensor in stored.items():
        if name.endswith(SCALE_SUFFIX):
            continue
        scale = stored.get(name + SCALE_SUFFIX)
        out[name] = tensor if scale is None else tensor.astype(np.float32) * scale[:, None]
    return out


def save_in_parts(tensors: Mapping[str, np.ndarray], prefix: Path, part_bytes: int) -> list[Path]:
    """Safetensors files ``prefix.000``, ``.001``, ... of at most ``part_bytes`` of tensor data each
    (a tensor and its row scales stay together; one tensor larger than a part gets a part of its own)."""
    from safetensors.numpy import save_file

    groups: list[dict[str, np.ndarray]] = [{}]
    size = 0
    for name in sorted(name for name in tensors if not name.endswith(SCALE_SUFFIX)):
        group = {name: tensors[name]}
        if name + SCALE_SUFFIX in tensors:
            group[name + SCALE_SUFFIX] = tensors[name + SCALE_SUFFIX]
        bytes_ = sum(value.nbytes for value in group.values())
        if groups[-1] and size + bytes_ > part_bytes:
            groups.append({})
            size = 0
        groups[-1].update(group)
        size += bytes_
    paths = []
    for index, group in enumerate(groups):
        path = prefix.with_name(f"{prefix.name}.{index:03d}")
        save_file({name: np.ascontiguousarray(value) for name, value in group.items()}, str(path))
        paths.append(path)
    return paths


def load_parts(paths: Iterable[Path]) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    out: dict[str, np.ndarray] = {}
    for path in sorted(paths):
        out.update(load_file(str(path)))
    return out


def pack_model(folder: Path, target: Path, part_bytes: int, only: Iterable[str] | None = None) -> list[Path]:
    """``folder``'s weights, quantised per row, in parts under ``target``, and its small files
    (config, tokenizer, calibration, ...) in ``target/files/``."""
    target.mkdir(parents=True, exist_ok=True)
    from safetensors.numpy import load_file

    tensors = load_file(str(folder / "model.safetensors"))
    dtypes = {name: str(tensor.dtype) for name, tensor in tensors.items()}
    parts = save_in_parts(quantise_rows(tensors, only), target / "weights", part_bytes)
    files = target / "files"
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != "model.safetensors" and not path.name.startswith("model.onnx"):
            destination = files / path.relative_to(folder)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
    (target / "dtypes.json").write_text(json.dumps(dtypes, indent=1) + "\n")
    return parts


def unpack_model(packed: Path, output: Path) -> Path:
    """Rebuild a model folder from :func:`pack_model`'s output: small files copied, weights
    dequantised and saved in the float dtypes they had."""
    from safetensors.numpy import save_file

    output.mkdir(parents=True, exist_ok=True)
    if (packed / "files").is_dir():
        shutil.copytree(packed / "files", output, dirs_exist_ok=True)
    dtypes = json.loads((packed / "dtypes.json").read_text())
    tensors = dequantise_rows(load_parts(packed.glob("weights.*")))
    missing = sorted(set(dtypes) - set(tensors))
    if missing:
        raise FileNotFoundError(f"{packed}: parts missing for {len(missing)} tensors, e.g. {missing[:3]}")
    restored = {name: value.astype(dtypes[name]) for name, value in tensors.items()}
    save_file(restored, str(output / "model.safetensors"), metadata={"format": "pt"})
    return output


# -- data ------------------------------------------------------------------------------------------


def write_jsonl(rows: Iterable[Mapping[str, object]], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as sink:
        for row in rows:
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


LOCAL_SPLITS = ("train", "validation", "test")  # the split files a local dataset folder may hold


def local_spec(data: Path) -> str:
    """The mixture spec over the kit's local copies under ``data`` (``mix/spec.txt`` holds it with
    paths relative to ``data``, since the kit lands in another folder on the machine)."""
    relative = (data / "mix" / "spec.txt").read_text().strip()
    return ",".join(str(data / part.strip()) for part in relative.split(","))


def materialise(mixture: str, target: Path, eval_sets: Iterable[str]) -> dict[str, int]:
    """Every source of ``mixture``, every split, as ``target/mix/NN-NAME/SPLIT.jsonl`` with a spec
    over them (:func:`local_spec`: same weights, same order), and every held-out set as
    ``target/eval/SOURCE/SPLIT.jsonl`` (``training.evaluate --data_root``); the machine then needs
    none of the raw sources, caches or WordNet.

    Sources travel whole, not as the finished mixture: a local file is de-duplicated on loading, so
    a mixture's weighted repeats would not survive, and the held-out premises of every source's other
    splits are what keeps the mixture leak-free. Refuses unless the local spec gives exactly the
    mixture's training rows, in order, so that soft labels written there rebuild here from the spec
    (``training.teacher --from_array``)."""
    from training.data import load_nli_dataset, parse_mixture
    from training.evaluate import data_root_file, held_out_sets

    counts: dict[str, int] = {}
    relative = []
    for index, (name, weight) in enumerate(parse_mixture(mixture).items()):
        folder = f"mix/{index:02d}-{Path(name).name}"
        data = load_nli_dataset(name)
        unreadable = sorted(set(data) - set(LOCAL_SPLITS))
        if unreadable:
            raise ValueError(f"{name}: splits {unreadable} cannot travel as a local dataset folder")
        for split, rows in data.items():
            rows = rows.select_columns(["premise", "hypothesis", "label"])
            counts[f"{folder}/{split}"] = write_jsonl(rows, target / folder / f"{split}.jsonl")
        relative.append(f"{folder}={weight:g}")
    (target / "mix" / "spec.txt").write_text(",".join(relative) + "\n")
    columns = ["premise", "hypothesis", "label"]
    here = load_nli_dataset(mixture)["train"].select_columns(columns)
    there = load_nli_dataset(local_spec(target))["train"].select_columns(columns)
    if here.to_dict() != there.to_dict():
        raise ValueError(f"the local copies under {target} do not give the training rows of {mixture!r}")
    counts["mix/train"] = len(there)
    for name, rows in held_out_sets(eval_sets):
        path = data_root_file(target / "eval", name)
        counts[f"eval/{name}"] = write_jsonl(rows.select_columns(columns), path)
    return counts


def download_wheels(target: Path, packages: Iterable[str] = KIT_PACKAGES, python: str = "3.12") -> list[Path]:
    """The wheels of ``packages`` at the versions installed here, for the machine's CPython."""
    target.mkdir(parents=True, exist_ok=True)
    pins = [f"{name}=={metadata.version(name)}" for name in packages]
    platforms = [argument for platform in WHEEL_PLATFORMS for argument in ("--platform", platform)]
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--python-version",
        python,
        "--implementation",
        "cp",
        *platforms,
        "-d",
        str(target),
        *pins,
    ]
    subprocess.run(command, check=True)
    return sorted(target.glob("*.whl"))


# -- calls -----------------------------------------------------------------------------------------


def tree_bytes(repo: Path = REPO) -> int:
    """Bytes the device tool sends of the working tree: tracked files that exist, and untracked
    files git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    return sum(
        (repo / name.decode()).stat().st_size for name in listed if name and (repo / name.decode()).is_file()
    )


@dataclass(frozen=True)
class Call:
    folder: str  # relative to the repo root: what `carry` names
    bytes: int
    last: bool


def distribute(staging: Path, kit: Path, budget: int) -> list[Call]:
    """Move every file under ``staging`` into ``kit/call1``, ``call2``, ... (same relative paths),
    largest first into the first call with room, so that each call carries at most ``budget`` bytes."""
    files = sorted((path for path in staging.rglob("*") if path.is_file()), key=lambda p: -p.stat().st_size)
    loads: list[int] = []
    for path in files:
        size = path.stat().st_size
        if size > budget:
            raise ValueError(
                f"{path} ({size / MiB:.1f} MiB) is larger than one call's room ({budget / MiB:.1f} MiB)"
            )
        index = next((i for i, load in enumerate(loads) if load + size <= budget), None)
        if index is None:
            loads.append(0)
            index = len(loads) - 1
        loads[index] += size
        destination = kit / f"call{index + 1}" / path.relative_to(staging)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), destination)
    shutil.rmtree(staging)
    return [
        Call(
            str((kit / f"call{i + 1}").relative_to(REPO))
            if kit.is_relative_to(REPO)
            else str(kit / f"call{i + 1}"),
            load,
            i == len(loads) - 1,
        )
        for i, load in enumerate(loads)
    ]


def merge_calls(kit: Path, output: Path) -> Path:
    """On the machine: the call folders' files back in one tree (hard links where possible)."""
    for call in sorted(kit.glob("call*")):
        for path in call.rglob("*"):
            if path.is_file():
                destination = output / path.relative_to(call)
                destination.parent.mkdir(parents=True, exist_ok=True)
                if not destination.exists():
                    try:
                        destination.hardlink_to(path)
                    except OSError:
                        shutil.copy2(path, destination)
    return output


def shipped_model_files(repo: Path = REPO) -> list[Path]:
    return sorted(path for name in MODEL_FILES for path in (repo / "models").glob(f"*/{name}"))


def slim(repo: Path = REPO) -> int:
    """Delete the shipped model's weight files from the working tree (the tree must fit a call);
    refuses when they differ from the commit, so :func:`restore` gives back exactly what was there."""
    paths = [str(path.relative_to(repo)) for path in shipped_model_files(repo)]
    if paths and subprocess.run(["git", "diff", "--quiet", "HEAD", "--", *paths], cwd=repo).returncode != 0:
        raise SystemExit(f"{paths} differ from HEAD: commit or restore them before slimming the tree")
    for path in paths:
        (repo / path).unlink()
    return tree_bytes(repo)


def restore(repo: Path = REPO) -> int:
    """Put the model files :func:`slim` deleted back from the commit (those files only: anything
    else under models/, a new export say, is left as it is)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "models"], cwd=repo, check=True, capture_output=True
    ).stdout.split(b"\0")
    paths = [name.decode() for name in listed if name and Path(name.decode()).name in MODEL_FILES]
    missing = [path for path in paths if not (repo / path).exists()]
    if missing:
        subprocess.run(["git", "checkout", "HEAD", "--", *missing], cwd=repo, check=True)
    return tree_bytes(repo)


# -- the three steps -------------------------------------------------------------------------------


def plan_text(calls: list[Call], tree: int, manifest: Mapping[str, object]) -> str:
    lines = [
        "# Device calls for this kit",
        "",
        f"Mixture: `{manifest['mixture']}`.",
        "Working tree with the model files deleted (`python -m training.device_kit slim`): "
        f"{tree / MiB:.1f} MiB;",
        f"each call below carries at most {(CALL_LIMIT - tree - MARGIN) / MiB:.1f} MiB beside it.",
        "Make the calls one right after the other (the machine stays warm 30 s after each), then",
        "`python -m training.device_kit restore`.",
        "",
    ]
    for number, call in enumerate(calls, 1):
        command = "bash training/device_session.sh" if call.last else "true"
        lines.append(
            f'{number}. run carry=["{call.folder}"] ({call.bytes / MiB:.1f} MiB) command=`{command}`'
            + (" timeout_s=600" if call.last else "")
        )
    lines += [
        "",
        "Then, with the files the last call returns (its files_at folder):",
        "`python -m training.device_kit collect --files FILES_AT --output runs/gpu`.",
    ]
    return "\n".join(lines) + "\n"


def pack(
    mixture: str,
    kit: Path,
    *,
    student: Path,
    news_pairs: Path | None = None,
    teacher: Path | None = None,
    wheels: bool = True,
    eval_sets: Iterable[str] | None = None,
) -> list[Call]:
    """Write the kit (see the module's docstring) and its plan; returns the calls."""
    from training.evaluate import EVAL_SETS

    if kit.exists():
        shutil.rmtree(kit)
    staging = kit / "staging"
    if teacher is None:
        from training.teacher import mpnet_base_path

        teacher = mpnet_base_path()
    pack_model(Path(teacher), staging / "teacher", PART_BYTES)
    embeddings = [
        name
        for name in _tensor_names(student / "model.safetensors")
        if name.endswith("word_embeddings.weight")
    ]
    pack_model(student, staging / "student", PART_BYTES, only=embeddings)
    data = kit / "data"
    counts = materialise(mixture, data, EVAL_SETS if eval_sets is None else eval_sets)
    if news_pairs is not None:
        shutil.copy2(news_pairs, data / "news-pairs.jsonl")
    with tarfile.open(staging / "data.tar.xz", "w:xz", preset=9) as archive:
        archive.add(data, arcname="data")
    shutil.rmtree(data)
    if wheels:
        download_wheels(staging / "wheels")
    manifest = {
        "mixture": mixture,
        "student": str(student),
        "teacher": str(teacher),
        "rows": counts,
        "news_pairs": str(news_pairs) if news_pairs else None,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    shutil.copy2(staging / "manifest.json", kit / "manifest.json")
    tree = tree_bytes() - sum(path.stat().st_size for path in shipped_model_files())
    calls = distribute(staging, kit, CALL_LIMIT - tree - MARGIN)
    (kit / "PLAN.md").write_text(plan_text(calls, tree, manifest))
    return calls


def _tensor_names(path: Path) -> list[str]:
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as handle:
        return list(handle.keys())


def unpack(kit: Path, output: Path) -> Path:
    """On the machine: the call folders merged, both models rebuilt, the data unpacked."""
    merged = merge_calls(kit, output / "merged")
    unpack_model(merged / "teacher", output / "teacher")
    unpack_model(merged / "student", output / "student")
    with tarfile.open(merged / "data.tar.xz") as archive:
        archive.extractall(output, filter="data")
    return output


def send(run: Path, output: Path) -> list[Path]:
    """On the machine: what the run made, as files the device tool returns (<= 8, <= 16 MiB each):
    the student's weights in fp16 parts, and one archive of everything small (soft-label arrays and
    their sidecars, evaluations, logs, the student's config and tokenizer). Safe to call again as the
    run goes on: each call writes what exists by then."""
    from safetensors.numpy import load_file

    output.mkdir(parents=True, exist_ok=True)
    sent: list[Path] = []
    weights = run / "student" / "final" / "model.safetensors"
    if weights.exists():
        tensors = {
            name: value.astype(np.float16) if value.dtype.kind == "f" else value
            for name, value in load_file(str(weights)).items()
        }
        sent += save_in_parts(tensors, output / "student.safetensors", PART_BYTES)
    small = [
        path
        for path in run.rglob("*")
        if path.is_file()
        and (
            path.suffix in {".npy", ".log"}
            or path.name.endswith((".meta.json", "-eval.json"))
            or (
                path.parent == run / "student" / "final"
                and path.name != "model.safetensors"
                and path.stat().st_size < 4 * MiB
            )
        )
        and "checkpoint-" not in str(path)
    ]
    archive_path = output / "results.tar.xz"
    with tarfile.open(archive_path, "w:xz") as archive:
        for path in small:
            archive.add(path, arcname=str(path.relative_to(run)))
    sent.append(archive_path)
    too_big = [path for path in sent if path.stat().st_size > RETURN_FILE_LIMIT]
    if too_big:
        raise ValueError(f"larger than the device tool returns: {too_big}")
    return sent


def collect(files: Path, output: Path, kit: Path) -> Path:
    """Back here: the student as a model folder (``output/student``, fp16 like the shipped one) and
    the teacher's soft labels as ``output/soft_labels/*.npy`` + ``.meta.json`` whose ``dataset`` is
    the mixture spec again (it was the kit's local copy there), checked against the pairs the spec
    gives here."""
    from safetensors.numpy import save_file

    from training.teacher import soft_labels_from_array

    manifest = json.loads((kit / "manifest.json").read_text())
    output.mkdir(parents=True, exist_ok=True)
    with tarfile.open(files / "results.tar.xz") as archive:
        archive.extractall(output / "results", filter="data")
    parts = sorted(files.glob("student.safetensors.*"))
    if parts:
        student = output / "student"
        shutil.copytree(output / "results" / "student" / "final", student, dirs_exist_ok=True)
        save_file(load_parts(parts), str(student / "model.safetensors"), metadata={"format": "pt"})
    kept = output / "soft_labels"
    kept.mkdir(exist_ok=True)
    for array in sorted((output / "results").glob("*.jsonl.npy")):
        meta = json.loads(array.with_suffix(".meta.json").read_text())
        if "pairs_file" in meta:
            meta["pairs_file"] = manifest.get("news_pairs") or meta["pairs_file"]
        else:
            meta["dataset"] = manifest["mixture"]
        name = array.name.removesuffix(".jsonl.npy")
        shutil.copy2(array, kept / f"{name}.npy")
        (kept / f"{name}.meta.json").write_text(json.dumps(meta, indent=1) + "\n")
        rows = soft_labels_from_array(kept / f"{name}.npy", output / f"{name}.jsonl")
        logger.info("%s: %d soft-label rows, the pairs the spec gives here", name, rows)
    return output


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.device_kit", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    packing = commands.add_parser("pack", help="write .kit/ and its PLAN.md (here)")
    packing.add_argument("--mixture", required=True, help="the training mixture spec, as --dataset takes it")
    packing.add_argument("--kit", type=Path, default=REPO / ".kit")
    packing.add_argument("--student", type=Path, default=REPO / "models" / "contradict-minilm-l6-nli")
    packing.add_argument("--teacher", type=Path, default=None, help="default: all-mpnet-base-v2 from PyPI")
    packing.add_argument("--news_pairs", type=Path, default=None, help="training.news_pairs output to carry")
    packing.add_argument(
        "--no_wheels", action="store_true", help="carry no wheels (tests, a machine that has them)"
    )
    packing.add_argument(
        "--eval_sets", default="all", help="held-out sets to carry: all, or source/split,..."
    )
    commands.add_parser("slim", help="delete the shipped weights from the working tree (before the calls)")
    commands.add_parser("restore", help="put them back from the commit (after the calls)")
    speccing = commands.add_parser("spec", help="on the machine: the mixture spec over the unpacked data")
    speccing.add_argument("--data", type=Path, required=True)
    unpacking = commands.add_parser("unpack", help="on the machine: rebuild models and data")
    unpacking.add_argument("--kit", type=Path, default=REPO / ".kit")
    unpacking.add_argument("--output", type=Path, required=True)
    sending = commands.add_parser("send", help="on the machine: the run's results as returnable files")
    sending.add_argument("--run", type=Path, required=True)
    sending.add_argument("--output", type=Path, required=True)
    collecting = commands.add_parser(
        "collect", help="here: the returned files as a model folder and soft labels"
    )
    collecting.add_argument("--files", type=Path, required=True)
    collecting.add_argument("--kit", type=Path, default=REPO / ".kit")
    collecting.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    configure_logging()
    if args.command == "pack":
        calls = pack(
            args.mixture,
            args.kit,
            student=args.student,
            teacher=args.teacher,
            news_pairs=args.news_pairs,
            wheels=not args.no_wheels,
            eval_sets=None if args.eval_sets == "all" else args.eval_sets.split(","),
        )
        print((args.kit / "PLAN.md").read_text())
        logger.info("%d calls", len(calls))
    elif args.command == "slim":
        print(f"working tree now {slim() / MiB:.1f} MiB")
    elif args.command == "restore":
        print(f"working tree now {restore() / MiB:.1f} MiB")
    elif args.command == "spec":
        print(local_spec(args.data))
    elif args.command == "unpack":
        print(unpack(args.kit, args.output))
    elif args.command == "send":
        for path in send(args.run, args.output):
            print(f"{path} {path.stat().st_size / MiB:.1f} MiB")
    else:
        print(collect(args.files, args.output, args.kit))


if __name__ == "__main__":
    main()
