"""Candidate pairs on Ray: the local exact search in one task, or IVF cells searched by many tasks.

Up to ``ray_exact_max_statements`` statements (1M by default: 1.5 GB of embeddings, the flat/HNSW
search of the local engine, see the README's scaling plan) one task gathers the embeddings and calls
:func:`~contradict.corpus.candidates.find_candidates`, so the pairs are exactly the local engine's.

Above that no process holds all embeddings. A FAISS k-means quantizer (``ray_ivf_lists`` cells) is
trained on a sample of ``ray_ivf_train_sample`` embeddings and broadcast to the tasks; each statement
is a member of its nearest cell and a query of its ``ray_ivf_probe`` nearest cells. One group-by on
the cell gives every cell its members and queries, searched with the same ``find_candidates`` (the same
admissibility rules); the pairs of all cells are then merged per statement (its ``top_k`` most similar,
a pair kept when either side keeps it: the local rule). With every cell probed this is the exact
search (tested); with fewer it is approximate, like the local engine's HNSW above 20k statements.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import ray

from contradict.corpus.candidates import CandidateOptions, find_candidates
from contradict.corpus.workdir import atomic_write
from contradict.settings import RaySettings

PAIR_SCHEMA = pa.schema([("a_pos", pa.int64()), ("b_pos", pa.int64()), ("similarity", pa.float32())])
SEARCH_COLUMNS = ["pos", "group", "key", "embedding"]


def _embeddings(table: pa.Table) -> np.ndarray:
    column = table["embedding"].combine_chunks()
    return np.ascontiguousarray(column.flatten().to_numpy().reshape(len(table), column.type.list_size))


def _pairs_of(table: pa.Table, options: CandidateOptions) -> pa.Table:
    """``find_candidates`` over one set of statements, as pairs of input positions."""
    table = table.sort_by("pos")
    pos = table["pos"].to_numpy()
    found = find_candidates(_embeddings(table), table["group"].to_numpy(), table["key"].to_numpy(), options)
    return pa.table([pos[found.a], pos[found.b], found.similarity], schema=PAIR_SCHEMA)


def _save(pairs: pa.Table, path: str) -> pa.Table:
    """The candidates checkpoint, sorted by ``(a_pos, b_pos)``: the order shards are numbered in."""
    pairs = pairs.sort_by([("a_pos", "ascending"), ("b_pos", "ascending")])
    sink = pa.BufferOutputStream()
    pq.write_table(pairs, sink)
    atomic_write(Path(path), lambda handle: handle.write(sink.getvalue().to_pybytes()))
    return pairs


@ray.remote
def exact_pairs(options: CandidateOptions, path: str, *tables: pa.Table) -> pa.Table:
    """All statements in this one task: the local engine's search, unchanged."""
    return _save(_pairs_of(pa.concat_tables(tables), options), path)


# -- IVF ---------------------------------------------------------------------------------------------


