"""The OpenVINO backend: the same ``model.onnx`` (training.export_onnx) compiled by OpenVINO's CPU plugin.

Why a second runtime for the same file: on CPUs that compute bfloat16 natively (AVX512-BF16, AMX),
OpenVINO runs the matrix products in bf16 with fp32 accumulation, about twice the fp32 rate, without
int8's per-tensor activation scales (which change labels on this model, docs/benchmarks.md); a
pair's scores do not depend on its batch-mates. Where the CPU has no native bf16, OpenVINO computes
in fp32 (its source prefers f16 on CPUs with native fp16, not seen here; ``describe()`` names what
it chose). Imports neither torch, transformers nor onnxruntime.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

import numpy as np
import openvino as ov

from contradict.backends.artifact import OnnxArtifact


def compile_for_cpu(model: str | ov.Model, threads: int, precision: str) -> tuple[ov.CompiledModel, str]:
    """``model`` (a file or a converted model) compiled for one forward pass at a time (the batcher's
    worker, the CLI, the bi-encoder) with all ``threads`` inside it, and the precision the plugin
    chose: ``f32`` or ``bf16`` as asked, ``auto`` leaves it its own choice."""
    properties: dict[str, object] = {
        "PERFORMANCE_HINT": "LATENCY",
        "NUM_STREAMS": 1,
        "INFERENCE_NUM_THREADS": threads,
    }
    if precision != "auto":
        properties["INFERENCE_PRECISION_HINT"] = precision
    compiled = ov.Core().compile_model(model, "CPU", properties)
    return compiled, compiled.get_property("INFERENCE_PRECISION_HINT").to_string()


class OpenVinoBackend:
    """A compiled OpenVINO model over ``model.onnx``, checked fresh by the caller."""

    name = "openvino"
    # The CPU plugin prepares kernels per input shape; padding each pass to a multiple of 16 tokens
    # means fewer shapes. Measured (Xeon with AMX, bf16, micro-batches of 32 random pairs in passes
    # of 8, as the service runs them): 453 / 482 pairs/s against 391 / 436 with exact padding.
    pad_multiple = 16

    def __init__(self, artifact: OnnxArtifact, *, num_threads: int | None = None, precision: str = "auto"):
        self.id2label, self.max_positions = artifact.labels_and_positions()
        self.path = artifact.model_path
        self.scheme = artifact.scheme()
        self.threads = num_threads or os.cpu_count() or 1
        self.compiled, self.precision = compile_for_cpu(str(self.path), self.threads, precision)
        self._inputs = {port.get_any_name() for port in self.compiled.inputs}
        self._requests = threading.local()  # an infer request is not safe to share between threads

    def logits(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        request = getattr(self._requests, "request", None)
        if request is None:
            request = self._requests.request = self.compiled.create_infer_request()
        feed = {key: value for key, value in features.items() if key in self._inputs}
        return np.array(request.infer(feed)[0], dtype=np.float32)  # a copy: the request reuses its buffer

    def describe(self) -> dict[str, str]:
        return {
            "backend": self.name,
            "file": self.path.name,
            "scheme": self.scheme,
            "precision": self.precision,
            "threads": str(self.threads),
        }
