"""The ``int8-split`` export scheme: outlier activation channels split off into fp32 MatMuls.

A tiny model gets one LayerNorm channel 15x the others, as the shipped model's feed-forward inputs
have (docs/benchmarks.md); the rewrite must compute the same as the graph it came from, pick that channel, and
the int8 export must score closer to torch than plain ``int8-dynamic`` does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime as ort
import pytest
import torch
from transformers import AutoModelForSequenceClassification

from contradict.backends import OnnxArtifact
from tests.core.test_backends import PAIRS
from tests.support.models import build_varied_model, copy_tokenizer
from training.export_onnx import calibration_feeds, export_fp32, export_onnx, fuse
from training.outlier_split import channel_peaks, outlier_channels, split_outliers

OUTLIER_CHANNEL = 5
OUTLIER_GAIN = 15.0


@pytest.fixture(scope="module")
def outlier_model(tiny_model_dir, tmp_path_factory) -> Path:
    """The varied tiny model with layer 0's attention-output LayerNorm scaling one channel 15x."""
    folder = build_varied_model(tiny_model_dir, tmp_path_factory.mktemp("varied"), PAIRS)
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    with torch.no_grad():
        model.bert.encoder.layer[0].attention.output.LayerNorm.weight[OUTLIER_CHANNEL] = OUTLIER_GAIN
    target = tmp_path_factory.mktemp("outlier")
    model.save_pretrained(target)
    copy_tokenizer(folder, target)
    return target


def run(model: onnx.ModelProto | Path, feeds: list[dict[str, np.ndarray]]) -> list[np.ndarray]:
    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    names = {item.name for item in session.get_inputs()}
    return [session.run(None, {k: v for k, v in feed.items() if k in names})[0] for feed in feeds]


def test_outlier_channels_are_the_peaks_above_the_ratio_largest_first():
    peaks = np.array([1.0, 1.0, 1.0, 10.0, 1.0, 5.0, 1.0, 2.5])
    assert outlier_channels(peaks, ratio=2.0, max_channels=8) == [3, 5, 7]
    assert outlier_channels(peaks, ratio=2.0, max_channels=1) == [3]
    assert outlier_channels(peaks, ratio=20.0, max_channels=8) == []


def test_the_split_graph_computes_what_the_original_does(outlier_model, tmp_path):
    export_fp32(outlier_model, tmp_path / "fp32.onnx")
    config = AutoModelForSequenceClassification.from_pretrained(outlier_model).config.to_dict()
    fuse(tmp_path / "fp32.onnx", tmp_path / "fused.onnx", config)
    feeds = calibration_feeds(outlier_model)
    model = onnx.load(str(tmp_path / "fused.onnx"))
    split = split_outliers(model, channel_peaks(tmp_path / "fused.onnx", feeds))

    feed_forward_in = [item for item in split if "layer.0/intermediate" in item.node]
    assert len(feed_forward_in) == 1 and OUTLIER_CHANNEL in feed_forward_in[0].channels
    assert feed_forward_in[0].peak_ratio > 5
    assert sum(node.name == feed_forward_in[0].side_node for node in model.graph.node) == 1
    for original, rewritten in zip(run(tmp_path / "fused.onnx", feeds), run(model, feeds)):
        np.testing.assert_allclose(rewritten, original, rtol=0, atol=1e-4)


def test_int8_split_scores_closer_to_torch_than_int8_dynamic(outlier_model, tmp_path):
    from contradict.scorer import NLIScorer

    reference = NLIScorer(str(outlier_model), backend="torch").probabilities(PAIRS)
    differences = {}
    for scheme in ("int8-dynamic", "int8-split"):
        folder = Path(shutil.copytree(outlier_model, tmp_path / scheme))
        manifest = export_onnx(folder, scheme=scheme, check=0)
        assert manifest["scheme"] == scheme and OnnxArtifact(folder).check_fresh()
        low, high = manifest["int8_weight_range"]  # the record says how the weights were rounded
        graph = onnx.load(str(folder / "model.onnx")).graph
        quantized = {node.input[1] for node in graph.node if node.op_type == "MatMulInteger"}
        weights = [onnx.numpy_helper.to_array(t) for t in graph.initializer if t.name in quantized]
        assert weights and min(w.min() for w in weights) == low and max(w.max() for w in weights) == high
        scorer = NLIScorer(str(folder), backend="onnx")
        assert scorer.info()["runtime"]["scheme"] == scheme
        probabilities = scorer.probabilities(PAIRS)
        differences[scheme] = float(np.abs(probabilities - reference).max())
    assert any("layer.0/intermediate" in item["matmul"] for item in manifest["outlier_split"])
    # the tiny model has two layers: the first one's feed-forward down-projection stays fp32
    assert manifest["fp32_matmuls"] == ["/model/bert/encoder/layer.0/output/dense/MatMul"]
    kept = [node for node in graph.node if node.name == manifest["fp32_matmuls"][0]]
    assert [node.op_type for node in kept] == ["MatMul"]
    assert any("layer.1/output/dense" in node.name for node in graph.node if node.op_type == "MatMulInteger")
    assert differences["int8-split"] < differences["int8-dynamic"]
