"""Export a model folder's classifier to ONNX for the scoring core's CPU backends (OpenVINO and
ONNX Runtime run the same file).

    python -m training.export_onnx --model models/contradict-minilm-l6-nli

Writes ``model.onnx`` and its record ``model.onnx.json`` into the model folder (see
:mod:`contradict.backends.artifact`), replacing older ones; re-run it whenever the weights change
(``training.export`` runs it after promoting a model, so ``make model`` does too). Steps, all
standard tooling:

1. ``torch.onnx.export`` (TorchScript exporter, opset 17, dynamic batch and sequence axes) of the
   model loaded with eager attention, whose graph ONNX Runtime's transformer optimizer recognises;
2. ``onnxruntime.transformers.optimizer`` fuses embeddings + LayerNorm, attention, bias + GELU and
   skip + LayerNorm (BERT-family models; others are exported unfused);
3. the weights' storage (``--scheme``):

   - ``compact`` (default): weights stored as fp16 (the shipped safetensors are fp16 already, so
     this loses nothing) and the word embeddings as int8 with one scale per row; ONNX Runtime folds
     them back to fp32 constants at load, so compute is fp32 and results do not depend on batch-mates.
   - ``int8-dynamic``: ``onnxruntime.quantization.quantize_dynamic``, int8 weights per output channel
     and uint8 activations quantised per forward pass with one scale per tensor: 4.0x
     ``CrossEncoder.predict`` at batch 32 (``compact``: 2.2x), but on model 3.0.0 it changed 3.7% of
     the VitaminC test labels (the floor is 1%), and a pair's scores depend on the other pairs in
     its batch (the activation range is the batch's). This model's activations have a few channels
     10-15x larger than the rest, so one scale per tensor rounds the others coarsely; the error
     comes about equally from every layer and every kind of MatMul (docs/benchmarks.md), so leaving some of
     them in fp32 does not rescue it, nor does moving the outliers into the weights first
     (SmoothQuant). Kept for models that tolerate it.
   - ``int8-blockwise``: ``MatMulNBits`` (``onnxruntime.quantization.matmul_nbits_quantizer``):
     MatMul weights as 8-bit integers with one scale per block of 32 input channels, and
     ``accuracy_level=4``: ONNX Runtime quantises each token's activations to int8 per block of 32
     channels too, so an outlier costs precision only in its own block and a pair's scores do not
     depend on its batch-mates. The fused attention's QKV projection, the embeddings and the head
     stay float, stored as in ``compact``. On model 3.0.0: 99.57% same labels, accuracy within
     0.30 point on every set but ARC test (-0.58), a 26 MB file, and no faster than ``compact``
     from batch 8 on (faster at batch 1 only): not the default.
   - ``int8-split``: ``int8-dynamic`` for the MatMuls outside the fused attention, after
     :mod:`training.outlier_split` has moved each one's outlier input channels (found on the
     behaviour-suite pairs) into a small fp32 MatMul; the fused attention (QKV), the embeddings
     and the head stay float, stored as in ``compact``. On model 3.3.0, AVX-512 VNNI CPU: 2.0x
     ``CrossEncoder.predict`` at batch 32 (``compact`` 1.4x, ``int8-dynamic`` 3.1x), same labels
     as torch on 99.02% of the VitaminC test pairs, accuracy within 0.6 point on every set (two
     sets, ANLI R1 and Emergent test, beyond the 0.5 bar): opt-in, not the default. Scores still
     depend slightly on batch-mates (one activation scale per tensor). On model 3.4.0: 98.75%
     same labels, under the 99% floor. Since 2026-11-29 the feed-forward down-projections of the
     first half of the layers stay fp32 too (:data:`FP32_FFN_DOWN_SHARE`): on model 3.7.0, AVX2
     CPU, 98.93% -> 99.17% same labels, 1.49x ``CrossEncoder.predict`` at batch 32.

   Both ``quantize_dynamic`` schemes store the weights in 7 bits (``reduce_range``,
   :data:`INT8_WEIGHT_QMAX`); the figures above were measured with 8-bit weights, before that.

4. a check against the torch model on the behaviour-suite pairs: the largest logit difference and
   the share of equal argmax labels go into the record, with the SHA-256 of the weights exported.

The file is written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import re
import shutil
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from contradict.backends.artifact import MANIFEST_FORMAT, OnnxArtifact, sha256_file, weights_checksums

logger = logging.getLogger(__name__)

OPSET = 17
# ONNX Runtime's transformer optimizer knows these families' graphs (model_type -> its optimizer name).
FUSABLE = {"bert": "bert", "roberta": "bert", "xlm-roberta": "bert", "distilbert": "bert"}
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
SCHEMES = {
    "compact": "fp32 compute; weights stored fp16, word embeddings int8 per row (folded to fp32 at load)",
    "int8-dynamic": "quantize_dynamic: int8 weights per output channel, uint8 activations per forward pass",
    "int8-blockwise": "MatMulNBits: 8-bit weights and int8 activations per block of 32 channels; "
    "other weights as compact",
    "int8-split": "quantize_dynamic of the MatMuls outside attention, their outlier input channels "
    "split off in fp32; attention, the first half of the layers' feed-forward down-projections, "
    "embeddings and head fp32; float weights as compact",
}
ROUNDED_BY_ORT = ("int8-dynamic", "int8-split")  # the schemes that round weights with quantize_dynamic
BLOCK_SIZE = 32  # input channels per int8 scale (weights and activations)
COMPACT_MIN_ELEMENTS = 4096  # smaller tensors (biases, LayerNorm) stay fp32: no size to win
CHECK_PAIRS_FILE = Path(__file__).resolve().parent / "behaviour_suite.jsonl"
# quantize_dynamic's weights in 7 bits (-64..64), not 8: a file is exported once and served on
# whatever x86 CPU its user has, and without AVX-512 VNNI ONNX Runtime's uint8 x int8 kernels add
# pairs of products in 16 bits, which 8-bit weights can overflow (saturate); ONNX Runtime documents
# reduce_range for such CPUs. Measured on an AVX2-only AMD EPYC (2026-11-28): the outlier test model
# (tests/core/test_outlier_split.py) scored up to 0.232 / 0.260 from torch through int8-dynamic /
# int8-split with 8-bit weights, 0.038 / 0.023 with 7; on model 3.7.0, same labels as torch on
# 2,000 VitaminC test pairs 96.05% / 98.50% -> 95.75% / 98.90% (docs/benchmarks.md, "int8 on AVX2,
# found and fixed").
INT8_REDUCE_RANGE = True
INT8_WEIGHT_QMAX = 64 if INT8_REDUCE_RANGE else 127
# int8-split keeps the feed-forward down-projections of the first half of the layers in fp32: their
# input is the GELU output, the activation with the heaviest outliers, and an error made early passes
# through every later layer. Chosen on 2,000 VitaminC test pairs, model 3.7.0, the AVX2 EPYC
# (2026-11-28; scratch sweep: all int8 98.90%, layer 5 or every attention output fp32 98.90%, the down-
# projections of layer 0 98.95%, layers 0-2 99.30%, all six 99.10%), then checked on all 6,255: same
# labels as torch 98.93% -> 99.17% (99.08% on the 4,255 pairs the choice did not see); core pairs/s at
# batch 32 on ONNX Runtime 131 -> 124 (compact 110): docs/benchmarks.md, "int8-split meets 99%".
FP32_FFN_DOWN_SHARE = 0.5
_FFN_DOWN = re.compile(r"/layer\.(\d+)/output/dense/MatMul$")


def early_ffn_down(model: Any) -> list[str]:
    """The feed-forward down-projection MatMuls of the first :data:`FP32_FFN_DOWN_SHARE` of the layers."""
    layers = {
        int(match.group(1)): node.name for node in model.graph.node if (match := _FFN_DOWN.search(node.name))
    }
    count = max(layers, default=-1) + 1
    return [name for index, name in sorted(layers.items()) if index < count * FP32_FFN_DOWN_SHARE]


def export_fp32(folder: Path, output: Path) -> tuple[list[str], dict[str, Any]]:
    """``torch.onnx.export`` of the classifier's logits; returns its input names and the config."""
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(
        folder, dtype=torch.float32, attn_implementation="eager"
    ).eval()
    accepted = set(inspect.signature(model.forward).parameters)
    names = [name for name in INPUTS if name in accepted]

    class Logits(torch.nn.Module):
        """The model with positional inputs and one output (the exporter's calling convention)."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs))).logits

    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    axes = {name: {0: "batch", 1: "sequence"} for name in names} | {"logits": {0: "batch"}}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            Logits(),
            example,
            str(output),
            input_names=names,
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    return names, model.config.to_dict()


def fuse(source: Path, output: Path, config: dict[str, Any]) -> dict[str, int]:
    """ONNX Runtime's transformer fusions, for the model families it knows; else a plain copy."""
    family = FUSABLE.get(config.get("model_type", ""))
    if family is None:
        shutil.copyfile(source, output)
        return {}
    from onnxruntime.transformers import optimizer

    optimized = optimizer.optimize_model(
        str(source),
        model_type=family,
        num_heads=int(config["num_attention_heads"]),
        hidden_size=int(config["hidden_size"]),
        opt_level=0,  # graph fusions only; ONNX Runtime applies its own at session start
    )
    optimized.save_model_to_file(str(output))
    return {name: count for name, count in optimized.get_fused_operator_statistics().items() if count}


