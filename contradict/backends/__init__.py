"""Inference backends behind the one scoring core: the part of :class:`contradict.scorer.NLIScorer`
that turns padded model inputs into logits, and nothing else.

Three backends: ``torch`` (any Hugging Face sequence classifier, any device, the training stack),
``onnx`` (the model's ONNX export, ``model.onnx`` beside the weights, on ONNX Runtime's CPU
provider) and ``openvino`` (the same file compiled by OpenVINO's CPU plugin, bf16 where the CPU
computes it natively). The two CPU runtimes import neither torch nor transformers, so a server on
them stays small and starts fast. :func:`choose_backend` decides which one serves; everything else
(tokenisation, batching, label mapping, calibration, the decision rule) stays in the scorer.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from contradict.backends.artifact import OnnxArtifact, StaleExportError

logger = logging.getLogger(__name__)

BackendName = Literal["auto", "torch", "onnx", "openvino"]
BACKEND_NAMES: tuple[str, ...] = ("auto", "torch", "onnx", "openvino")
# What ``auto`` tries first, each on the same ``model.onnx``: the Python package each one needs.
EXPORT_RUNTIMES: dict[str, str] = {"openvino": "openvino", "onnx": "onnxruntime"}


class Backend(Protocol):
    """Logits from padded int64 inputs (``input_ids``, ``attention_mask``, ``token_type_ids``)."""

    name: str
    id2label: dict[int, str]
    max_positions: int  # the model's position limit: tokens per pair never exceed it
    pad_multiple: int  # forward passes are padded to a multiple of this many tokens

    def logits(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        """float32 logits of shape (batch, labels), in the model's own label order."""
        ...

    def describe(self) -> dict[str, str]:
        """What serves, for ``GET /v1/model`` and the logs (backend, file, threads)."""
        ...


class BackendUnavailableError(RuntimeError):
    """The backend asked for cannot serve this model here (missing package, file or stale export)."""


def installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def choose_backend(choice: str, folder: Path | None, device: str, skip: Collection[str] = ()) -> str:
    """``torch``, ``openvino`` or ``onnx`` for the ``choice`` of the settings.

    ``auto`` takes the first runtime of :data:`EXPORT_RUNTIMES` that can serve exactly this model (a
    CPU device, its package installed, an export whose recorded weights checksum matches the weights
    beside it) and torch otherwise: OpenVINO first because on the CPU measured (docs/benchmarks.md,
    "Backends": an AVX512-BF16 EPYC) it ran 1.04x ONNX Runtime in fp32 and 1.8x in its default bf16. A stale
    export is logged as a warning and passed over, as are the runtimes in ``skip`` (ones that already
    failed to load this export, :func:`open_backend`). A forced runtime that cannot serve is an error,
    never a silent fall-back.
    """
    if choice not in BACKEND_NAMES:
        raise ValueError(f"unknown backend {choice!r}; expected one of {', '.join(BACKEND_NAMES)}")
    if choice == "torch":
        return "torch"
    problem = _export_problem(folder, device)
    for runtime, package in EXPORT_RUNTIMES.items():
        if choice not in ("auto", runtime) or runtime in skip:
            continue
        missing = None if installed(package) else f"the {package} package is not installed"
        if problem is None and missing is None:
            return runtime
        if choice == runtime:
            raise BackendUnavailableError(f"backend {runtime} cannot serve: {problem or missing}")
    if problem is None and skip:
        problem = f"{', '.join(skip)} could not load it"
    elif problem is None:
        problem = f"none of {', '.join(sorted(set(EXPORT_RUNTIMES.values())))} is installed"
    if not isinstance(problem, _NotExported):
        logger.warning("not using the ONNX export (%s); scoring with torch", problem)
    return "torch"


class _NotExported(str):
    """A reason that is the ordinary case (no export at all), not worth a warning under ``auto``."""


def _export_problem(folder: Path | None, device: str) -> str | None:
    """Why ``model.onnx`` cannot serve this model on this device (whichever runtime), or None."""
    if device != "cpu":
        return f"the ONNX export runs on CPU only, device is {device!r}"
    if folder is None:
        return _NotExported("the model is not a local folder")
    artifact = OnnxArtifact(folder)
    if not artifact.exists():
        return _NotExported(f"{folder} has no {artifact.model_path.name} (python -m training.export_onnx)")
    try:
        artifact.check_fresh()
    except StaleExportError as exc:
        return str(exc)
    return None


def open_backend(
    choice: str,
    model_name_or_path: str,
    folder: Path | None,
    *,
    device: str,
    num_threads: int | None,
    precision: str = "auto",
) -> Backend:
    """The backend for the setting's ``choice``, loaded.

    Under ``auto``, a runtime that fails to load the export (a graph OpenVINO cannot compile, a file
    ONNX Runtime rejects) is logged as a warning and the next one is tried, down to torch: the service
    starts on the fastest runtime that works. A forced runtime's failure is raised as it is.
    """
    failed: list[str] = []
    while True:
        chosen = choose_backend(choice, folder, device, skip=failed)
        try:
            return _load(chosen, model_name_or_path, folder, device, num_threads, precision)
        except Exception as exc:
            if choice != "auto" or chosen not in EXPORT_RUNTIMES:
                raise
            logger.warning(
                "backend %s could not load %s (%s: %s); trying the next one",
                chosen,
                folder,
                type(exc).__name__,
                exc,
            )
            failed.append(chosen)


def _load(name: str, model: str, folder: Path | None, device: str, threads: int | None, hint: str) -> Backend:
    """Load the backend :func:`choose_backend` chose (``hint``: the openvino backend's precision)."""
    if name in EXPORT_RUNTIMES:
        assert folder is not None  # choose_backend only picks an export runtime for a local folder
        if name == "openvino":
            from contradict.backends.openvino_backend import OpenVinoBackend

            return OpenVinoBackend(OnnxArtifact(folder), num_threads=threads, precision=hint)
        from contradict.backends.onnx_backend import OnnxBackend

        return OnnxBackend(OnnxArtifact(folder), num_threads=threads)
    if importlib.util.find_spec("torch") is None:
        raise BackendUnavailableError(
            "torch is not installed and the model has no usable ONNX export "
            "(python -m training.export_onnx --model FOLDER)"
        )
    from contradict.backends.torch_backend import TorchBackend

    return TorchBackend(model, device=device, num_threads=threads)


__all__ = [
    "BACKEND_NAMES",
    "Backend",
    "BackendName",
    "BackendUnavailableError",
    "OnnxArtifact",
    "StaleExportError",
    "choose_backend",
    "open_backend",
]
