"""The block-wise int8 export scheme (``int8-blockwise``) on a tiny model: it exports MatMulNBits
nodes, scores close to torch through the scoring core, and a pair's scores do not depend on the
other pairs in its batch (int8 activation scales per token and block, unlike ``int8-dynamic``).
"""

from __future__ import annotations

import onnx

from contradict.backends import OnnxArtifact
from tests.core.test_backends import PAIRS
from tests.support.models import assert_export_scores_like_torch, build_varied_model
from training.export_onnx import export_onnx

# Measured on this tiny model (random fp32 weights of size 0.2, hidden size 32, two layers): largest
# probability difference from torch 0.0099, labels identical (int8-dynamic: 0.012 and 3 of 40 argmax
# labels changed; compact: 0.0033). The bound leaves room for other CPUs' int8 kernels; the shipped
# model's agreement on the 6,255 VitaminC test pairs is in docs/benchmarks.md.
INT8_PROBABILITY_TOLERANCE = 0.03


def test_int8_blockwise_export_scores_close_to_torch(tiny_model_dir, tmp_path):
    folder = build_varied_model(tiny_model_dir, tmp_path / "model", PAIRS)
    manifest = export_onnx(folder, scheme="int8-blockwise", check=0)
    assert manifest["scheme"] == "int8-blockwise" and OnnxArtifact(folder).check_fresh()
    operators = [node.op_type for node in onnx.load(str(OnnxArtifact(folder).model_path)).graph.node]
    assert operators.count("MatMulNBits") == 6  # per layer: attention output, both feed-forward MatMuls

    assert_export_scores_like_torch(folder, PAIRS, INT8_PROBABILITY_TOLERANCE)
