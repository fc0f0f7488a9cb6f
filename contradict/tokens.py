"""Tokenisation for the scoring core with the ``tokenizers`` library alone, and padding with numpy.

Why not ``transformers``' tokenizer: it imports far more than it needs, and the ONNX backend must
serve without torch (and without transformers' import cost). A model folder's ``tokenizer.json`` is
the same fast tokenizer transformers wraps, configured here the way transformers configures it for
``tokenizer(a, b, truncation="longest_first", max_length=n)``, so ids are identical (a test checks).
Only a model without ``tokenizer.json`` (a hub id, a slow-tokenizer folder) goes through
transformers once, to get its fast tokenizer.

Pairs are encoded once (:class:`EncodedPair`) and padded once per forward pass (:func:`pad_batch`):
the service's batcher keeps the encodings with the queued request instead of tokenising again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
NO_LIMIT = 100_000  # transformers' "no model_max_length" is a huge sentinel (1e30)

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class EncodedPair:
    """One tokenised (premise, hypothesis) pair: token ids and segment ids, truncated, unpadded.

    ``truncated``: the pair was longer than the tokenizer's limit, so the model reads only part of
    it; results carry that on, because a verdict on a cut text can miss what was cut.
    """

    ids: Sequence[int]
    type_ids: Sequence[int]
    truncated: bool = False

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class PairTokenizer:
    """A fast tokenizer set up for NLI pairs: special tokens, longest-first truncation, no padding."""

    tokenizer: Tokenizer
    pad_id: int
    model_max_length: int | None  # the tokenizer's own limit, None when it states none

    def truncate_to(self, max_length: int) -> None:
        self.tokenizer.enable_truncation(max_length, strategy="longest_first", direction="right")
        self.tokenizer.no_padding()

    def encode(self, pairs: Sequence[Pair]) -> list[EncodedPair]:
        if not pairs:
            return []
        encodings = self.tokenizer.encode_batch([(premise, hypothesis) for premise, hypothesis in pairs])
        # With truncation on, the tokenizer keeps what it cut as ``overflowing``: empty when nothing was.
        return [
            EncodedPair(encoding.ids, encoding.type_ids, bool(encoding.overflowing)) for encoding in encodings
        ]

    def tokens(self, text: str) -> list[int]:
        """Ids of ``text`` alone, without special tokens (tests and truncation checks)."""
        return self.tokenizer.encode(text, add_special_tokens=False).ids


def load_pair_tokenizer(model_name_or_path: str, folder: Path | None) -> PairTokenizer:
    """The model's fast tokenizer: ``folder/tokenizer.json`` when there is one, else through
    transformers (hub ids, folders with a slow tokenizer only)."""
    config = _read_json(folder / TOKENIZER_CONFIG_FILE) if folder else {}
    if folder is not None and (folder / TOKENIZER_FILE).is_file():
        tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        pad_token = config.get("pad_token")
        if isinstance(pad_token, dict):  # older configs store an AddedToken
            pad_token = pad_token.get("content")
        pad_id = tokenizer.token_to_id(pad_token) if pad_token else None
        limit = config.get("model_max_length")
    else:
        from transformers import AutoTokenizer  # only without tokenizer.json: a heavy import

        loaded = AutoTokenizer.from_pretrained(model_name_or_path)
        if not getattr(loaded, "is_fast", False):
            raise ValueError(f"{model_name_or_path} has no fast tokenizer; the scoring core needs one")
        tokenizer = loaded.backend_tokenizer
        pad_id = loaded.pad_token_id
        limit = loaded.model_max_length
    max_length = int(limit) if limit and limit < NO_LIMIT else None
    return PairTokenizer(tokenizer=tokenizer, pad_id=int(pad_id or 0), model_max_length=max_length)


def pad_batch(
    encoded: Sequence[EncodedPair], pad_id: int, multiple: int = 1, limit: int | None = None
) -> dict[str, np.ndarray]:
    """Right-padded int64 model inputs of a batch: ``input_ids``, ``attention_mask``, ``token_type_ids``.

    ``multiple`` rounds the padded length up (never past ``limit``, the position limit): a runtime
    that compiles kernels per input shape meets fewer shapes, which can outweigh the extra padding.
    """
    longest = max(len(item) for item in encoded)
    rounded = -(-longest // multiple) * multiple
    longest = max(longest, min(rounded, limit)) if limit is not None else rounded
    ids = np.full((len(encoded), longest), pad_id, dtype=np.int64)
    type_ids = np.zeros((len(encoded), longest), dtype=np.int64)
    mask = np.zeros((len(encoded), longest), dtype=np.int64)
    for row, item in enumerate(encoded):
        size = len(item)
        ids[row, :size] = item.ids
        type_ids[row, :size] = item.type_ids
        mask[row, :size] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": type_ids}


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}