def train_quantizer(statements: ray.data.Dataset, count: int, ray_settings: RaySettings) -> np.ndarray:
    """k-means centroids from a random sample of the embeddings (the only part seen in one place)."""
    fraction = min(1.0, ray_settings.ivf_train_sample / max(1, count))
    sample = statements.select_columns(["embedding"]).random_sample(fraction, seed=0).to_arrow_refs()
    vectors = _embeddings(pa.concat_tables(ray.get(sample)))
    lists = ray_settings.ivf_lists or max(1, int(4 * math.sqrt(count)))
    lists = max(1, min(lists, len(vectors) // 4 or 1))
    kmeans = faiss.Kmeans(vectors.shape[1], lists, niter=20, seed=0, spherical=True)
    kmeans.train(vectors)
    return kmeans.centroids


def assign_cells(batch: pa.Table, centroids: np.ndarray, probe: int) -> pa.Table:
    """One row per (statement, probed cell); ``member`` marks the statement's own (nearest) cell."""
    quantizer = faiss.IndexFlatIP(centroids.shape[1])
    quantizer.add(centroids)
    _, cells = quantizer.search(_embeddings(batch), min(probe, len(centroids)))
    rows = np.repeat(np.arange(len(batch)), cells.shape[1])
    out = batch.take(pa.array(rows))
    out = out.append_column("cell", pa.array(cells.reshape(-1).astype(np.int64)))
    member = np.zeros(cells.shape, dtype=bool)
    member[:, 0] = True
    return out.append_column("member", pa.array(member.reshape(-1)))


def search_cell(group: pa.Table, options: CandidateOptions) -> pa.Table:
    """A cell's members with the statements that probe it, searched by ``find_candidates``."""
    return _pairs_of(group.drop_columns(["cell", "member"]), options)


def keep_top_k(pairs: pa.Table, top_k: int) -> pa.Table:
    """Per statement its ``top_k`` most similar pairs; a pair stays when either side keeps it."""
    pairs = pairs.group_by(["a_pos", "b_pos"]).aggregate([("similarity", "max")])
    a, b = pairs["a_pos"].to_numpy(), pairs["b_pos"].to_numpy()
    sim = pairs["similarity_max"].to_numpy().astype(np.float32)
    both = np.concatenate([a, b])
    other = np.concatenate([b, a])
    sims = np.concatenate([sim, sim])
    order = np.lexsort((other, -sims, both))  # per statement: most similar first, ties by position
    both, row = both[order], np.concatenate([np.arange(len(a))] * 2)[order]
    starts = np.r_[0, np.flatnonzero(both[1:] != both[:-1]) + 1]
    rank = np.arange(len(both)) - np.repeat(starts, np.diff(np.r_[starts, len(both)]))
    kept = np.unique(row[rank < top_k])
    return pa.table([a[kept], b[kept], sim[kept]], schema=PAIR_SCHEMA)


@ray.remote
def merge_pairs(top_k: int, path: str, *tables: pa.Table) -> pa.Table:
    return _save(keep_top_k(pa.concat_tables([t.cast(PAIR_SCHEMA) for t in tables]), top_k), path)


def ivf_pairs(
    statements: ray.data.Dataset, count: int, options: CandidateOptions, ray_settings: RaySettings, path: str
):
    centroids = train_quantizer(statements, count, ray_settings)
    cells = statements.map_batches(
        assign_cells,
        fn_kwargs={"centroids": centroids, "probe": ray_settings.ivf_probe},
        batch_format="pyarrow",
    )
    found = cells.groupby("cell").map_groups(
        search_cell, fn_kwargs={"options": options}, batch_format="pyarrow"
    )
    return merge_pairs.remote(options.top_k, path, *found.to_arrow_refs())


# -- the stage --------------------------------------------------------------------------------------


def search_candidates(
    statements: ray.data.Dataset, options: CandidateOptions, ray_settings: RaySettings, path: Path
) -> tuple[ray.ObjectRef, int]:
    """The candidate pairs (a table in the object store) and how many; loaded when checkpointed."""
    if path.is_file():
        pairs = pq.read_table(path)
        return ray.put(pairs), len(pairs)
    statements = statements.select_columns(SEARCH_COLUMNS)
    count = statements.count()
    if count <= ray_settings.exact_max_statements:
        pairs = exact_pairs.options(num_cpus=1).remote(options, str(path), *statements.to_arrow_refs())
    else:
        pairs = ivf_pairs(statements, count, options, ray_settings, str(path))
    return pairs, ray.get(count_rows.remote(pairs))


@ray.remote
def count_rows(table: pa.Table) -> int:
    return len(table)


@ray.remote(num_returns="streaming")
def pair_shards(pairs: pa.Table, shard_pairs: int, *records: pa.Table):
    """The pairs with both sides' statement records, one table per checkpoint shard, in pair order."""
    table = pa.concat_tables(records).sort_by("pos")
    pos = table["pos"].to_numpy()
    a = np.searchsorted(pos, pairs["a_pos"].to_numpy())
    b = np.searchsorted(pos, pairs["b_pos"].to_numpy())
    record = table["record"].combine_chunks()
    for shard, start in enumerate(range(0, len(pairs), shard_pairs)):
        stop = min(start + shard_pairs, len(pairs))
        yield pa.table(
            {
                "shard": pa.array([shard] * (stop - start), pa.int64()),
                "shard_size": pa.array([stop - start] * (stop - start), pa.int64()),
                "a_pos": pairs["a_pos"].slice(start, stop - start),
                "b_pos": pairs["b_pos"].slice(start, stop - start),
                "similarity": pairs["similarity"].slice(start, stop - start),
                "a": record.take(pa.array(a[start:stop])),
                "b": record.take(pa.array(b[start:stop])),
            }
        )


__all__ = ["ivf_pairs", "keep_top_k", "pair_shards", "search_candidates"]
