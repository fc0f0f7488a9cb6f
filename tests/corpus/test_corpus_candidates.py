"""Candidate pairs: never a statement with itself, only across articles, deduplicated, and exact
(flat search) against a brute-force reference; HNSW obeys the same rules."""

from __future__ import annotations

import numpy as np
import pytest

from contradict.corpus.candidates import CandidateOptions, Embedder, candidate_pairs, find_candidates
from contradict.corpus.reader import Article
from contradict.corpus.segment import segment_articles
from contradict.settings import Settings, intra_op_threads
from tests.support.corpus import ARTICLES


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def clustered(n: int, articles: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Statements around a few topics, so neighbours are close and crowded like real news."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(8, 32))
    vectors = topics[rng.integers(0, 8, n)] + 0.6 * rng.normal(size=(n, 32))
    return unit(vectors), rng.integers(0, articles, n)


def brute_force(emb, groups, keys, options) -> set[tuple[int, int]]:
    sims = emb @ emb.T
    expected = set()
    for q in range(len(emb)):
        admissible = [
            j
            for j in np.argsort(-sims[q], kind="stable")
            if j != q
            and keys[j] != keys[q]
            and (options.within_article or groups[j] != groups[q])
            and sims[q, j] >= options.min_similarity
        ]
        expected.update((min(q, j), max(q, j)) for j in admissible[: options.top_k])
    return expected


def check_rules(found, emb, groups, keys, options) -> set[tuple[int, int]]:
    pairs = list(zip(found.a.tolist(), found.b.tolist(), strict=True))
    assert all(a < b for a, b in pairs), "a statement paired with itself or an unordered pair"
    assert len(set(pairs)) == len(pairs), "duplicate unordered pair"
    assert pairs == sorted(pairs)
    if not options.within_article:
        assert all(groups[a] != groups[b] for a, b in pairs), "pair inside one article"
    assert all(keys[a] != keys[b] for a, b in pairs), "identical texts paired"
    assert np.all(found.similarity >= options.min_similarity - 1e-6)
    np.testing.assert_allclose(found.similarity, np.sum(emb[found.a] * emb[found.b], axis=1), atol=1e-5)
    return set(pairs)


@pytest.mark.parametrize("within_article", [False, True])
def test_flat_search_matches_brute_force(within_article):
    emb, groups = clustered(400, 12)
    keys = np.arange(len(emb))
    keys[[5, 77]] = 5  # two statements with the same text
    options = CandidateOptions(top_k=3, min_similarity=0.2, within_article=within_article)
    found = find_candidates(emb, groups, keys, options)
    assert check_rules(found, emb, groups, keys, options) == brute_force(emb, groups, keys, options)


def test_crowded_neighbours_trigger_a_deeper_search():
    """An article restating one fact 30 times fills the first results; the others must still be found."""
    rng = np.random.default_rng(1)
    base = rng.normal(size=32)
    same_article = unit(base + 0.01 * rng.normal(size=(30, 32)))
    others = unit(base + 0.3 * rng.normal(size=(3, 32)))
    emb = np.vstack([same_article, others])
    groups = np.array([0] * 30 + [1, 2, 3])
    keys = np.arange(len(emb))
    options = CandidateOptions(top_k=2, min_similarity=0.0)
    found = find_candidates(emb, groups, keys, options)
    pairs = check_rules(found, emb, groups, keys, options)
    assert pairs == brute_force(emb, groups, keys, options)
    assert {b for a, b in pairs if a == 0} & {30, 31, 32}


def test_duplicates_keep_the_highest_similarity_once():
    emb = unit(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]))
    options = CandidateOptions(top_k=2, min_similarity=-1)
    found = find_candidates(emb, np.array([0, 1, 2]), np.arange(3), options)
    assert list(zip(found.a.tolist(), found.b.tolist(), strict=True)) == [(0, 1), (0, 2), (1, 2)]


def test_hnsw_obeys_the_rules_and_finds_nearly_all_neighbours():
    emb, groups = clustered(600, 20, seed=3)
    keys = np.arange(len(emb))
    options = CandidateOptions(top_k=4, min_similarity=0.3, hnsw_min_statements=2)
    found = find_candidates(emb, groups, keys, options)
    pairs = check_rules(found, emb, groups, keys, options)
    expected = brute_force(emb, groups, keys, options)
    assert len(pairs & expected) >= 0.95 * len(expected)
    again = find_candidates(emb, groups, keys, options)
    assert np.array_equal(found.a, again.a) and np.array_equal(found.b, again.b), "HNSW not reproducible"


def test_too_few_statements_and_nothing_similar():
    one = unit(np.ones((1, 4)))
    assert len(find_candidates(one, np.array([0]), np.array([0]), CandidateOptions())) == 0
    emb = unit(np.eye(4))
    assert len(find_candidates(emb, np.arange(4), np.arange(4), CandidateOptions(min_similarity=0.5))) == 0


