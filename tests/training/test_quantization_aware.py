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


def test_weights_round_to_int8_per_output_channel_and_gradients_pass_through():
    weight = torch.tensor([[0.5, -1.0, 0.25], [100.0, 1.0, -50.0]], requires_grad=True)
    rounded = fake_quantised_weight(weight)
    scales = torch.tensor([[1.0 / 127], [100.0 / 127]])
    assert torch.allclose(rounded, torch.round(weight.detach() / scales) * scales)
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
