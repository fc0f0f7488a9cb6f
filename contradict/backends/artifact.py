"""The ONNX export beside a model's weights, and the record that ties it to those weights.

``model.onnx`` is written by ``python -m training.export_onnx``; ``model.onnx.json`` beside it
records the SHA-256 of the weights it was exported from and of itself. A model folder whose weights
were replaced (a newly trained model promoted over the old one) keeps a stale ONNX file until the
export is re-run: :meth:`OnnxArtifact.check_fresh` detects it, so the scorer never serves the old
model's numbers under the new model's name.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

ONNX_FILE = "model.onnx"
MANIFEST_FILE = ONNX_FILE + ".json"
MANIFEST_FORMAT = 1
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin")


# Model types whose position ids start after the padding index (transformers' RoBERTa family, e.g.
# roberta-large-mnli): max_position_embeddings 514 there holds 512 tokens, not 514.
OFFSET_POSITION_TYPES = frozenset(
    {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "roberta-prelayernorm", "data2vec-text"}
)


def token_positions(config: dict[str, Any]) -> int:
    """How many tokens a sequence may have for the model of ``config`` (a ``config.json`` as a dict)."""
    positions = int(config.get("max_position_embeddings") or 512)
    if config.get("model_type") in OFFSET_POSITION_TYPES:
        pad = config.get("pad_token_id")
        positions -= (1 if pad is None else int(pad)) + 1
    return positions


class StaleExportError(RuntimeError):
    """The ONNX file does not belong to the weights beside it (or its record is missing or broken)."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weight_files(folder: Path) -> list[Path]:
    """The weight files of a model folder, in a stable order."""
    for pattern in WEIGHT_PATTERNS:
        found = sorted(folder.glob(pattern))
        if found:
            return found
    return []


def weights_checksums(folder: Path) -> dict[str, str]:
    return {path.name: sha256_file(path) for path in weight_files(folder)}


class OnnxArtifact:
    """Paths and freshness of the ONNX export in ``folder``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.model_path = folder / ONNX_FILE
        self.manifest_path = folder / MANIFEST_FILE

    def exists(self) -> bool:
        return self.model_path.is_file()

    def labels_and_positions(self) -> tuple[dict[int, str], int]:
        """``id2label`` and the position limit from the folder's ``config.json``, read as plain JSON
        so that a runtime serving the export needs neither torch nor transformers."""
        config = json.loads((self.folder / "config.json").read_text())
        labels = {int(k): v for k, v in config["id2label"].items()}
        return labels, token_positions(config)

    def scheme(self) -> str:
        """The file's storage (``training.export_onnx --scheme``): int8 files change some labels, so
        the runtime info names it."""
        return str(self.manifest().get("scheme", "unrecorded"))

    def manifest(self) -> dict[str, Any]:
        try:
            data = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise StaleExportError(f"{self.manifest_path.name} is missing or unreadable ({exc})") from exc
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            raise StaleExportError(f"{self.manifest_path.name} is not a format-{MANIFEST_FORMAT} record")
        return data

    def check_fresh(self) -> dict[str, Any]:
        """The manifest, after checking that the weights and the ONNX file are the ones it names.

        Raises :class:`StaleExportError` otherwise, saying what differs and how to fix it.
        """
        manifest = self.manifest()
        rerun = f"re-run `python -m training.export_onnx --model {self.folder}`"
        weights = weights_checksums(self.folder)
        if manifest.get("weights_sha256") != weights:
            raise StaleExportError(
                f"{self.model_path.name} was exported from other weights than "
                f"{', '.join(weights) or 'the (missing) weights'} in {self.folder} (stale export); {rerun}"
            )
        if manifest.get("onnx_sha256") != sha256_file(self.model_path):
            raise StaleExportError(f"{self.model_path.name} differs from the file its record names; {rerun}")
        return manifest
