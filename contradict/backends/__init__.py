"""Inference backends behind the one scoring core: the part of :class:`contradict.scorer.NLIScorer`
that turns padded model inputs into logits, and nothing else.

Two backends: ``torch`` (any Hugging Face sequence classifier, any device, the training stack) and
``onnx`` (the model's ONNX export, ``model.onnx`` beside the weights, on ONNX Runtime's
CPU provider). The ONNX backend imports neither torch nor transformers, so a server on it stays
small and starts fast. :func:`choose_backend` decides which one serves; everything else
(tokenisation, batching, label mapping, calibration, the decision rule) stays in the scorer.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from contradict.backends.artifact import OnnxArtifact, StaleExportError

logger = logging.getLogger(__name__)

BackendName = Literal["auto", "torch", "onnx"]
BACKEND_NAMES: tuple[str, ...] = ("auto", "torch", "onnx")


class Backend(Protocol):
    """Logits from padded int64 inputs (``input_ids``, ``attention_mask``, ``token_type_ids``)."""

    name: str
    id2label: dict[int, str]
    max_positions: int  # the model's position limit: tokens per pair never exceed it

    def logits(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        """float32 logits of shape (batch, labels), in the model's own label order."""
        ...

    def describe(self) -> dict[str, str]:
        """What serves, for ``GET /v1/model`` and the logs (backend, file, threads)."""
        ...


class BackendUnavailableError(RuntimeError):
    """The backend asked for cannot serve this model here (missing package, file or stale export)."""


def onnxruntime_installed() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def choose_backend(choice: str, folder: Path | None, device: str) -> str:
    """``torch`` or ``onnx`` for the ``choice`` of the settings (``auto``, ``torch``, ``onnx``).

    ``auto`` takes ONNX when it can serve exactly this model (a CPU device, onnxruntime installed, an
    export whose recorded weights checksum matches the weights beside it) and torch otherwise; a
    stale export is logged as a warning and passed over. A forced ``onnx`` that cannot serve is an
    error, never a silent fall-back.
    """
    if choice not in BACKEND_NAMES:
        raise ValueError(f"unknown backend {choice!r}; expected one of {', '.join(BACKEND_NAMES)}")
    if choice == "torch":
        return "torch"
    problem = _onnx_problem(folder, device)
    if problem is None:
        return "onnx"
    if choice == "onnx":
        raise BackendUnavailableError(f"backend onnx cannot serve: {problem}")
    if not isinstance(problem, _NotExported):
        logger.warning("not using the ONNX export (%s); scoring with torch", problem)
    return "torch"


class _NotExported(str):
    """A reason that is the ordinary case (no export at all), not worth a warning under ``auto``."""


def _onnx_problem(folder: Path | None, device: str) -> str | None:
    if device != "cpu":
        return f"the ONNX export runs on CPU only, device is {device!r}"
    if folder is None:
        return _NotExported("the model is not a local folder")
    artifact = OnnxArtifact(folder)
    if not artifact.exists():
        return _NotExported(f"{folder} has no {artifact.model_path.name} (python -m training.export_onnx)")
    if not onnxruntime_installed():
        return "the onnxruntime package is not installed"
    try:
        artifact.check_fresh()
    except StaleExportError as exc:
        return str(exc)
    return None


def load_backend(
    name: str, model_name_or_path: str, folder: Path | None, *, device: str, num_threads: int | None
) -> Backend:
    """Load the backend :func:`choose_backend` chose (``torch`` or ``onnx``)."""
    if name == "onnx":
        from contradict.backends.onnx_backend import OnnxBackend

        assert folder is not None  # choose_backend only picks onnx for a local folder
        return OnnxBackend(OnnxArtifact(folder), num_threads=num_threads)
    if importlib.util.find_spec("torch") is None:
        raise BackendUnavailableError(
            "torch is not installed and the model has no usable ONNX export "
            "(python -m training.export_onnx --model FOLDER)"
        )
    from contradict.backends.torch_backend import TorchBackend

    return TorchBackend(model_name_or_path, device=device, num_threads=num_threads)


__all__ = [
    "BACKEND_NAMES",
    "Backend",
    "BackendName",
    "BackendUnavailableError",
    "OnnxArtifact",
    "StaleExportError",
    "choose_backend",
    "load_backend",
]
