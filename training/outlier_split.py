"""Split a graph's outlier activation channels off its MatMuls, so that the rest quantises well.

Why: the model's activations have a few channels far larger than the rest (the LayerNorm outputs
that feed the feed-forward layer reach 13-15x the median channel's peak, a GELU output 13x), and
``quantize_dynamic`` rounds a MatMul's input with one scale per tensor, which those channels set;
every other channel is then rounded coarsely (96.4% same labels as torch on model 3.3.0). As in
LLM.int8()'s mixed-precision decomposition, but with the channels fixed once from calibration
pairs (they come from LayerNorm weights, so they do not move from input to input), each MatMul
``y = x @ W`` whose input has such channels ``S`` becomes

    y = (x * mask_S) @ W  +  x[..., S] @ W[S, :]

where the first MatMul (all channels but ``S``, zeroed) is quantised as before and the second,
``len(S)`` rows only, stays fp32. Measured on model 3.3.0 (``python -m training.export_onnx
--scheme int8-split``, docs/benchmarks.md): same labels as torch on 96.4% of 2,000 VitaminC test
pairs with every MatMul int8 as ``int8-dynamic`` -> 98.2% after the split (fused attention int8
too) -> 99.02% of all 6,255 with the fused attention left fp32, the ``int8-split`` scheme
(98.75% on model 3.4.0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# A channel is an outlier when its peak |x| over the calibration pairs exceeds RATIO x the median
# channel's peak; at most MAX_CHANNELS per tensor. On model 3.3.0 (attention fp32, all 6,255 VitaminC
# test pairs): ratio 2 / 32 channels 99.02% same labels, 2 / 64 98.86%, 1.5 / 64 99.04%, 1.5 / 96
# 99.01%: past the few large channels more splitting buys nothing. 2 / 32 splits 265 of the 13,824
# input channels of the 18 MatMuls (the export's record, model.onnx.json, lists them).
RATIO = 2.0
MAX_CHANNELS = 32


@dataclass(frozen=True)
class SplitMatMul:
    """One MatMul that was split: its name, its fp32 side MatMul's name, the input channels that go there."""

    node: str
    side_node: str
    channels: tuple[int, ...]
    peak_ratio: float  # the largest channel's peak / the median channel's peak, before the split


def weight_matmuls(model: Any) -> list[Any]:
    """MatMul nodes whose second input is a constant weight (initializer)."""
    weights = {tensor.name for tensor in model.graph.initializer}
    return [node for node in model.graph.node if node.op_type == "MatMul" and node.input[1] in weights]


def channel_peaks(model_path: Path, feeds: Iterable[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-channel peak |x| of every weight MatMul's input over the calibration batches."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    model = onnx.load(str(model_path))
    names = sorted({node.input[0] for node in weight_matmuls(model)})
    graph_outputs = {output.name for output in model.graph.output}
    for name in names:
        if name not in graph_outputs:
            model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    inputs = {item.name for item in session.get_inputs()}
    peaks: dict[str, np.ndarray] = {}
    for feed in feeds:
        values = session.run(names, {key: value for key, value in feed.items() if key in inputs})
        for name, value in zip(names, values):
            peak = np.abs(value).reshape(-1, value.shape[-1]).max(axis=0)
            peaks[name] = np.maximum(peaks[name], peak) if name in peaks else peak
    if not peaks:
        raise ValueError("no calibration batches: the outlier channels cannot be found")
    return peaks


def outlier_channels(peaks: np.ndarray, ratio: float = RATIO, max_channels: int = MAX_CHANNELS) -> list[int]:
    median = float(np.median(peaks))
    if median <= 0:
        return []
    largest_first = np.argsort(-peaks, kind="stable")[:max_channels]
    return sorted(int(index) for index in largest_first if peaks[index] > ratio * median)


def split_outliers(
    model: Any, peaks: Mapping[str, np.ndarray], ratio: float = RATIO, max_channels: int = MAX_CHANNELS
) -> list[SplitMatMul]:
    """Rewrite ``model`` (an ``onnx.ModelProto``, in place) as the module docstring says; returns
    the split MatMuls (their ``side_node`` must stay out of quantisation)."""
    from onnx import helper, numpy_helper

    weights = {tensor.name: tensor for tensor in model.graph.initializer}
    new_nodes, new_weights, split = [], [], []
    rewritten_inputs: dict[str, str] = {}
    for index, node in enumerate(weight_matmuls(model)):
        source = node.input[0]
        channels = outlier_channels(peaks[source], ratio, max_channels)
        if not channels:
            continue
        if source not in rewritten_inputs:  # one mask and one gather per tensor, shared by its MatMuls
            tag = f"outlier_split_{len(rewritten_inputs)}"
            mask = np.ones(len(peaks[source]), dtype=np.float32)
            mask[channels] = 0.0
            new_weights += [
                numpy_helper.from_array(mask, f"{tag}_mask"),
                numpy_helper.from_array(np.asarray(channels, dtype=np.int64), f"{tag}_channels"),
            ]
            new_nodes += [
                helper.make_node("Mul", [source, f"{tag}_mask"], [f"{tag}_rest"], name=f"{tag}_mask_mul"),
                helper.make_node(
                    "Gather", [source, f"{tag}_channels"], [f"{tag}_outliers"], axis=-1, name=f"{tag}_gather"
                ),
            ]
            rewritten_inputs[source] = tag
        tag = rewritten_inputs[source]
        rows = numpy_helper.to_array(weights[node.input[1]])[channels].astype(np.float32)
        rows_name = f"{node.input[1]}_outlier_rows_{index}"
        new_weights.append(numpy_helper.from_array(rows, rows_name))
        output = node.output[0]
        side = f"{node.name or f'matmul_{index}'}_outliers"
        node.input[0] = f"{tag}_rest"
        node.output[0] = f"{output}_rest"
        new_nodes += [
            helper.make_node("MatMul", [f"{tag}_outliers", rows_name], [f"{output}_outliers"], name=side),
            helper.make_node("Add", [f"{output}_rest", f"{output}_outliers"], [output], name=f"{side}_add"),
        ]
        peak = peaks[source]
        split.append(SplitMatMul(node.name, side, tuple(channels), float(peak.max() / np.median(peak))))
    model.graph.initializer.extend(new_weights)
    model.graph.node.extend(new_nodes)
    _sort_topologically(model)
    return split


def _sort_topologically(model: Any) -> None:
    from onnxruntime.transformers.onnx_model import OnnxModel

    OnnxModel(model).topological_sort()
