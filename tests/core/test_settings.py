"""Settings: grouped, read from the flat (documented) and the nested variable names, one set of defaults."""

from __future__ import annotations

import pytest

from contradict.corpus.candidates import CandidateOptions, Embedder
from contradict.corpus.pipeline import CorpusOptions
from contradict.corpus.reader import Limits
from contradict.corpus.segment import SegmentOptions
from contradict.settings import FLAT_NAMES, GROUPS, Settings
from service.batcher import DynamicBatcher


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment (no CONTRADICT_* variables, no .env) to set variables in."""
    monkeypatch.chdir(tmp_path)
    for name in FLAT_NAMES:
        monkeypatch.delenv("CONTRADICT_" + name.upper(), raising=False)
    for group, field in FLAT_NAMES.values():
        monkeypatch.delenv(f"CONTRADICT_{group.upper()}__{field.upper()}", raising=False)
    return monkeypatch


def test_documented_flat_variables_reach_their_groups(env):
    for name, value in {
        "MODEL": "/models/x",
        "NUM_THREADS": "2",
        "BATCH_SIZE": "8",
        "MAX_PAIRS_PER_REQUEST": "100",
        "BATCH_MAX_WAIT_MS": "2.5",
        "QUEUE_MAX_TOKENS": "50000",
        "API_KEY": "k",
        "CORPUS_TOP_K": "3",
        "CORPUS_MIN_SIMILARITY": "0.25",
    }.items():
        env.setenv("CONTRADICT_" + name, value)
    settings = Settings()
    scoring, service = settings.scoring, settings.service
    assert (scoring.model, scoring.num_threads, scoring.batch_size) == ("/models/x", 2, 8)
    assert service.max_pairs_per_request == 100 and service.queue_max_tokens == 50000
    assert service.batch_max_wait_ms == 2.5
    assert service.api_key.get_secret_value() == "k"
    assert (settings.corpus.top_k, settings.corpus.min_similarity) == (3, 0.25)


def test_nested_variables_win_over_flat_ones_and_keywords_over_both(env):
    env.setenv("CONTRADICT_CORPUS_TOP_K", "3")
    env.setenv("CONTRADICT_CORPUS__TOP_K", "4")
    env.setenv("CONTRADICT_SCORING__DEVICE", "cuda")
    assert Settings().corpus.top_k == 4
    assert Settings().scoring.device == "cuda"
    settings = Settings(corpus_top_k=5, model="m", batch_max_pairs=7)
    assert (settings.corpus.top_k, settings.scoring.model, settings.service.batch_max_pairs) == (5, "m", 7)
    assert Settings(corpus={"top_k": 6}).corpus.top_k == 6


def test_dotenv_file_with_flat_names_below_the_environment(env, tmp_path):
    (tmp_path / ".env").write_text("CONTRADICT_CORPUS_TOP_K=2\nCONTRADICT_PORT=9000\n")
    env.setenv("CONTRADICT_PORT", "9001")
    settings = Settings()
    assert (settings.corpus.top_k, settings.service.port) == (2, 9001)


def test_bounds_are_checked_whatever_the_spelling(env):
    env.setenv("CONTRADICT_CORPUS_TOP_K", "0")
    with pytest.raises(ValueError, match="corpus.top_k"):
        Settings()
    with pytest.raises(ValueError, match="batch_size"):
        Settings(batch_size=0)


def test_every_flat_name_round_trips(env):
    settings = Settings()
    # Every field of every group has its own flat name: none collide (a count, not a number to update).
    assert set(settings.flat()) == set(FLAT_NAMES)
    assert len(FLAT_NAMES) == sum(len(model.model_fields) for model, _ in GROUPS.values())
    given = {name: value for name, value in settings.flat().items() if value is not None}
    assert Settings(**given) == settings


def test_what_is_built_from_the_settings_has_their_defaults(env):
    """One source of defaults: an option object built with no arguments equals one built from
    default settings."""
    settings = Settings()
    corpus = settings.corpus
    assert CandidateOptions() == CorpusOptions.from_settings(settings).candidates
    assert CandidateOptions().top_k == corpus.top_k == 10
    assert CorpusOptions() == CorpusOptions.from_settings(settings)
    assert SegmentOptions() == CorpusOptions.from_settings(settings).segment
    assert Limits() == CorpusOptions.from_settings(settings).limits
    embedder, configured = Embedder(), Embedder.from_settings(settings)
    assert (embedder.path, embedder.device, embedder.batch_size) == (
        configured.path,
        configured.device,
        configured.batch_size,
    )
    batcher, configured = DynamicBatcher(lambda: None), DynamicBatcher.from_settings(lambda: None, settings)
    for name in ("max_pairs", "max_tokens", "max_wait_s", "queue_max_tokens", "drain_s"):
        assert getattr(batcher, name) == getattr(configured, name)


def test_overrides_of_corpus_options(env):
    options = CorpusOptions.from_settings(
        Settings(corpus_top_k=4), min_similarity=0.1, threshold=0.2, within_article=True
    )
    assert (options.candidates.top_k, options.candidates.min_similarity) == (4, 0.1)
    assert options.candidates.within_article and options.threshold == 0.2
