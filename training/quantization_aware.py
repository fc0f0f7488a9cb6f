"""Quantisation-aware fine-tuning: teach a model to give the same answers through ONNX Runtime's
``int8-dynamic`` scheme (:mod:`training.export_onnx`) as in fp32.

    python -m training.quantization_aware --model models/contradict-minilm-l6-nli --output runs/qat \
        --max_steps 400
    python -m training.export_onnx --model runs/qat --scheme int8-dynamic

Why: ``int8-dynamic`` is the one scheme fast enough for 3x ``CrossEncoder.predict`` on this CPU
(4.0x), but on the shipped weights it changes 3.7% of the labels: a few activation channels are
10-15x larger than the rest, and one uint8 scale per tensor rounds the others coarsely
(docs/benchmarks.md). Training can move those outliers: here every MatMul the scheme quantises sees its
input rounded exactly as ONNX Runtime rounds it (uint8, one scale and zero point per tensor from the
tensor's own min and max, zero included) and its weight rounded to int8 per output channel, with the
rounding passed straight through to the gradient (Jacob et al., 2018; Zafrir et al., 2019, "Q8BERT").

The loss keeps *both* paths on the original model's answers: KL(original || quantised path) +
KL(original || fp32 path) on training pairs, so the torch backend of the new weights and the int8
ONNX file of them agree with each other and with the model they replace. What is rounded is what
the exported int8 graph rounds (its node list, read off ``quantize_dynamic``'s output): the input of
each layer's fused query/key/value projection (one tensor) and its weights per output channel, the
attention output and both feed-forward projections, the pooler and the classifier (``MatMulInteger``),
and the embedding tables and embedding LayerNorm weights, which ``QEmbedLayerNormalization`` stores
as uint8 with one scale per tensor.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoModelForSequenceClassification, AutoTokenizer, HfArgumentParser

from training.export_onnx import INT8_WEIGHT_QMAX
from training.logs import configure_logging

logger = logging.getLogger("training.quantization_aware")

QUANTISED_LINEARS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
KEPT_FILES = ("calibration.json", "metrics.json", "README.md", "run_args.json", "training_args.json")


@dataclass
class QuantizationArguments:
    model: str = field(metadata={"help": "model folder to align (config, weights, tokenizer)"})
    output: str = field(metadata={"help": "folder for the aligned model (a copy of --model, new weights)"})
    dataset: str = field(
        default="vitaminc=0.3,mnli=1,snli=0.3,fever=0.5,fnc1=0.5,arc=1,emergent=1,edits=0.3",
        metadata={"help": "source or mixture whose train pairs the two paths are aligned on"},
    )
    max_steps: int = field(default=400)
    batch_size: int = field(default=32)
    learning_rate: float = field(default=1e-5)
    max_length: int = field(default=128)
    seed: int = field(default=50)


def fake_quantised_activation(x: torch.Tensor) -> torch.Tensor:
    """ONNX Runtime's ``DynamicQuantizeLinear``: uint8, one scale and zero point per tensor, the
    range widened to include 0; the rounding passed straight through to the gradient."""
    low = torch.clamp(x.detach().min(), max=0.0)
    high = torch.clamp(x.detach().max(), min=0.0)
    scale = torch.clamp((high - low) / 255.0, min=1e-8)
    zero_point = torch.round(-low / scale)
    rounded = (torch.clamp(torch.round(x / scale) + zero_point, 0, 255) - zero_point) * scale
    return x + (rounded - x).detach()


def fake_quantised_weight(weight: torch.Tensor) -> torch.Tensor:
    """Symmetric int8 per output channel (a ``Linear`` weight's row), in the export's weight range
    (:data:`training.export_onnx.INT8_WEIGHT_QMAX`)."""
    scale = torch.clamp(weight.detach().abs().amax(dim=1, keepdim=True) / INT8_WEIGHT_QMAX, min=1e-12)
    rounded = torch.clamp(torch.round(weight / scale), -INT8_WEIGHT_QMAX, INT8_WEIGHT_QMAX) * scale
    return weight + (rounded - weight).detach()


class FakeQuantisedLinear(nn.Module):
    """A ``Linear`` that rounds its input and weight as the int8 graph will, while ``enabled``."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.linear = linear
        self.enabled = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return self.linear(x)
        weight = fake_quantised_weight(self.linear.weight)
        return F.linear(fake_quantised_activation(x), weight, self.linear.bias)


class FakeQuantisedTable(nn.Module):
    """A weight parametrisation: the tensor rounded to uint8 with one scale, as
    ``QEmbedLayerNormalization`` stores the embedding tables and the embedding LayerNorm's weights."""

    def __init__(self) -> None:
        super().__init__()
        self.enabled = True

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return fake_quantised_activation(weight) if self.enabled else weight


Switch = FakeQuantisedLinear | FakeQuantisedTable


def _linear_paths(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """(parent, attribute) of every ``Linear`` the int8 graph quantises: six per encoder layer, the
    pooler's and the classifier's."""
    found = []
    for layer in model.base_model.encoder.layer:
        for path in QUANTISED_LINEARS:
            parent_path, _, name = path.rpartition(".")
            found.append((layer.get_submodule(parent_path), name))
    if getattr(model.base_model, "pooler", None) is not None:
        found.append((model.base_model.pooler, "dense"))
    if isinstance(getattr(model, "classifier", None), nn.Linear | FakeQuantisedLinear):
        found.append((model, "classifier"))
    return found


def _table_modules(model: nn.Module) -> list[nn.Module]:
    embeddings = model.base_model.embeddings
    names = ("word_embeddings", "position_embeddings", "token_type_embeddings", "LayerNorm")
    return [getattr(embeddings, name) for name in names if getattr(embeddings, name, None) is not None]


def wrap(model: nn.Module) -> list[Switch]:
    """Make the model round everything the int8 graph rounds, in place; returns the switches."""
    from torch.nn.utils import parametrize

    switches: list[Switch] = []
    for parent, name in _linear_paths(model):
        module = FakeQuantisedLinear(getattr(parent, name))
        setattr(parent, name, module)
        switches.append(module)
    for module in _table_modules(model):
        for tensor in ("weight", "bias"):
            if getattr(module, tensor, None) is not None:
                table = FakeQuantisedTable()
                parametrize.register_parametrization(module, tensor, table)
                switches.append(table)
    return switches


def unwrap(model: nn.Module) -> None:
    """Undo :func:`wrap`, keeping the trained float weights (not their rounded copies)."""
    from torch.nn.utils import parametrize

    for parent, name in _linear_paths(model):
        module = getattr(parent, name)
        if isinstance(module, FakeQuantisedLinear):
            setattr(parent, name, module.linear)
    for module in _table_modules(model):
        for tensor in ("weight", "bias"):
            if parametrize.is_parametrized(module, tensor):
                parametrize.remove_parametrizations(module, tensor, leave_parametrized=False)


def training_pairs(spec: str, count: int, seed: int) -> list[tuple[str, str]]:
    from training.data import load_mixture, load_nli_dataset, parse_mixture

    train = load_mixture(parse_mixture(spec))["train"] if "=" in spec else load_nli_dataset(spec)["train"]
    rng = random.Random(seed)
    picked = rng.sample(range(len(train)), min(count, len(train)))
    rows = train.select(picked)
    return list(zip(rows["premise"], rows["hypothesis"], strict=True))


def align(args: QuantizationArguments) -> Path:
    torch.manual_seed(args.seed)
    source, output = Path(args.model), Path(args.output)
    tokenizer = AutoTokenizer.from_pretrained(source)
    reference = AutoModelForSequenceClassification.from_pretrained(source, dtype=torch.float32).eval()
    model = AutoModelForSequenceClassification.from_pretrained(source, dtype=torch.float32)
    model.train()
    for module in model.modules():  # dropout off: both paths must be the deterministic graph
        if isinstance(module, nn.Dropout):
            module.p = 0.0
    switches = wrap(model)
    pairs = training_pairs(args.dataset, args.max_steps * args.batch_size, args.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.0)
    started = time.perf_counter()
    for step in range(args.max_steps):
        batch = pairs[step * args.batch_size : (step + 1) * args.batch_size]
        if not batch:
            break
        features = tokenizer(
            [p for p, _ in batch],
            [h for _, h in batch],
            truncation=True,
            max_length=args.max_length,
            padding=True,
            return_tensors="pt",
        )
        with torch.no_grad():
            target = F.softmax(reference(**features).logits, dim=-1)
        losses = {}
        for name, enabled in (("int8", True), ("fp32", False)):
            for switch in switches:
                switch.enabled = enabled
            logits = model(**features).logits
            losses[name] = F.kl_div(F.log_softmax(logits, dim=-1), target, reduction="batchmean")
        loss = losses["int8"] + losses["fp32"]
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 25 == 0 or step == args.max_steps - 1:
            elapsed = time.perf_counter() - started
            logger.info(
                "step %d/%d  KL int8 %.4f  KL fp32 %.4f  %.1f pairs/s",
                step + 1,
                args.max_steps,
                losses["int8"].item(),
                losses["fp32"].item(),
                (step + 1) * args.batch_size / elapsed,
            )
    unwrap(model)
    return save(model, tokenizer, source, output, args)


def save(model: nn.Module, tokenizer, source: Path, output: Path, args: QuantizationArguments) -> Path:
    """The aligned weights stored like the shipped ones (fp16, loaded as fp32), with the source's
    calibration and records: the answers are the source model's, so its calibration still holds."""
    from training.export import save_fp16

    output.mkdir(parents=True, exist_ok=True)
    save_fp16(model, tokenizer, output)
    for name in KEPT_FILES:
        if (source / name).is_file():
            shutil.copy(source / name, output / name)
    (output / "quantization_aware.json").write_text(json.dumps(vars(args), indent=1) + "\n")
    logger.info("wrote %s", output)
    return output


def main(argv: list[str] | None = None) -> Path:
    configure_logging()
    (args,) = HfArgumentParser(QuantizationArguments).parse_args_into_dataclasses(args=argv)
    return align(args)


if __name__ == "__main__":
    main()