def compact(source: Path, output: Path) -> None:
    """Store large float weights as fp16, the word embeddings as int8 rows with a scale per row; a
    ``Cast`` (and ``Mul``) turns each back into the original fp32 name, which ONNX Runtime's
    constant folding evaluates once at session start."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    initializers, decoders = [], []
    for tensor in graph.initializer:
        values = numpy_helper.to_array(tensor)
        name = tensor.name
        if values.dtype != np.float32 or values.size < COMPACT_MIN_ELEMENTS:
            initializers.append(tensor)
        elif values.ndim == 2 and "word_embeddings" in name:
            scale = np.abs(values).max(axis=1, keepdims=True) / 127.0
            scale[scale == 0] = 1.0
            rows = np.clip(np.round(values / scale), -127, 127).astype(np.int8)
            initializers += [
                numpy_helper.from_array(rows, name + "_int8"),
                numpy_helper.from_array(scale.astype(np.float32), name + "_scale"),
            ]
            decoders += [
                helper.make_node("Cast", [name + "_int8"], [name + "_cast"], to=TensorProto.FLOAT),
                helper.make_node("Mul", [name + "_cast", name + "_scale"], [name]),
            ]
        else:
            initializers.append(numpy_helper.from_array(values.astype(np.float16), name + "_fp16"))
            decoders.append(helper.make_node("Cast", [name + "_fp16"], [name], to=TensorProto.FLOAT))
    nodes = list(graph.node)
    del graph.initializer[:], graph.node[:]
    graph.initializer.extend(initializers)
    graph.node.extend(decoders + nodes)
    onnx.save(model, str(output))


def quantize_int8_dynamic(source: Path, output: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source),
        str(output),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=INT8_REDUCE_RANGE,
        # Fused operators (Attention, ...) are outside ONNX shape inference; their outputs are float.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def quantize_int8_blockwise(source: Path, output: Path) -> None:
    """MatMul weights to ``MatMulNBits`` (8 bits, symmetric, a scale per block, int8 compute), then
    ``compact`` storage for the weights that stay float."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    quantizer = MatMulNBitsQuantizer(
        onnx.load(str(source)),
        bits=8,
        block_size=BLOCK_SIZE,
        is_symmetric=True,
        accuracy_level=4,  # int8 activations per block: the speed; 0 would compute in fp32
        op_types_to_quantize=("MatMul",),
    )
    quantizer.process()
    blockwise = output.with_name("blockwise.onnx")
    quantizer.model.save_model_to_file(str(blockwise), use_external_data_format=False)
    compact(blockwise, output)


