"""Unit tests of the scoring core (contradict/scorer.py), its use of the label mapping included; the
mapping functions themselves (contradict/labels.py) are tested in test_labels.py.

All models are tiny, random and real (tests/support/models.py): the numbers mean nothing as NLI
predictions, but batching, ordering, label mapping, truncation and calibration are exercised on
real tokenisation and real forward passes.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification

from contradict.backends.artifact import token_positions
from contradict.labels import (
    CONTRADICTION,
    LABELS,
    NEUTRAL,
    LabelMappingError,
    canonical_label,
    label_indices,
)
from contradict.scorer import Calibration, NLIScorer, Scorer, decide_labels, records_from, softmax
from tests.support.models import build_tiny_model, build_varied_model, copy_tokenizer, token_counts

TEXT = (
    "the river flooded the old town after three days of heavy rain while the mayor stayed in the "
    "capital and the council met twice to discuss the damage to bridges roads and the harbour"
)
WORDS = TEXT.split()


def sentence(n_words: int, offset: int = 0) -> str:
    return " ".join(WORDS[(offset + i) % len(WORDS)] for i in range(n_words)).capitalize() + "."


# Lengths chosen so that length-sorting reorders them and batches mix short and long pairs.
PAIRS = [(sentence(3 + (7 * i) % 23, i), sentence(2 + (5 * i) % 17, 3 * i)) for i in range(13)]


@pytest.fixture(scope="module")
def varied_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny model re-initialised so its outputs depend clearly on the input.

    With the default initialisation every pair gets ~(0.325, 0.336, 0.339), so rows differ by
    ~1e-5 and a mixed-up order would pass a 1e-5 comparison. Larger weights make rows differ by
    ~1e-2, and a centring bias makes different pairs win different labels.
    """
    return build_varied_model(tiny_model_dir, tmp_path_factory.mktemp("varied-nli"), PAIRS)


@pytest.fixture(scope="module")
def scorer(varied_model_dir) -> NLIScorer:
    return NLIScorer(str(varied_model_dir))


def test_varied_model_outputs_differ_between_pairs(scorer):
    probabilities = scorer.probabilities(PAIRS)
    assert probabilities.std(axis=0).min() > 1e-3
    assert len(set(probabilities.argmax(axis=1))) >= 2


def one_by_one(scorer: NLIScorer, pairs, **kwargs) -> np.ndarray:
    return np.vstack([scorer.probabilities([pair], **kwargs) for pair in pairs])


# -- batching and order -----------------------------------------------------------------------


@pytest.mark.parametrize("max_tokens", [64, 16384])
@pytest.mark.parametrize("batch_size", [1, 3, 32])
def test_batched_equals_one_by_one(varied_model_dir, batch_size, max_tokens):
    scorer = NLIScorer(str(varied_model_dir), batch_size=batch_size, max_tokens_per_batch=max_tokens)
    batch_sizes: list[int] = []
    batched = scorer.probabilities(PAIRS, progress=batch_sizes.append)

    assert batched.shape == (len(PAIRS), 3)
    assert np.allclose(batched, one_by_one(scorer, PAIRS), atol=1e-5)
    assert sum(batch_sizes) == len(PAIRS)
    assert max(batch_sizes) <= batch_size


def test_batches_respect_pair_and_token_bounds(tiny_model_dir):
    scorer = NLIScorer(str(tiny_model_dir), batch_size=4, max_tokens_per_batch=64)
    lengths = [len(item) for item in scorer.encode(PAIRS)]
    batches = list(scorer._batches(lengths, scorer.batch_size))

    assert sorted(i for batch in batches for i in batch) == list(range(len(PAIRS)))
    for batch in batches:
        assert len(batch) <= 4
        # A single pair longer than the token budget still gets a batch of its own.
        assert len(batch) == 1 or max(lengths[i] for i in batch) * len(batch) <= 64


