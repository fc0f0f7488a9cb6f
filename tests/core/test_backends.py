"""The scoring core's backends: the same scores from torch and from the ONNX export of a tiny model
(exported in the test with ``training.export_onnx``) on ONNX Runtime and on OpenVINO, which backend
``auto`` picks, the ``CONTRADICT_BACKEND`` override, and a stale export refused.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification

import contradict.backends
from contradict.backends import BackendUnavailableError, OnnxArtifact
from contradict.scorer import NLIScorer
from contradict.settings import Settings
from contradict.tokens import pad_batch
from tests.support.models import assert_export_scores_like_torch, build_varied_model
from training.export_onnx import export_onnx

SENTENCE = (
    "the ministry said the new bridge would open in march but engineers found cracks in two pillars "
    "and the opening was delayed while the contractor blamed the cold winter for the slow progress"
)
TEXT = SENTENCE.split()
PAIRS = [
    (
        " ".join(TEXT[i % 11 : i % 11 + 4 + (3 * i) % 14]).capitalize() + ".",
        " ".join(TEXT[(2 * i) % 13 : (2 * i) % 13 + 3 + (5 * i) % 9]).capitalize() + ".",
    )
    for i in range(40)
]
# The default ("compact") export computes in fp32 from fp16-stored weights and int8 word-embedding rows.
# This tiny model's weights are fp32 (the shipped model's are fp16 already): measured max probability
# difference 3.3e-3 from torch, labels identical; the bound leaves room for other CPUs' kernels.
PROBABILITY_TOLERANCE = 0.01
# OpenVINO forced to bf16 (8 mantissa bits, fp32 accumulation) on CPUs that compute it natively; others
# run fp32. Measured on this tiny model (an AVX512-BF16 CPU): max probability difference 0.0070 from
# torch (fp32: 0.0033), batch-mates changing nothing; the bound leaves room for other kernels.
BF16_PROBABILITY_TOLERANCE = 0.03


@pytest.fixture(scope="module")
def exported_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """A varied tiny model (outputs that differ clearly between pairs) with its ONNX export."""
    folder = build_varied_model(tiny_model_dir, tmp_path_factory.mktemp("onnx-nli"), PAIRS)
    export_onnx(folder, check=0)
    return folder


@pytest.fixture
def exported_copy(exported_dir, tmp_path) -> Path:
    return Path(shutil.copytree(exported_dir, tmp_path / "model"))


def test_both_backends_score_a_tiny_model_the_same(exported_dir):
    # fp32 compute: a pair's scores do not depend on its batch-mates (int8 dynamic quantisation's do).
    torch_scorer, onnx_scorer = assert_export_scores_like_torch(exported_dir, PAIRS, PROBABILITY_TOLERANCE)
    assert [r.label for r in onnx_scorer.score(PAIRS)] == [r.label for r in torch_scorer.score(PAIRS)]


def test_openvino_scores_a_tiny_model_like_torch(exported_dir):
    """The same ``model.onnx`` on OpenVINO: fp32 as close to torch as ONNX Runtime; bf16 (where
    native) within its rounding; in both, a pair's scores do not depend on its batch-mates."""
    torch_scorer, f32_scorer = assert_export_scores_like_torch(
        exported_dir, PAIRS, PROBABILITY_TOLERANCE, backend="openvino", precision="f32"
    )
    assert f32_scorer.backend.describe()["precision"] == "f32"
    assert [r.label for r in f32_scorer.score(PAIRS)] == [r.label for r in torch_scorer.score(PAIRS)]
    _, bf16_scorer = assert_export_scores_like_torch(
        exported_dir, PAIRS, BF16_PROBABILITY_TOLERANCE, backend="openvino", precision="bf16"
    )
    assert bf16_scorer.backend.describe()["precision"] in ("bf16", "f32")  # f32 where not native