def quantize_int8_split(source: Path, output: Path, folder: Path) -> dict[str, Any]:
    """``int8-dynamic`` for the MatMuls with a constant weight, after :mod:`training.outlier_split`
    has moved their outlier input channels (found on the check pairs) into small fp32 MatMuls; the
    fused attention, the early feed-forward down-projections (:func:`early_ffn_down`), the
    embeddings and the head stay float (``compact`` storage). Returns, for the record, the split
    MatMuls and the ones kept fp32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from training.outlier_split import channel_peaks, split_outliers

    model = onnx.load(str(source))
    split = split_outliers(model, channel_peaks(source, calibration_feeds(folder)))
    kept_fp32 = early_ffn_down(model)
    staged = output.with_name("split.onnx")
    onnx.save(model, str(staged))
    quantized = output.with_name("split-int8.onnx")
    quantize_dynamic(
        str(staged),
        str(quantized),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=INT8_REDUCE_RANGE,
        # MatMul only: the fused Attention (QKV) was the largest single source of changed labels
        # (docs/benchmarks.md), and the embeddings gain no speed from int8.
        op_types_to_quantize=["MatMul"],
        nodes_to_exclude=[item.side_node for item in split] + kept_fp32,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT, "MatMulConstBOnly": True},
    )
    compact(quantized, output)
    outliers = [
        {"matmul": item.node, "channels": list(item.channels), "peak_ratio": round(item.peak_ratio, 2)}
        for item in split
    ]
    return {"outlier_split": outliers, "fp32_matmuls": kept_fp32}


def calibration_feeds(folder: Path, batch_size: int = 32) -> list[dict[str, np.ndarray]]:
    """The check pairs (behaviour suite, in the repository: offline) tokenised by the folder's
    tokenizer at the length the model was trained with, length-sorted into padded batches as the
    scoring core makes them."""
    from contradict.scorer import trained_max_length
    from contradict.tokens import load_pair_tokenizer, pad_batch

    tokenizer = load_pair_tokenizer(str(folder), folder)
    tokenizer.truncate_to(trained_max_length(folder) or tokenizer.model_max_length or 512)
    encoded = sorted(tokenizer.encode(check_pairs(10_000)), key=len)
    return [
        pad_batch(encoded[start : start + batch_size], tokenizer.pad_id)
        for start in range(0, len(encoded), batch_size)
    ]


def check_pairs(limit: int) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in CHECK_PAIRS_FILE.read_text().splitlines() if line.strip()]
    return [(row["premise"], row["hypothesis"]) for row in rows[:limit]]


def compare(folder: Path, pairs: list[tuple[str, str]]) -> dict[str, float]:
    """Logits of the torch model and of the fresh export on the same pairs, through the scoring core."""
    from contradict.scorer import NLIScorer

    reference = NLIScorer(str(folder), backend="torch")._logits(pairs)
    exported = NLIScorer(str(folder), backend="onnx")._logits(pairs)
    return {
        "pairs": len(pairs),
        "max_abs_logit_diff": float(np.abs(reference - exported).max()),
        "argmax_agreement": float((reference.argmax(1) == exported.argmax(1)).mean()),
    }


# Schemes that need only the graph; int8-split also calibrates on the folder's tokenizer (store()).
STORAGE = {
    "compact": compact,
    "int8-dynamic": quantize_int8_dynamic,
    "int8-blockwise": quantize_int8_blockwise,
}


def store(scheme: str, source: Path, output: Path, folder: Path) -> dict[str, Any]:
    """Write ``source`` to ``output`` in ``scheme``'s storage; returns what the record adds about it."""
    if scheme == "int8-split":
        return quantize_int8_split(source, output, folder)
    STORAGE[scheme](source, output)
    return {}


