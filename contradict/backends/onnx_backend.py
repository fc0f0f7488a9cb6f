"""The ONNX Runtime backend: the model's ONNX export (training.export_onnx) on the CPU execution provider.

Imports neither torch nor transformers: the label names and position limit come from the folder's
``config.json``, read as plain JSON.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import onnxruntime as ort

from contradict.backends.artifact import OnnxArtifact


class OnnxBackend:
    """An ``onnxruntime.InferenceSession`` over ``model.onnx``, checked fresh by the caller."""

    name = "onnx"
    pad_multiple = 1  # exact padding; bucketed shapes were measured on OpenVINO only

    def __init__(self, artifact: OnnxArtifact, *, num_threads: int | None = None):
        self.id2label, self.max_positions = artifact.labels_and_positions()
        options = ort.SessionOptions()
        # One forward pass at a time (the batcher's worker, the CLI): parallel within an operator only.
        options.intra_op_num_threads = num_threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.threads = options.intra_op_num_threads
        self.path = artifact.model_path
        self.scheme = artifact.scheme()
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self._inputs = {item.name for item in self.session.get_inputs()}
        self._output = self.session.get_outputs()[0].name

    def logits(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        feed = {key: value for key, value in features.items() if key in self._inputs}
        return np.asarray(self.session.run([self._output], feed)[0], dtype=np.float32)

    def describe(self) -> dict[str, str]:
        return {
            "backend": self.name,
            "file": self.path.name,
            "scheme": self.scheme,
            "threads": str(self.threads),
        }
