"""Copies of a model folder, each with its own ONNX export scheme, for the benchmark scripts.

Why copies: the scoring core serves the ``model.onnx`` beside the weights, and benchmarks must not
write into the shipped model's folder. Each scheme gets ``WORK/SCHEME/`` (weights, tokenizer,
calibration, metrics copied; ``model.onnx`` exported there with ``training.export_onnx``); a copy
whose record already names that scheme and the same weights is reused, not exported again.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from contradict.backends.artifact import (
    MANIFEST_FILE,
    ONNX_FILE,
    OnnxArtifact,
    StaleExportError,
    weights_checksums,
)

DEFAULT_WORK = Path("/tmp/contradict-onnx-variants")


def scheme_folder(model: Path, scheme: str, work: Path = DEFAULT_WORK) -> Path:
    """``work/scheme``: ``model``'s files with an ONNX export of ``scheme`` (exported when missing)."""
    folder = work / scheme
    try:
        record = OnnxArtifact(folder).check_fresh()
        if record.get("scheme") == scheme and record["weights_sha256"] == weights_checksums(model):
            return folder
    except StaleExportError:
        pass
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(model, folder, ignore=shutil.ignore_patterns(ONNX_FILE, MANIFEST_FILE, "*.partial"))
    from training.export_onnx import export_onnx

    export_onnx(folder, scheme=scheme)
    return folder
