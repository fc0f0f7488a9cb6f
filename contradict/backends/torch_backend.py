"""The PyTorch backend: any Hugging Face sequence classifier, on any torch device."""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification


class TorchBackend:
    """A ``transformers`` sequence-classification model in eval mode, fp32."""

    name = "torch"
    pad_multiple = 1

    def __init__(self, model_name_or_path: str, *, device: str = "cpu", num_threads: int | None = None):
        if num_threads:
            torch.set_num_threads(num_threads)
        self.device = torch.device(device)
        # float32 explicitly: shipped weights are stored in fp16 to stay small, and fp16 matmuls on
        # CPU are slow or missing.
        self.model = AutoModelForSequenceClassification.from_pretrained(
            model_name_or_path, dtype=torch.float32
        )
        self.model.to(self.device).eval()
        self.id2label = {int(k): v for k, v in self.model.config.id2label.items()}
        self.max_positions = int(getattr(self.model.config, "max_position_embeddings", 512))
        # Models without segment embeddings (DistilBERT) take no token_type_ids.
        self._inputs = set(inspect.signature(self.model.forward).parameters)

    @torch.inference_mode()
    def logits(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        tensors = {
            key: torch.from_numpy(value).to(self.device)
            for key, value in features.items()
            if key in self._inputs
        }
        return self.model(**tensors).logits.float().cpu().numpy()

    def describe(self) -> dict[str, str]:
        return {"backend": self.name, "device": str(self.device), "threads": str(torch.get_num_threads())}