def test_order_preserved_under_permutation(scorer):
    permutation = np.random.default_rng(0).permutation(len(PAIRS))
    shuffled = scorer.probabilities([PAIRS[i] for i in permutation])
    assert np.allclose(shuffled, scorer.probabilities(PAIRS)[permutation], atol=1e-6)


def test_score_rows_match_probabilities_and_label_follows_the_decision_rule(scorer):
    probabilities = scorer.probabilities(PAIRS)
    results = scorer.score(PAIRS)

    assert len(results) == len(PAIRS)
    for row, result in zip(probabilities, results, strict=True):
        assert np.allclose([result.contradiction, result.entailment, result.neutral], row, atol=1e-7)
        assert result.label == LABELS[int(decide_labels(row[None, :], scorer.calibration.threshold)[0])]
        assert result.is_contradiction == (result.label == CONTRADICTION)
        assert abs(result.contradiction + result.entailment + result.neutral - 1) < 1e-5


def test_the_scorer_protocol_states_the_cores_signatures():
    """The Protocol the service, the corpus scan and the evaluation are typed against restates the
    core's public methods; they must not drift apart."""
    for name in ("probabilities", "score", "encode", "probabilities_encoded", "info"):
        assert inspect.signature(getattr(Scorer, name)) == inspect.signature(getattr(NLIScorer, name)), name


def test_empty_input(scorer):
    assert scorer.probabilities([]).shape == (0, 3)
    assert scorer.score([]) == []


def test_encoding_is_what_transformers_gives(varied_model_dir):
    """The core tokenises with ``tokenizers`` alone; ids must be those of transformers' tokenizer
    called as the core used to call it (text pairs, longest-first truncation)."""
    from transformers import AutoTokenizer

    scorer = NLIScorer(str(varied_model_dir), max_length=24)
    reference = AutoTokenizer.from_pretrained(varied_model_dir)(
        [a for a, _ in PAIRS], [b for _, b in PAIRS], truncation="longest_first", max_length=24
    )
    encoded = scorer.encode(PAIRS)
    assert [list(item.ids) for item in encoded] == reference["input_ids"]
    assert [list(item.type_ids) for item in encoded] == reference["token_type_ids"]


# -- symmetric rule ---------------------------------------------------------------------------


def test_symmetric_keeps_more_contradicting_direction(scorer):
    pairs = [*PAIRS, ("Same words here.", "Same words here.")]
    forward = scorer.probabilities(pairs)
    backward = scorer.probabilities([(b, a) for a, b in pairs])
    expected = np.array(
        [b if b[0] > f[0] else f for f, b in zip(forward, backward, strict=True)], dtype=forward.dtype
    )
    progress: list[int] = []
    symmetric = scorer.probabilities(pairs, symmetric=True, progress=progress.append)

    assert not np.allclose(forward, backward, atol=1e-4)  # the two directions really differ
    assert np.allclose(symmetric, expected, atol=1e-5)
    assert np.all(symmetric[:, 0] >= np.maximum(forward[:, 0], backward[:, 0]) - 1e-6)
    assert sum(progress) == 2 * len(pairs)
    assert [r.as_dict() for r in scorer.score(pairs, symmetric=True)] == [
        r.as_dict() for r in records_from(symmetric, scorer.calibration.threshold)
    ]


# -- label mapping (the scorer's side; the functions are in test_labels.py) ---------------------


def permuted_copy(base_dir, id2label: dict[int, str], folder):
    """The base model with its classifier rows permuted to ``id2label``'s order: same function,
    different label order, as real NLI checkpoints have."""
    model = AutoModelForSequenceClassification.from_pretrained(base_dir)
    base_index = label_indices(model.config.id2label)
    rows = [base_index[canonical_label(id2label[i])] for i in range(len(id2label))]
    with torch.no_grad():
        model.classifier.weight.copy_(model.classifier.weight[rows].clone())
        model.classifier.bias.copy_(model.classifier.bias[rows].clone())
    model.config.id2label = dict(id2label)
    model.config.label2id = {label: index for index, label in id2label.items()}
    model.save_pretrained(folder)
    copy_tokenizer(base_dir, folder)
    return folder, rows