def export_onnx(folder: Path, *, scheme: str = "compact", check: int = 173) -> dict[str, Any]:
    """Export, fuse, store (``scheme``) and check ``folder``'s model; write the file and its record there."""
    import onnxruntime
    import torch
    import transformers

    artifact = OnnxArtifact(folder)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="export-onnx-") as tmp:
        work = Path(tmp)
        names, config = export_fp32(folder, work / "fp32.onnx")
        fused = fuse(work / "fp32.onnx", work / "fused.onnx", config)
        details = store(scheme, work / "fused.onnx", work / "stored.onnx", folder)
        staged = folder / (artifact.model_path.name + ".partial")
        shutil.copyfile(work / "stored.onnx", staged)
        staged.replace(artifact.model_path)
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "file": artifact.model_path.name,
        "weights_sha256": weights_checksums(folder),
        "onnx_sha256": sha256_file(artifact.model_path),
        "inputs": names,
        "opset": OPSET,
        "fused_operators": fused,
        "scheme": scheme,
        "storage": SCHEMES[scheme],
        **({"int8_weight_range": [-INT8_WEIGHT_QMAX, INT8_WEIGHT_QMAX]} if scheme in ROUNDED_BY_ORT else {}),
        **details,
        "exported_with": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": f"python -m training.export_onnx --model {folder} --scheme {scheme}",
    }
    _write_json(artifact.manifest_path, manifest)  # the record first: compare() checks freshness
    if check:
        manifest["check"] = compare(folder, check_pairs(check))
        _write_json(artifact.manifest_path, manifest)
    logger.info(
        "wrote %s (%.1f MB) in %.0f s: %s",
        artifact.model_path,
        artifact.model_path.stat().st_size / 1e6,
        time.perf_counter() - started,
        manifest.get("check", {}),
    )
    return manifest


def _write_json(path: Path, data: dict[str, Any]) -> None:
    staged = path.with_name(path.name + ".partial")
    staged.write_text(json.dumps(data, indent=2) + "\n")
    staged.replace(path)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, type=Path, help="model folder (config, weights, tokenizer)")
    parser.add_argument(
        "--check-pairs", type=int, default=173, help="behaviour-suite pairs compared with torch (0: none)"
    )
    parser.add_argument("--scheme", choices=sorted(SCHEMES), default="compact", help="weights' storage")
    args = parser.parse_args(argv)
    if not (args.model / "config.json").is_file():
        raise SystemExit(f"no model at {args.model} (a folder with config.json and weights)")
    from training.logs import configure_logging

    configure_logging()
    return export_onnx(args.model, scheme=args.scheme, check=args.check_pairs)


if __name__ == "__main__":
    main()
