"""Candidate pairs on Ray: the local exact search in one task, or IVF cells searched by many tasks.

Up to ``ray_exact_max_statements`` statements (1M, a memory bound: bench/ivf_recall.py found the exact
search faster at every size it measured, see the README) one task gathers the embeddings and calls
:func:`~contradict.corpus.candidates.find_candidates`, so the pairs are exactly the local engine's.

Above that no process holds all embeddings or all pairs. A FAISS k-means quantizer
(``ray_ivf_lists`` cells) is trained on a sample of ``ray_ivf_train_sample`` embeddings and broadcast
to the tasks; each statement is a member of its nearest cell and a query of its ``ray_ivf_probe``
nearest cells. One group-by on the cell gives every cell its members and queries, searched with the
same ``find_candidates`` (the same admissibility rules). The pairs of all cells are merged by two more
group-bys: per statement (its ``top_k`` most similar) and per pair (a pair kept when either side keeps
it: the local rule). With every cell probed this is the exact search (tested); with fewer it is
approximate, like the local engine's HNSW above 20k statements.

Either way the pairs are written as a folder of Parquet files (the checkpoint) and read back as a
dataset, so what the scoring stage gets is the same on a first run and on a resumed one.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import ray
from ray.data.aggregate import Max

from contradict.corpus.candidates import CandidateOptions, find_candidates
from contradict.ray_support import save_dataset, shuffle_partitions
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


@ray.remote
def exact_pairs(options: CandidateOptions, threads: int, *tables: pa.Table) -> pa.Table:
    """All statements in this one task: the local engine's search, unchanged, on ``threads`` cores."""
    faiss.omp_set_num_threads(threads)
    return _pairs_of(pa.concat_tables(tables), options)


def node_cpus() -> int:
    """CPUs of the largest node: the exact search is the only work of its stage, so its one task takes
    a whole node (faiss searches with a thread per core; Ray would give it one)."""
    cpus = [int(node["Resources"].get("CPU", 0)) for node in ray.nodes() if node["Alive"]]
    return max([1, *cpus])


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


def pair_columns(batch: pa.Table) -> pa.Table:
    """A batch as ``a_pos``, ``b_pos``, ``similarity`` (float32, as searched; aggregations widen it)."""
    return batch.select(PAIR_SCHEMA.names).cast(PAIR_SCHEMA)


def both_sides(batch: pa.Table) -> pa.Table:
    """Each pair twice, once under each of its statements (``owner``), for the per-statement top-k."""
    pairs = pair_columns(batch)
    return pa.concat_tables([pairs.append_column("owner", pairs[side]) for side in ("a_pos", "b_pos")])


def owner_top_k(group: pa.Table, top_k: int) -> pa.Table:
    """One statement's ``top_k`` most similar pairs, ties broken by the other side's input position
    (a pair found in several cells counted once)."""
    owner = group["owner"][0].as_py()
    pairs = group.group_by(["a_pos", "b_pos"]).aggregate([("similarity", "max")])
    a, b = pairs["a_pos"].to_numpy(), pairs["b_pos"].to_numpy()
    sim = pairs["similarity_max"].to_numpy().astype(np.float32)
    kept = np.lexsort((np.where(a == owner, b, a), -sim))[:top_k]
    return pa.table([a[kept], b[kept], sim[kept]], schema=PAIR_SCHEMA)


def ivf_pairs(
    statements: ray.data.Dataset, count: int, options: CandidateOptions, ray_settings: RaySettings
) -> ray.data.Dataset:
    """The IVF search as Ray Data operations: cells, then per statement, then per pair."""
    centroids = train_quantizer(statements, count, ray_settings)
    cells = statements.map_batches(
        assign_cells,
        fn_kwargs={"centroids": centroids, "probe": ray_settings.ivf_probe},
        batch_format="pyarrow",
    )
    cell_partitions = shuffle_partitions(count * ray_settings.ivf_probe, ray_settings)
    pair_partitions = shuffle_partitions(count * options.top_k, ray_settings)
    kept = (
        cells.groupby("cell", num_partitions=cell_partitions)
        .map_groups(search_cell, fn_kwargs={"options": options}, batch_format="pyarrow")
        .map_batches(both_sides, batch_format="pyarrow")
        .groupby("owner", num_partitions=pair_partitions)
        .map_groups(owner_top_k, fn_kwargs={"top_k": options.top_k}, batch_format="pyarrow")
    )
    # A pair kept by both of its statements once (both copies carry the same similarity).
    once = kept.groupby(["a_pos", "b_pos"], num_partitions=pair_partitions).aggregate(
        Max("similarity", alias_name="similarity")
    )
    return once.map_batches(pair_columns, batch_format="pyarrow")


# -- the stage --------------------------------------------------------------------------------------


def search_candidates(
    statements: ray.data.Dataset, options: CandidateOptions, ray_settings: RaySettings, folder: Path
) -> tuple[ray.data.Dataset | None, int]:
    """The candidate pairs (``a_pos``, ``b_pos``, ``similarity``; no order) and how many, searched or
    read from their checkpoint folder; ``None`` when there are none."""
    if not folder.is_dir():
        statements = statements.select_columns(SEARCH_COLUMNS)
        count = statements.count()
        if count <= ray_settings.exact_max_statements:
            cpus = node_cpus()
            found = exact_pairs.options(num_cpus=cpus).remote(options, cpus, *statements.to_arrow_refs())
            pairs = ray.data.from_arrow_refs([found])
        else:
            pairs = ivf_pairs(statements, count, options, ray_settings)
        save_dataset(pairs, folder)
    files = sorted(folder.glob("*.parquet"))
    count = sum(pq.ParquetFile(file).metadata.num_rows for file in files)
    if not count:
        return None, 0
    # As many blocks as the shuffles after it have partitions: Ray's default splits even a small
    # file into dozens, and every block is a task in each of them.
    blocks = shuffle_partitions(count, ray_settings)
    return ray.data.read_parquet(str(folder), override_num_blocks=blocks), count


__all__ = ["ivf_pairs", "owner_top_k", "search_candidates"]
