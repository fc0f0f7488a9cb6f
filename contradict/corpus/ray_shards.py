"""Candidate pairs into scoring shards with both statements' records, by Ray Data operations.

At cluster scale neither the pairs (hundreds of millions) nor the statements' records (texts and
places, ~0.4 KB each) fit one process, so nothing here gathers them:

    number   a distributed sort by ``(a_pos, b_pos)``; each sorted block numbered from the sizes of
             the blocks before it (one integer per block reaches the driver), ``shard`` = number //
             ``corpus_shard_pairs``: the local engine's shard order, the same on every run of the
             same candidates, which is what lets a resumed run find its finished shards
    join     per side (``a_pos``, then ``b_pos``): the pairs and the statements in one group-by on
             the statement's position (``ray_shuffle_partition_rows`` rows per partition), each group
             one statement's record and its pairs, the record copied onto them. A group-by rather
             than ``Dataset.join``: Ray's join needs polars, which the ``ray`` extra does not bring
    pack     the group-by on ``shard`` puts each shard, checked whole and back in ``(a_pos, b_pos)``
             order (:func:`shard_rows`), into one row (:func:`pack_shard`): a block may then be cut
             anywhere and a shard still reaches one scoring actor whole
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import ray

PAIR_ORDER = [("a_pos", "ascending"), ("b_pos", "ascending")]


@ray.remote
def _rows(table: pa.Table) -> int:
    return len(table)


@ray.remote
def _numbered(table: pa.Table, first: int, total: int, shard_pairs: int) -> pa.Table:
    """A sorted block's pairs with their shard and that shard's size (the last one may be short)."""
    shard = (first + np.arange(len(table), dtype=np.int64)) // shard_pairs
    size = np.minimum(shard_pairs, total - shard * shard_pairs)
    return table.append_column("shard", pa.array(shard)).append_column("shard_size", pa.array(size))


def numbered(pairs: ray.data.Dataset, shard_pairs: int) -> ray.data.Dataset:
    """The pairs with ``shard`` and ``shard_size`` columns, shards numbered in ``(a_pos, b_pos)`` order."""
    blocks = pairs.sort(["a_pos", "b_pos"]).to_arrow_refs()
    sizes = ray.get([_rows.remote(block) for block in blocks])
    firsts = np.cumsum([0, *sizes])
    total = int(firsts[-1])
    return ray.data.from_arrow_refs(
        [
            _numbered.remote(block, int(first), total, shard_pairs)
            for block, first in zip(blocks, firsts[:-1], strict=True)
        ]
    )


def _keyed(batch: pa.Table, key: str, columns: pa.Schema) -> pa.Table:
    """A batch of pairs or of statements in the one schema both share for a group-by on ``key``
    (a statement's position): the columns it lacks are nulls."""
    keyed = batch.append_column("key", batch[key])
    return pa.table(
        [keyed[f.name] if f.name in keyed.column_names else pa.nulls(len(keyed), f.type) for f in columns],
        schema=columns,
    )


def _attach(group: pa.Table, side: str) -> pa.Table:
    """One statement's pairs (on ``side``) with its record as column ``side``."""
    is_statement = group["shard"].is_null()  # a statement's row has no pair columns
    record = group.filter(is_statement)["record"]
    pairs = group.filter(pc.invert(is_statement)).drop_columns(["key", "record"])
    if len(record) != 1:
        raise RuntimeError(f"statement {group['key'][0]} appears {len(record)} times")
    return pairs.append_column(side, record.take(pa.array(np.zeros(len(pairs), dtype=np.int64))))


def with_records(pairs: ray.data.Dataset, statements: ray.data.Dataset, partitions: int) -> ray.data.Dataset:
    """Each pair with its statements' records as columns ``a`` and ``b``: per side, the pairs and the
    statements grouped by the statement's position, and the record copied onto its pairs."""
    records = statements.select_columns(["pos", "record"])
    record_type = statements.schema().base_schema.field("record").type
    columns = pa.schema(
        [(name, pa.int64()) for name in ("key", "a_pos", "b_pos")]
        + [("similarity", pa.float32()), ("shard", pa.int64()), ("shard_size", pa.int64())]
    )
    for side in ("a", "b"):
        columns = columns.append(pa.field("record", record_type))
        keyed = pairs.map_batches(
            _keyed, fn_kwargs={"key": f"{side}_pos", "columns": columns}, batch_format="pyarrow"
        ).union(
            records.map_batches(_keyed, fn_kwargs={"key": "pos", "columns": columns}, batch_format="pyarrow")
        )
        pairs = keyed.groupby("key", num_partitions=partitions).map_groups(
            _attach, fn_kwargs={"side": side}, batch_format="pyarrow"
        )
        columns = columns.remove(columns.get_field_index("record")).append(pa.field(side, record_type))
    return pairs


def shard_rows(group: pa.Table) -> pa.Table:
    """One shard's rows in pair order, checked whole (a join that lost a row must not be scored)."""
    size = group["shard_size"][0].as_py()
    if len(group) != size or len(set(group["shard"].to_pylist())) != 1:
        raise RuntimeError(f"a scoring shard arrived with {len(group)} of its {size} pairs")
    return group.sort_by(PAIR_ORDER)


def pack_shard(group: pa.Table) -> pa.Table:
    """One shard's rows, checked and in pair order, as a single row: ``shard`` and ``rows``
    (a list of the row structs), so block splits (Ray's, or :meth:`Dataset.repartition`) never cut it."""
    rows = shard_rows(group)
    packed = pa.ListArray.from_arrays(
        pa.array([0, len(rows)], type=pa.int32()), rows.to_struct_array().combine_chunks()
    )
    return pa.table({"shard": rows["shard"].slice(0, 1), "rows": packed})


def unpack_shards(batch: pa.Table) -> Iterator[pa.Table]:
    """The shards :func:`pack_shard` packed, one table each."""
    for packed in batch["rows"].combine_chunks():
        yield pa.Table.from_struct_array(packed.values)


def scoring_shards(
    pairs: ray.data.Dataset, statements: ray.data.Dataset, shard_pairs: int, partitions: int
) -> ray.data.Dataset:
    """Numbered pairs with both records, ready for ``groupby("shard")`` and the scoring actors."""
    return with_records(numbered(pairs, shard_pairs), statements, partitions)


__all__ = ["numbered", "pack_shard", "scoring_shards", "shard_rows", "unpack_shards", "with_records"]