REAL_ORDERS = {
    # cross-encoder/nli-* models
    "cross-encoder": {0: "contradiction", 1: "entailment", 2: "neutral"},
    # roberta-large-mnli
    "roberta-mnli": {0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"},
    # facebook/bart-large-mnli
    "bart-mnli": {0: "contradiction", 1: "neutral", 2: "entailment"},
    # e.g. MoritzLaurer/DeBERTa-v3-*-mnli-fever-anli
    "deberta-mnli-fever-anli": {0: "entailment", 1: "neutral", 2: "contradiction"},
    # spelling variants
    "variants": {0: "Entailment", 1: "Contradictory", 2: "NEUTRAL"},
}


@pytest.mark.parametrize("name", list(REAL_ORDERS))
def test_label_orders_give_identical_canonical_probabilities(scorer, varied_model_dir, tmp_path, name):
    folder, rows = permuted_copy(varied_model_dir, REAL_ORDERS[name], tmp_path / name)
    permuted = NLIScorer(str(folder))

    # The raw outputs really are in the other order ...
    assert np.allclose(permuted._logits(PAIRS), scorer._logits(PAIRS)[:, rows], atol=1e-5)
    # ... and the canonical probabilities and labels come out the same.
    assert np.allclose(permuted.probabilities(PAIRS), scorer.probabilities(PAIRS), atol=1e-6)
    assert [r.label for r in permuted.score(PAIRS)] == [r.label for r in scorer.score(PAIRS)]


@pytest.mark.parametrize(
    "id2label",
    [{0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, {0: "entailment", 1: "contradiction"}],
    ids=["generic-names", "two-labels"],
)
def test_scorer_refuses_unmappable_model(tmp_path, id2label):
    folder = build_tiny_model(tmp_path / "unmappable", id2label)
    with pytest.raises(LabelMappingError):
        NLIScorer(str(folder))


def test_missing_model_folder_is_reported_as_such(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        NLIScorer(str(tmp_path / "no-such-model"))


# -- truncation -------------------------------------------------------------------------------


def test_long_pair_is_truncated_longest_first(tiny_model_dir):
    scorer = NLIScorer(str(tiny_model_dir), max_length=48)
    long_premise, long_hypothesis, short = sentence(400), sentence(300, 5), "The mayor stayed home."
    encoded = scorer.encode([(long_premise, short), (long_premise, long_hypothesis)])

    assert scorer.max_length == 48
    assert all(len(item) == 48 for item in encoded)
    # Longest first: a short hypothesis survives whole; two long texts are cut to equal shares.
    short_ids = scorer.tokenizer.tokens(short)
    first, second = encoded
    assert sum(first.type_ids) == len(short_ids) + 1  # its tokens and the final [SEP]
    assert abs(list(second.type_ids).count(0) - list(second.type_ids).count(1)) <= 2

    probabilities = scorer.probabilities([(long_premise, long_hypothesis), PAIRS[0]])
    assert probabilities.shape == (2, 3)
    assert np.all(np.isfinite(probabilities))


def test_truncated_says_whether_the_tokenizer_cut_the_pair(varied_model_dir):
    """A pair of exactly max_length tokens is read whole; one token more is cut, and says so."""
    fits, over, short = (sentence(20), sentence(9, 4)), (sentence(21), sentence(9, 4)), PAIRS[0]
    whole = [len(item) for item in NLIScorer(str(varied_model_dir)).encode([fits, over])]
    assert whole[1] == whole[0] + 1  # one more word, one more token
    scorer = NLIScorer(str(varied_model_dir), max_length=whole[0])

    encoded = scorer.encode([fits, over, short])
    assert [item.truncated for item in encoded] == [False, True, False]
    assert [len(item) for item in encoded[:2]] == [whole[0], whole[0]]

    results = scorer.score([over, short, fits])
    assert [r.truncated for r in results] == [True, False, False]
    assert [r.as_dict()["truncated"] for r in results] == [True, False, False]
    # Both directions have the same tokens, so a cut pair is cut either way round.
    assert [r.truncated for r in scorer.score([short, over], symmetric=True)] == [False, True]


def test_score_takes_a_threshold_for_the_decision_rule(scorer):
    contradiction = scorer.probabilities(PAIRS)[:, 0]
    cut = float(np.median(contradiction))
    results = scorer.score(PAIRS, threshold=cut)
    assert [r.is_contradiction for r in results] == [bool(c >= cut) for c in contradiction]
    assert any(r.is_contradiction for r in results) and not all(r.is_contradiction for r in results)


def test_max_length_is_capped_by_the_model(tiny_model_dir):
    scorer = NLIScorer(str(tiny_model_dir), max_length=10_000)
    assert scorer.max_length == 128  # the tiny model's position limit
    assert max(token_counts(scorer, [(sentence(500), sentence(500, 7))])) <= 128


def test_max_length_defaults_to_the_recorded_training_length(tiny_model_copy):
    assert NLIScorer(str(tiny_model_copy)).max_length == 128  # no record: the tokenizer's limit
    (tiny_model_copy / "run_args.json").write_text(json.dumps({"max_length": 40}))
    assert NLIScorer(str(tiny_model_copy)).max_length == 40  # a training.train checkpoint
    (tiny_model_copy / "metrics.json").write_text(json.dumps({"training": {"max_length": 32}}))
    scorer = NLIScorer(str(tiny_model_copy))
    assert scorer.max_length == 32 == scorer.info()["max_length"]  # an exported model
    assert max(token_counts(scorer, [(sentence(500), sentence(500, 7))])) == 32
    assert NLIScorer(str(tiny_model_copy), max_length=64).max_length == 64  # the setting wins


# -- calibration ------------------------------------------------------------------------------


def test_calibration_file_sets_temperature_and_threshold(scorer, varied_model_dir, tmp_path):
    folder = Path(shutil.copytree(varied_model_dir, tmp_path / "calibrated"))
    Calibration(temperature=2.5, threshold=0.3, rule="test").save(folder)
    calibrated = NLIScorer(str(folder))

    assert calibrated.calibration == Calibration(temperature=2.5, threshold=0.3, rule="test")
    assert calibrated.info()["calibration"]["temperature"] == 2.5
    logits = scorer._logits(PAIRS)  # the varied model's labels are in LABELS order
    expected = np.exp(logits / 2.5) / np.exp(logits / 2.5).sum(axis=1, keepdims=True)
    probabilities = calibrated.probabilities(PAIRS)
    assert np.allclose(probabilities, expected, atol=1e-6)
    # A temperature reshapes confidence but never changes the predicted label.
    assert np.array_equal(probabilities.argmax(axis=1), scorer.probabilities(PAIRS).argmax(axis=1))
    for row, result in zip(probabilities, calibrated.score(PAIRS), strict=True):
        assert result.is_contradiction == (row[0] >= 0.3)
    # Uncalibrated: temperature 1 whatever the file says; their log stands in for the logits.
    uncalibrated = calibrated.probabilities(PAIRS, calibrated=False)
    assert np.allclose(uncalibrated, scorer.probabilities(PAIRS), atol=1e-7)
    assert np.allclose(softmax(np.log(uncalibrated), 2.5), probabilities, atol=1e-6)
    symmetric = calibrated.probabilities(PAIRS, symmetric=True, calibrated=False)
    assert np.allclose(symmetric, scorer.probabilities(PAIRS, symmetric=True), atol=1e-7)


def test_label_and_is_contradiction_follow_the_threshold_not_argmax(tiny_model_copy):
    Calibration(temperature=1.0, threshold=0.3).save(tiny_model_copy)
    calibrated = NLIScorer(str(tiny_model_copy))
    rows = np.array([[0.31, 0.5, 0.19], [0.29, 0.2, 0.51], [0.7, 0.2, 0.1]])
    results = records_from(rows, calibrated.calibration.threshold)

    # Contradiction at 0.31 >= 0.3 wins over an argmax entailment; below it, the larger other label.
    assert [r.label for r in results] == [CONTRADICTION, NEUTRAL, CONTRADICTION]
    assert [r.is_contradiction for r in results] == [True, False, True]


def test_uncalibrated_defaults(scorer):
    assert (scorer.calibration.temperature, scorer.calibration.threshold) == (1.0, 0.5)
    rows = np.array([[0.5, 0.25, 0.25], [0.49, 0.5, 0.01]])
    assert [r.is_contradiction for r in records_from(rows, scorer.calibration.threshold)] == [True, False]


# -- other model families and folders ---------------------------------------------------------


def test_a_roberta_family_model_reads_its_position_limit_less_the_padding_offset(tiny_model_dir, tmp_path):
    """RoBERTa-style position ids start after the padding index: max_position_embeddings 66 holds
    64 tokens (514 holds 512). A long pair must be cut to that, not index past the table; and a
    model with one segment type gets no second segment's type ids from a BERT-style tokenizer."""
    from transformers import RobertaConfig, RobertaForSequenceClassification

    torch.manual_seed(0)
    id2label = {0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}
    config = RobertaConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=66, pad_token_id=1, type_vocab_size=1, id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )  # fmt: skip
    RobertaForSequenceClassification(config).eval().save_pretrained(tmp_path)
    copy_tokenizer(tiny_model_dir, tmp_path)
    tokenizer_config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    tokenizer_config.pop("model_max_length", None)  # as older hub snapshots have it
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))

    scorer = NLIScorer(str(tmp_path), backend="torch")
    assert scorer.backend.max_positions == 64 and scorer.max_length == 64
    probabilities = scorer.probabilities([(sentence(200), sentence(100, 3)), PAIRS[0]])
    assert probabilities.shape == (2, 3) and np.all(np.isfinite(probabilities))
    assert token_positions({"model_type": "bert", "max_position_embeddings": 512}) == 512
    assert (
        token_positions({"model_type": "xlm-roberta", "max_position_embeddings": 514, "pad_token_id": 1})
        == 512
    )