def test_most_similar_keeps_order():
    emb, groups = clustered(100, 5)
    found = find_candidates(emb, groups, np.arange(100), CandidateOptions(top_k=3, min_similarity=0.0))
    top = found.most_similar(10)
    assert len(top) == 10
    assert sorted(top.similarity.tolist()) == sorted(found.similarity.tolist())[-10:]
    assert list(zip(top.a, top.b, strict=True)) == sorted(zip(top.a, top.b, strict=True))


@pytest.mark.slow  # the real bi-encoder
def test_real_bi_encoder_pairs_statements_about_the_same_fact():
    articles = [Article(a["id"], a["text"]) for a in ARTICLES]
    statements = segment_articles(articles)
    found = candidate_pairs(statements, Embedder(), CandidateOptions(top_k=2, min_similarity=0.5))
    texts = {(statements[a].text, statements[b].text) for a, b in zip(found.a, found.b, strict=True)}
    assert (
        "Officials said twelve people were killed when the bridge collapsed.",
        "Officials said nobody was killed when the bridge collapsed.",
    ) in texts
    assert all(statements[a].article != statements[b].article for a, b in zip(found.a, found.b, strict=True))


EMBED_TEXTS = [
    "The flood killed 12 people.",
    "Officials said the border is well guarded from both the Afghan and the Tajik side, and patrols "
    "run day and night.",
    "Talks resume on Tuesday.",
    "The museum is open on Mondays, except on public holidays, when it closes early in the afternoon.",
    "A dog runs.",
]


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(backend="torch")


def test_openvino_f32_embeds_like_sentence_transformers(torch_embedder):
    """Mixed lengths on purpose: the OpenVINO path sorts by length, so a row put back in the wrong
    place, or a pooling that counted padding, would show here."""
    openvino = Embedder(backend="openvino", precision="f32")
    expected = torch_embedder.encode(EMBED_TEXTS)
    got = openvino.encode(EMBED_TEXTS)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(openvino.encode(EMBED_TEXTS[2:3]), expected[2:3], atol=1e-5)  # no batch-mates


def test_openvino_default_precision_keeps_cosines(torch_embedder):
    """The default (bf16 where the CPU has it) may differ from torch only slightly (3e-5 measured)."""
    expected = torch_embedder.encode(EMBED_TEXTS)
    got = Embedder(backend="openvino").encode(EMBED_TEXTS)
    np.testing.assert_allclose(got @ got.T, expected @ expected.T, atol=2e-3)


def test_embedder_backend_choice_and_identity(monkeypatch):
    import contradict.backends

    assert Embedder(backend="auto").backend == "openvino"
    assert Embedder(backend="auto", device="cuda").backend == "torch"
    # Checkpoints are keyed on the identity: embeddings from another runtime are not reused.
    assert Embedder(backend="torch").identity != Embedder(backend="openvino").identity
    monkeypatch.setattr(contradict.backends, "installed", lambda package: package != "openvino")
    assert Embedder(backend="auto").backend == "torch"
    with pytest.raises(ValueError, match="openvino package is not installed"):
        Embedder(backend="openvino")
    monkeypatch.undo()
    monkeypatch.setenv("CONTRADICT_CORPUS_EMBEDDER_BACKEND", "torch")
    assert Embedder.from_settings(Settings()).backend == "torch"
    monkeypatch.setenv("CONTRADICT_CORPUS_EMBEDDER_BACKEND", "openvino")
    monkeypatch.setenv("CONTRADICT_CORPUS_EMBEDDER_PRECISION", "f32")
    embedder = Embedder.from_settings(Settings())
    assert (embedder.backend, embedder.precision) == ("openvino", "f32")


@pytest.mark.slow  # loads the real bi-encoder
def test_the_embedder_runs_on_the_scorers_intra_op_threads(monkeypatch):
    """One place splits the CPUs (intra_op_threads): the bi-encoder used every core whatever
    CONTRADICT_NUM_THREADS or the worker count said, beside a scorer that obeyed them."""
    monkeypatch.setenv("CONTRADICT_NUM_THREADS", "1")
    monkeypatch.setenv("CONTRADICT_CORPUS_EMBEDDER_BACKEND", "openvino")
    embedder = Embedder.from_settings(Settings())
    assert embedder.num_threads == 1
    embedder.encode(["The bridge opened in 1932."])
    assert int(embedder._openvino.compiled.get_property("INFERENCE_NUM_THREADS")) == 1
    monkeypatch.delenv("CONTRADICT_NUM_THREADS")
    monkeypatch.setenv("CONTRADICT_WORKERS", "2")
    settings = Settings()
    assert Embedder.from_settings(settings).num_threads == intra_op_threads(settings) >= 1
