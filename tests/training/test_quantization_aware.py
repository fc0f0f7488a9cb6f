"""Quantisation-aware alignment: the fake quantiser rounds exactly as ONNX Runtime's dynamic int8
ops do, the wrapped model is the original with rounding switched off, and a short real run on a
tiny random BERT writes a loadable model folder that keeps its source's records."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.support.corpus import write_jsonl
from training import quantization_aware
from training.export_onnx import quantize_int8_dynamic
from training.quantization_aware import (
    FakeQuantisedLinear,
    QuantizationArguments,
    fake_quantised_activation,
    fake_quantised_weight,
    unwrap,
    wrap,
)


def onnx_dynamic_round_trip(values: np.ndarray) -> np.ndarray:
    """``DynamicQuantizeLinear`` then ``DequantizeLinear``, run by ONNX Runtime itself."""
    import onnxruntime
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("DynamicQuantizeLinear", ["x"], ["q", "scale", "zero"]),
            helper.make_node("DequantizeLinear", ["q", "scale", "zero"], ["y"]),
        ],
        "round_trip",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(values.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(values.shape))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(["y"], {"x": values})[0]


@pytest.mark.parametrize("shift", [0.0, 3.0, -3.0])  # mixed signs, all positive, all negative
def test_the_activation_rounding_is_onnx_runtimes_dynamic_quantisation(shift):
    rng = np.random.default_rng(0)
    values = (rng.standard_normal((4, 7, 16)) + shift).astype(np.float32)
    values[0, 0, 3] = 25.0 + shift  # an outlier channel, the case that matters here
    ours = fake_quantised_activation(torch.from_numpy(values)).numpy()
    theirs = onnx_dynamic_round_trip(values)
    step = (max(values.max(), 0) - min(values.min(), 0)) / 255
    assert np.abs(ours - theirs).max() <= 1e-5 * max(1.0, np.abs(values).max())
    assert np.abs(ours - values).max() <= step / 2 + 1e-6  # rounding, not something coarser


def export_weight_round_trip(weight: np.ndarray, tmp_path) -> np.ndarray:
    """``weight`` (out x in, as a ``Linear`` holds it) through the export's own ``int8-dynamic``
    quantiser as one MatMul's constant, read back from the file and dequantised."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul")],
        "one_matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, weight.shape[1]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, weight.shape[0]])],
        [numpy_helper.from_array(weight.T.copy(), "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "float.onnx"))
    quantize_int8_dynamic(tmp_path / "float.onnx", tmp_path / "int8.onnx")
    graph = onnx.load(str(tmp_path / "int8.onnx")).graph
    stored = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    integers = next(value for value in stored.values() if value.dtype == np.int8 and value.ndim == 2)
    scales = next(value for name, value in stored.items() if name.endswith("scale") and value.ndim == 1)
    return (integers.astype(np.float32) * scales).T


def test_weights_round_as_the_export_stores_them_and_gradients_pass_through(tmp_path):
    weight = torch.tensor([[0.5, -1.0, 0.25, 0.3], [100.0, 1.0, -50.0, 7.7]], requires_grad=True)
    rounded = fake_quantised_weight(weight)
    theirs = export_weight_round_trip(weight.detach().numpy(), tmp_path)
    np.testing.assert_allclose(rounded.detach().numpy(), theirs, rtol=0, atol=1e-6)
    assert rounded[0, 1].item() == pytest.approx(-1.0) and rounded[1, 0].item() == pytest.approx(100.0)
    rounded.sum().backward()
    assert torch.equal(weight.grad, torch.ones_like(weight))  # straight through


def test_wrapping_swaps_every_quantised_matmul_and_is_the_original_when_off(tiny_model_dir):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    features = tokenizer(["The museum opens at nine."], ["It is closed."], return_tensors="pt")
    with torch.no_grad():
        before = model(**features).logits
        wrapped = wrap(model)
        linears = [switch for switch in wrapped if isinstance(switch, FakeQuantisedLinear)]
        assert len(linears) == 6 * model.config.num_hidden_layers + 2  # + pooler, classifier
        assert len(wrapped) - len(linears) == 5  # 3 embedding tables, LayerNorm weight and bias
        quantised = model(**features).logits
        for module in wrapped:
            module.enabled = False
        assert torch.equal(model(**features).logits, before)
        assert not torch.equal(quantised, before)  # the rounding acts
    unwrap(model)
    assert not any(isinstance(module, FakeQuantisedLinear) for module in model.modules())
    with torch.no_grad():
        assert torch.equal(model(**features).logits, before)  # the float weights, not rounded copies
    assert set(model.state_dict()) == set(
        AutoModelForSequenceClassification.from_pretrained(tiny_model_dir).state_dict()
    )


def test_a_short_run_writes_a_model_folder_that_keeps_the_sources_records(tiny_model_copy, tmp_path):
    from transformers import AutoModelForSequenceClassification

    (tiny_model_copy / "calibration.json").write_text(json.dumps({"temperature": 1.5, "threshold": 0.4}))
    data = write_jsonl(
        tmp_path / "pairs.jsonl",
        [
            {
                "premise": f"The council met on day {n}.",
                "hypothesis": f"The council met {n} times.",
                "label": label,
            }
            for n, label in zip(range(12), ["entailment", "neutral", "contradiction"] * 4, strict=True)
        ],
    )
    output = quantization_aware.align(
        QuantizationArguments(
            model=str(tiny_model_copy),
            output=str(tmp_path / "aligned"),
            dataset=str(data),
            max_steps=2,
            batch_size=4,
        )
    )
    assert json.loads((output / "calibration.json").read_text())["threshold"] == 0.4
    assert json.loads((output / "quantization_aware.json").read_text())["max_steps"] == 2
    model = AutoModelForSequenceClassification.from_pretrained(output)
    assert model.dtype == torch.float32  # stored fp16, loaded fp32 like the shipped weights
    source = AutoModelForSequenceClassification.from_pretrained(tiny_model_copy)
    assert model.config.id2label == source.config.id2label
