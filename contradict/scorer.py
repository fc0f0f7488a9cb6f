"""The one scoring core: load an NLI cross-encoder, score statement pairs in batches.

The HTTP service, the CLI, the corpus pipeline, the evaluation and the benchmarks all call
:class:`NLIScorer`; none of them tokenises or maps labels on its own. They are typed against
:class:`Scorer`, the part of it they use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from contradict.backends import Backend, open_backend
from contradict.backends.artifact import weight_files
from contradict.labels import CONTRADICTION, CONTRADICTION_COLUMN, ENTAILMENT, LABELS, NEUTRAL, label_indices
from contradict.settings import SCORING_DEFAULTS, Settings, intra_op_threads
from contradict.tokens import EncodedPair, PairTokenizer, load_pair_tokenizer, pad_batch

logger = logging.getLogger(__name__)

CALIBRATION_FILE = "calibration.json"
METRICS_FILE = "metrics.json"
RUN_ARGS_FILE = "run_args.json"  # training.train's record of its arguments, beside the weights
Pair = tuple[str, str]
ProgressFn = Callable[[int], None]  # called with the number of pairs each forward pass scored


@dataclass(frozen=True)
class Calibration:
    """Post-hoc calibration stored beside the weights (``calibration.json``).

    ``temperature`` divides the logits before the softmax; ``threshold`` is the contradiction
    probability from which ``is_contradiction`` is true -- and the label is contradiction (see
    :func:`decide_labels`).
    """

    temperature: float = 1.0
    threshold: float = 0.5
    rule: str = "uncalibrated: temperature 1, threshold 0.5"

    @classmethod
    def from_folder(cls, folder: Path) -> Calibration | None:
        path = folder / CALIBRATION_FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        try:
            temperature, threshold = float(data.get("temperature", 1.0)), float(data.get("threshold", 0.5))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: temperature and threshold must be numbers ({error})") from error
        # A temperature of 0 gives NaN probabilities and a negative one inverts every ranking; a
        # threshold outside [0, 1] makes is_contradiction always or never true.
        if not (math.isfinite(temperature) and temperature > 0 and 0 <= threshold <= 1):
            raise ValueError(
                f"{path}: temperature must be > 0 and threshold within [0, 1], "
                f"got {temperature} and {threshold}"
            )
        return cls(temperature=temperature, threshold=threshold, rule=str(data.get("rule", "")))

    def save(self, folder: Path) -> None:
        (folder / CALIBRATION_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")


@dataclass(frozen=True)
class PairScore:
    """One pair's calibrated probabilities and decision. ``truncated``: the pair was longer than the
    model's ``max_length`` tokens and was scored on the part that fits (longest text cut first), so
    a contradiction in the cut part goes unseen: split such texts (the documents route, ``corpus``)."""

    contradiction: float
    entailment: float
    neutral: float
    label: str
    is_contradiction: bool
    truncated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def records_from(
    probabilities: np.ndarray, threshold: float, truncated: Sequence[bool] | None = None
) -> list[PairScore]:
    """One :class:`PairScore` per row of calibrated probabilities (``LABELS`` order), its label by
    :func:`decide_labels` at ``threshold``; ``truncated`` per row when known (else all ``False``)."""
    decided = decide_labels(probabilities, threshold)
    cut = [False] * len(probabilities) if truncated is None else truncated
    return [
        PairScore(
            **{label: float(row[column]) for column, label in enumerate(LABELS)},
            label=LABELS[int(index)],
            is_contradiction=bool(index == CONTRADICTION_COLUMN),
            truncated=bool(was_cut),
        )
        for row, index, was_cut in zip(probabilities, decided, cut, strict=True)
    ]


def records_of(
    probabilities: np.ndarray, encoded: Sequence[EncodedPair], *, symmetric: bool, threshold: float
) -> list[PairScore]:
    """Records of pairs scored as one run of encoded items: ``probabilities`` has a row per item of
    ``encoded``, laid out as :func:`both_directions` does when ``symmetric``.

    :meth:`NLIScorer.score` and the service's batcher (which scores a request's items over several
    micro-batches) both end here, so directions and truncation are combined in one place.
    """
    truncated = np.fromiter((item.truncated for item in encoded), dtype=bool, count=len(encoded))
    if symmetric:
        probabilities = combine_both_directions(probabilities)
        half = len(truncated) // 2
        truncated = truncated[:half] | truncated[half:]
    return records_from(probabilities, threshold, truncated)


def both_directions(pairs: Sequence[Pair]) -> list[Pair]:
    """Every (a, b) followed, after all of them, by every (b, a): the layout
    :func:`combine_both_directions` reads back."""
    return [*pairs, *((b, a) for a, b in pairs)]


def combine_both_directions(both: np.ndarray) -> np.ndarray:
    """Probabilities of :func:`both_directions` pairs -> one row per original pair."""
    half = len(both) // 2
    return combine_directions(both[:half], both[half:])


def combine_directions(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Symmetric rule: per pair keep the direction with the higher contradiction probability.

    Contradiction is symmetric (if a contradicts b, b contradicts a) while entailment is not, so
    the whole distribution of the more contradicting direction is kept; rows still sum to 1.
    """
    take_backward = backward[:, CONTRADICTION_COLUMN] > forward[:, CONTRADICTION_COLUMN]
    return np.where(take_backward[:, None], backward, forward)