def test_openvino_pads_each_pass_to_a_multiple_of_16_tokens_and_scores_the_same(exported_dir):
    scorer = NLIScorer(str(exported_dir), backend="openvino", precision="f32")
    shapes: list[tuple[int, int]] = []
    forward = scorer.backend.logits

    def recording(features):
        shapes.append(features["input_ids"].shape)
        return forward(features)

    scorer.backend.logits = recording
    bucketed = scorer.probabilities(PAIRS, batch_size=8)
    assert shapes and all(width % 16 == 0 for _, width in shapes)
    scorer.backend.pad_multiple = 1  # exact padding: padded positions are masked, so the same scores
    np.testing.assert_allclose(bucketed, scorer.probabilities(PAIRS, batch_size=8), atol=1e-5)
    assert any(width % 16 for _, width in shapes[len(shapes) // 2 :])


def test_pad_batch_rounds_up_but_never_past_the_position_limit(exported_dir):
    tokenizer = NLIScorer(str(exported_dir), backend="torch").tokenizer
    encoded = tokenizer.encode([("The bridge opened in March.", "Engineers found cracks in two pillars.")])
    length = len(encoded[0])
    assert pad_batch(encoded, 0)["input_ids"].shape[1] == length
    assert pad_batch(encoded, 0, multiple=16)["input_ids"].shape[1] == -(-length // 16) * 16
    assert pad_batch(encoded, 0, multiple=64, limit=length + 1)["attention_mask"].shape[1] == length + 1
    assert pad_batch(encoded, 0, multiple=16)["attention_mask"].sum() == length


def test_the_export_records_the_weights_it_came_from(exported_dir):
    manifest = OnnxArtifact(exported_dir).check_fresh()
    assert set(manifest["weights_sha256"]) == {"model.safetensors"}
    assert manifest["fused_operators"]["Attention"] == 2  # the tiny model's two layers, fused
    assert manifest["inputs"] == ["input_ids", "attention_mask", "token_type_ids"]


def test_auto_picks_openvino_then_onnx_when_exported_and_torch_otherwise(
    exported_dir, tiny_model_dir, monkeypatch
):
    assert NLIScorer(str(exported_dir)).backend.name == "openvino"
    assert NLIScorer(str(tiny_model_dir)).backend.name == "torch"  # no export in that folder
    assert NLIScorer(str(exported_dir)).info()["runtime"]["backend"] == "openvino"
    # Without the openvino package (a slim install), the same export serves on ONNX Runtime.
    monkeypatch.setattr(contradict.backends, "installed", lambda package: package != "openvino")
    assert NLIScorer(str(exported_dir)).backend.name == "onnx"
    with pytest.raises(BackendUnavailableError, match="openvino package is not installed"):
        NLIScorer(str(exported_dir), backend="openvino")


def test_auto_scores_with_torch_and_says_why_when_no_runtime_is_installed(exported_dir, monkeypatch, caplog):
    monkeypatch.setattr(contradict.backends, "installed", lambda package: False)
    with caplog.at_level(logging.WARNING, logger="contradict.backends"):
        assert NLIScorer(str(exported_dir)).backend.name == "torch"
    assert "none of onnxruntime, openvino is installed" in caplog.text


def test_auto_falls_back_when_openvino_cannot_compile_the_export(exported_dir, monkeypatch, caplog):
    """A graph OpenVINO cannot compile (injected: its compile step raises as OpenVINO does) leaves the
    service on ONNX Runtime under auto, with a warning; forced openvino still fails loudly."""
    from contradict.backends import openvino_backend

    class RefusingCore(openvino_backend.ov.Core):
        def compile_model(self, *args, **kwargs):
            raise RuntimeError("Exception from src/inference/src/cpp/core.cpp: unsupported operation")

    monkeypatch.setattr(openvino_backend.ov, "Core", RefusingCore)
    with caplog.at_level(logging.WARNING, logger="contradict.backends"):
        assert NLIScorer(str(exported_dir)).backend.name == "onnx"
    assert "backend openvino could not load" in caplog.text and "unsupported operation" in caplog.text
    with pytest.raises(RuntimeError, match="unsupported operation"):
        NLIScorer(str(exported_dir), backend="openvino")
    monkeypatch.setattr(contradict.backends, "installed", lambda package: package != "onnxruntime")
    with caplog.at_level(logging.WARNING, logger="contradict.backends"):
        assert NLIScorer(str(exported_dir)).backend.name == "torch"
    assert "openvino could not load it" in caplog.text


def test_contradict_backend_forces_one(exported_dir, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("CONTRADICT_MODEL", str(exported_dir))
    monkeypatch.setenv("CONTRADICT_BACKEND", "torch")
    assert NLIScorer.from_settings(Settings()).backend.name == "torch"
    monkeypatch.setenv("CONTRADICT_BACKEND", "onnx")
    assert NLIScorer.from_settings(Settings()).backend.name == "onnx"
    monkeypatch.setenv("CONTRADICT_BACKEND", "openvino")
    monkeypatch.setenv("CONTRADICT_PRECISION", "f32")
    scorer = NLIScorer.from_settings(Settings())
    assert (scorer.backend.name, scorer.backend.describe()["precision"]) == ("openvino", "f32")
    monkeypatch.setenv("CONTRADICT_BACKEND", "onnx")
    # Forced onnx where there is no export: an error that says how to make one, never torch.
    monkeypatch.setenv("CONTRADICT_MODEL", str(tiny_model_dir))
    with pytest.raises(BackendUnavailableError, match="export_onnx"):
        NLIScorer.from_settings(Settings())
    monkeypatch.setenv("CONTRADICT_BACKEND", "tensorflow")
    with pytest.raises(ValueError, match="backend"):
        Settings()


def test_a_stale_export_is_refused_or_passed_over_with_a_warning(exported_copy, caplog):
    """New weights promoted into a folder with an old export: auto warns and scores with torch
    (the new weights); forced onnx refuses."""
    model = AutoModelForSequenceClassification.from_pretrained(exported_copy)
    with torch.no_grad():
        model.classifier.bias.add_(1.0)
    model.save_pretrained(exported_copy)

    with caplog.at_level(logging.WARNING, logger="contradict.backends"):
        scorer = NLIScorer(str(exported_copy))
    assert scorer.backend.name == "torch"
    assert "stale export" in caplog.text
    for runtime in ("onnx", "openvino"):
        with pytest.raises(BackendUnavailableError, match="stale export"):
            NLIScorer(str(exported_copy), backend=runtime)

    export_onnx(exported_copy, check=0)  # re-running the one command makes it fresh again
    assert NLIScorer(str(exported_copy)).backend.name == "openvino"


def test_a_tampered_or_unrecorded_export_is_refused(exported_copy):
    artifact = OnnxArtifact(exported_copy)
    with artifact.model_path.open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BackendUnavailableError, match="differs from the file its record names"):
        NLIScorer(str(exported_copy), backend="onnx")
    artifact.manifest_path.unlink()
    with pytest.raises(BackendUnavailableError, match="missing or unreadable"):
        NLIScorer(str(exported_copy), backend="onnx")
