"""The bi-encoder's forward pass on OpenVINO's CPU plugin, for the corpus scan's candidate search.

Why: on OpenVINO the cross-encoder's scoring got 2.6x faster, which left the bi-encoder (torch) at
about a quarter of a 1,000-article scan (docs/benchmarks.md). The sentence-transformers model
itself is converted (``openvino.convert_model`` traces its modules: transformer, pooling,
normalisation), so the embedding is whatever that model computes, pooling included; only the
forward pass moves. Tokenisation stays the model's own (``SentenceTransformer.tokenize``, its
``max_seq_length``), so truncation is identical too.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import openvino as ov
import torch

from contradict.backends.openvino_backend import compile_for_cpu

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class _SentenceEmbedding(torch.nn.Module):
    """A sentence-transformers model with positional tensor inputs, as tracing wants them."""

    def __init__(self, model: torch.nn.Module, names: Sequence[str]):
        super().__init__()
        self.model = model
        self.names = tuple(names)

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        return self.model(dict(zip(self.names, tensors, strict=True)))["sentence_embedding"]


class OpenVinoSentenceEncoder:
    """``encode(texts)`` of a loaded ``SentenceTransformer``, computed by a compiled OpenVINO model.

    ``precision``: ``f32`` gives torch's embeddings to ~1e-7; ``bf16`` (``auto`` on CPUs with
    AVX512-BF16 or AMX) runs about 3x faster; its embeddings stayed within 3e-5 cosine of torch's on
    3,000 VitaminC sentences, but move by up to ~1e-3 with the batch a sentence is padded in, so
    engines that batch differently can disagree on a neighbour at the ``top_k`` or
    ``min_similarity`` edge.
    """

    def __init__(self, model, *, num_threads: int, precision: str = "auto"):
        self.model = model
        example = model.tokenize(["a sentence to trace", "and another, longer one to trace with"])
        self.names = [name for name in INPUTS if name in example]
        wrapper = _SentenceEmbedding(model, self.names).eval()
        with torch.no_grad(), warnings.catch_warnings():
            # Tracing notes each Python-level shape check it freezes (none depends on the batch's
            # shape: tested with mixed lengths), and torch calls its own tracer deprecated.
            for category in (torch.jit.TracerWarning, DeprecationWarning, FutureWarning):
                warnings.simplefilter("ignore", category)
            converted = ov.convert_model(wrapper, example_input=tuple(example[name] for name in self.names))
        self.compiled, self.precision = compile_for_cpu(converted, num_threads, precision)
        self.dimension = int(model.get_embedding_dimension())
        self._request = self.compiled.create_infer_request()  # callers serialise (Embedder's lock)

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        """Unit-length float32 embeddings in the order of ``texts``; batches of similar length,
        longest first, as ``SentenceTransformer.encode`` forms them, so padding stays small."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(text) for text in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            features = self.model.tokenize([texts[i] for i in rows])
            feed = [features[name].numpy() for name in self.names]
            out[rows] = self._request.infer(feed)[0]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