def decide_labels(probabilities: np.ndarray, threshold: float) -> np.ndarray:
    """The one decision rule: label indices (``LABELS`` order) for calibrated probabilities.

    A pair is labelled contradiction exactly when its contradiction probability reaches the
    threshold; otherwise it takes the more probable of the other labels. So ``label`` and
    ``is_contradiction`` can never disagree, which a plain argmax beside a threshold allows
    (argmax entailment at 0.55 with contradiction 0.40 over a 0.31 threshold).
    """
    others = probabilities.copy()
    others[:, CONTRADICTION_COLUMN] = -np.inf
    return np.where(
        probabilities[:, CONTRADICTION_COLUMN] >= threshold, CONTRADICTION_COLUMN, others.argmax(axis=1)
    )


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Temperature-scaled, numerically stable softmax over the last axis."""
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


def resolve_model_folder(name_or_path: str) -> Path | None:
    """The local model folder, ``None`` for a hub id; a path-like name that is missing is an error.

    Without this a mistyped folder is passed on as a hub id and fails (offline, after retries)
    with a message about repo ids instead of the missing folder.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    parent = Path(name_or_path).parent
    path_like = (
        path.is_absolute()
        or name_or_path.startswith((".", "~"))
        or "\\" in name_or_path
        or name_or_path.count("/") > 1
        or path.exists()
        or (str(parent) != "." and parent.is_dir())
    )
    if path_like:
        raise FileNotFoundError(
            f"model folder {path} does not exist (a model is a local folder with config.json, "
            "weights and tokenizer files)"
        )
    return None


def trained_max_length(folder: Path | None) -> int | None:
    """The tokens per pair the model in ``folder`` was trained with, as its records say:
    ``metrics.json``'s ``training.max_length`` (an exported model), else ``run_args.json``'s
    ``max_length`` (a training.train checkpoint); ``None`` without a record."""
    if folder is None:
        return None
    recorded = _read_json(folder / METRICS_FILE).get("training", {}).get("max_length")
    if recorded is None:
        recorded = _read_json(folder / RUN_ARGS_FILE).get("max_length")
    return int(recorded) if recorded else None


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


class Scorer(Protocol):
    """What the service, the corpus scan and the evaluation use of a scorer.

    :class:`NLIScorer` is the implementation; this names the contract they are typed against.
    """

    name: str
    version: str
    calibration: Calibration
    max_length: int  # tokens per pair; part of what identifies scores (corpus checkpoints)

    def probabilities(
        self,
        pairs: Sequence[Pair],
        *,
        symmetric: bool = False,
        calibrated: bool = True,
        batch_size: int | None = None,
        progress: ProgressFn | None = None,
    ) -> np.ndarray: ...

    def score(
        self,
        pairs: Sequence[Pair],
        *,
        symmetric: bool = False,
        threshold: float | None = None,
        batch_size: int | None = None,
        progress: ProgressFn | None = None,
    ) -> list[PairScore]: ...

    def encode(self, pairs: Sequence[Pair]) -> list[EncodedPair]:
        """Tokenise pairs once, for a caller that batches them itself (the service's batcher)."""
        ...

    def probabilities_encoded(
        self,
        encoded: Sequence[EncodedPair],
        *,
        calibrated: bool = True,
        batch_size: int | None = None,
        progress: ProgressFn | None = None,
    ) -> np.ndarray:
        """:meth:`probabilities` of pairs :meth:`encode` already tokenised (one direction)."""
        ...

    def info(self) -> dict[str, Any]:
        """Name, version, labels, max length, calibration and test metrics (``GET /v1/model``)."""
        ...