def test_the_version_of_a_folder_without_metrics_hashes_bin_weights_too(tiny_model_dir, tmp_path):
    """Corpus checkpoints are keyed on name and version: two .bin checkpoints must not share the
    hash of nothing, or a resumed scan reuses the other weights' scores."""
    versions = []
    for seed in (1, 2):
        folder = tmp_path / f"bin-{seed}"
        torch.manual_seed(seed)
        model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir)
        for parameter in model.parameters():
            torch.nn.init.normal_(parameter, std=0.05)
        model.config.save_pretrained(folder)
        torch.save(model.state_dict(), folder / "pytorch_model.bin")  # an older checkpoint's format
        copy_tokenizer(tiny_model_dir, folder)
        assert not list(folder.glob("*.safetensors"))
        versions.append(NLIScorer(str(folder), backend="torch").version)
    assert versions[0] != versions[1]
    assert hashlib.sha256(b"").hexdigest()[:12] not in versions


@pytest.mark.parametrize(
    "calibration",
    [
        {"temperature": 0},
        {"temperature": -1.5},
        {"threshold": 1.7},
        {"temperature": None},
        {"threshold": "high"},
    ],
)
def test_a_calibration_file_out_of_range_is_refused_naming_it(tiny_model_copy, calibration):
    (tiny_model_copy / "calibration.json").write_text(json.dumps(calibration))
    with pytest.raises(ValueError, match="calibration.json"):
        NLIScorer(str(tiny_model_copy))
