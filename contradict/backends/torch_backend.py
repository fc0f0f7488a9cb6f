"""The PyTorch backend: any Hugging Face sequence classifier, on any torch device."""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification

from contradict.backends.artifact import token_positions


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
        self.max_positions = token_positions(self.model.config.to_dict())
        # Models without segment embeddings (DistilBERT) take no token_type_ids, and a model with one
        # segment type (RoBERTa) must not get the second segment's 1s from a BERT-style tokenizer.
        self._inputs = set(inspect.signature(self.model.forward).parameters)
        if getattr(self.model.config, "type_vocab_size", 2) < 2:
            self._inputs.discard("token_type_ids")

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