class NLIScorer:
    """Load a sequence-classification NLI model and turn statement pairs into label probabilities.

    Two entry points, as sentence-transformers' ``CrossEncoder`` has: :meth:`probabilities` (an
    array) and :meth:`score` (records). Probability columns are always in
    :data:`contradict.labels.LABELS` order (contradiction, entailment, neutral), whatever order the
    model's ``id2label`` uses. Defaults are the settings' (:class:`contradict.settings.ScoringSettings`).
    """

    def __init__(
        self,
        model_name_or_path: str,
        *,
        device: str = SCORING_DEFAULTS.device,
        batch_size: int = SCORING_DEFAULTS.batch_size,
        max_tokens_per_batch: int = SCORING_DEFAULTS.max_tokens_per_batch,
        max_length: int | None = SCORING_DEFAULTS.max_length,
        num_threads: int | None = SCORING_DEFAULTS.num_threads,
        calibration: Calibration | None = None,
        backend: str = SCORING_DEFAULTS.backend,
        precision: str = SCORING_DEFAULTS.precision,
    ) -> None:
        """Args:
        model_name_or_path: a local model folder (config, weights, tokenizer) or a hub id.
        device: torch device (the ONNX backend runs on CPU only).
        batch_size: max pairs per forward pass.
        max_tokens_per_batch: max padded tokens per forward pass.
        max_length: tokens per pair; ``None``: the length the model was trained with when its folder
            records it (:func:`trained_max_length`), else the tokenizer's limit. Never more than the
            model's position limit.
        num_threads: intra-op threads of the backend; ``None``: one per CPU.
        calibration: overrides the folder's ``calibration.json`` (uncalibrated without one).
        backend: ``auto`` (the ONNX export when it is there and fresh, on OpenVINO or ONNX Runtime,
            else torch), ``torch``, ``onnx`` or ``openvino`` (:func:`contradict.backends.open_backend`).
        precision: the openvino backend's compute precision: ``auto`` (OpenVINO's own choice for the
            CPU, :class:`contradict.settings.ScoringSettings`), ``f32`` or ``bf16``.
        """
        self.name_or_path = model_name_or_path
        folder = resolve_model_folder(model_name_or_path)  # before loading: fail fast on a missing folder
        self.device = device
        self.batch_size = batch_size
        self.max_tokens_per_batch = max_tokens_per_batch
        self.backend: Backend = open_backend(
            backend, model_name_or_path, folder, device=device, num_threads=num_threads, precision=precision
        )
        self.tokenizer: PairTokenizer = load_pair_tokenizer(model_name_or_path, folder)
        id2label = self.backend.id2label
        indices = label_indices(id2label)  # refuses models whose labels cannot be mapped
        self.label_order = [indices[label] for label in LABELS]
        self.id2label = dict(id2label)
        model_max = self.backend.max_positions
        tokenizer_max = self.tokenizer.model_max_length or model_max
        wanted = max_length or trained_max_length(folder) or tokenizer_max
        self.max_length = min(wanted, tokenizer_max, model_max)
        self.tokenizer.truncate_to(self.max_length)

        self.calibration = calibration or (folder and Calibration.from_folder(folder)) or Calibration()
        self.metrics: dict[str, Any] = _read_json(folder / METRICS_FILE) if folder else {}
        self.name = self.metrics.get("name") or (folder.name if folder else model_name_or_path)
        self.version = self.metrics.get("version") or self._weights_digest(folder)
        logger.info("scoring %s %s with %s", self.name, self.version, self.backend.describe())

    @classmethod
    def from_settings(cls, settings: Settings) -> NLIScorer:
        """The scorer the settings describe (``settings.scoring``)."""
        scoring = settings.scoring
        return cls(
            scoring.model,
            device=scoring.device,
            batch_size=scoring.batch_size,
            max_tokens_per_batch=scoring.max_tokens_per_batch,
            max_length=scoring.max_length,
            num_threads=intra_op_threads(settings),
            backend=scoring.backend,
            precision=scoring.precision,
        )

    @staticmethod
    def _weights_digest(folder: Path | None) -> str:
        if folder is None:
            return "unknown"
        digest = hashlib.sha256()
        for weights in weight_files(folder):  # safetensors, else PyTorch .bin: never an empty hash
            digest.update(weights.read_bytes())
        return digest.hexdigest()[:12]

    def info(self) -> dict[str, Any]:
        """Name, version, labels, max length, calibration and test metrics.

        Never where the model sits on disk: this is public (``GET /v1/model``), and an absolute path
        tells a caller about the server's file system. Name and version identify the model.
        """
        return {
            "name": self.name,
            "version": self.version,
            "labels": {str(k): v for k, v in sorted(self.id2label.items())},
            "max_length": self.max_length,
            "calibration": asdict(self.calibration),
            "runtime": self.backend.describe(),
            "metrics": self.metrics.get("test", self.metrics),
        }

    # -- scoring ---------------------------------------------------------------------------------

    def probabilities(
        self,
        pairs: Sequence[Pair],
        *,
        symmetric: bool = False,
        calibrated: bool = True,
        batch_size: int | None = None,
        progress: ProgressFn | None = None,
    ) -> np.ndarray:
        """Label probabilities of statement pairs.

        Args:
            pairs: (premise, hypothesis) pairs.
            symmetric: score (a, b) and (b, a) and keep, per pair, the row of the direction with the
                higher contradiction probability (:func:`combine_directions`).
            calibrated: divide the logits by the calibration temperature (``False``: temperature 1).
                ``np.log`` of uncalibrated probabilities stands in for the logits wherever a
                temperature is fitted or applied: log-softmax differs from the logits by one
                constant per row, which a softmax ignores.
            batch_size: max pairs per forward pass; ``None``: the scorer's.
            progress: called with the number of pairs after each forward pass (twice as many in
                all when symmetric).

        Returns:
            float32 array of shape (len(pairs), 3), columns in ``LABELS`` order, rows in input
            order; each row sums to 1.
        """
        pairs = list(pairs)
        if symmetric:
            both = self.probabilities(
                both_directions(pairs), calibrated=calibrated, batch_size=batch_size, progress=progress
            )
            return combine_both_directions(both)
        return self.probabilities_encoded(
            self.encode(pairs), calibrated=calibrated, batch_size=batch_size, progress=progress
        )

    def probabilities_encoded(
        self,
        encoded: Sequence[EncodedPair],
        *,
        calibrated: bool = True,
        batch_size: int | None = None,
        progress: ProgressFn | None = None,
    ) -> np.ndarray:
        """:meth:`probabilities` (one direction) of pairs :meth:`encode` already tokenised.

        For a caller that keeps encodings between tokenising and scoring (the service's batcher
        tokenises a request once, on admission); padding happens here, once per forward pass.
        """
        logits = self._logits_encoded(encoded, batch_size, progress)[:, self.label_order]
        return softmax(logits, self.calibration.temperature if calibrated else 1.0)

    def score(
        self,
        pairs: Sequence[Pair],
        *,
        symmetric: bool = False,
        threshold: float | None = None,
        batch_size: int | None = None,
        progress: ProgressFn | None = None,
    ) -> list[PairScore]:
        """Score statement pairs as the service returns them.

        Args:
            pairs, symmetric, batch_size, progress: as for :meth:`probabilities`.
            threshold: the decision rule's contradiction threshold; ``None``: the calibrated one.

        Returns:
            One :class:`PairScore` per pair, in input order: calibrated probabilities, the label of
            the decision rule (:func:`decide_labels`), ``is_contradiction`` and ``truncated``.
        """
        pairs = list(pairs)
        items = both_directions(pairs) if symmetric else pairs
        encoded = self.encode(items)
        probabilities = self.probabilities_encoded(encoded, batch_size=batch_size, progress=progress)
        cut = self.calibration.threshold if threshold is None else threshold
        return records_of(probabilities, encoded, symmetric=symmetric, threshold=cut)

    # -- tokenisation and batching -------------------------------------------------------------

    def encode(self, pairs: Sequence[Pair]) -> list[EncodedPair]:
        """Tokenise pairs as real text pairs (segment ids, [SEP]), truncated longest-first to
        :attr:`max_length`; one unpadded :class:`EncodedPair` per pair."""
        return self.tokenizer.encode(pairs)

    def _batches(self, lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
        """Length-sorted batches bounded by pairs and padded tokens, to cut padding."""
        order = sorted(range(len(lengths)), key=lengths.__getitem__)
        batch: list[int] = []
        for index in order:
            longest = lengths[index]  # ascending order: the newest item is the longest
            if batch and (len(batch) >= batch_size or longest * (len(batch) + 1) > self.max_tokens_per_batch):
                yield batch
                batch = []
            batch.append(index)
        if batch:
            yield batch

    def _logits(
        self, pairs: Sequence[Pair], batch_size: int | None = None, progress: ProgressFn | None = None
    ) -> np.ndarray:
        """Raw logits in the model's own label order, rows in input order."""
        return self._logits_encoded(self.encode(pairs), batch_size, progress)

    def _logits_encoded(
        self,
        encoded: Sequence[EncodedPair],
        batch_size: int | None = None,
        progress: ProgressFn | None = None,
    ) -> np.ndarray:
        out = np.zeros((len(encoded), len(self.id2label)), dtype=np.float32)
        lengths = [len(item) for item in encoded]
        for batch in self._batches(lengths, batch_size or self.batch_size):
            features = pad_batch(
                [encoded[i] for i in batch],
                self.tokenizer.pad_id,
                multiple=self.backend.pad_multiple,
                limit=self.backend.max_positions,
            )
            out[batch] = self.backend.logits(features)
            if progress is not None:
                progress(len(batch))
        return out


__all__ = [
    "CONTRADICTION",
    "ENTAILMENT",
    "NEUTRAL",
    "Calibration",
    "EncodedPair",
    "NLIScorer",
    "PairScore",
    "Scorer",
    "both_directions",
    "combine_both_directions",
    "combine_directions",
    "decide_labels",
    "records_from",
    "records_of",
    "softmax",
    "trained_max_length",
]
