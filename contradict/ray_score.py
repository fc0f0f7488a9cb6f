"""``contradict score --engine ray``: pair scoring by an actor pool of the scoring core on Ray Data.

The pairs are read and validated by the local reader in the driver (same errors, same line numbers,
before any model time is spent), become a Ray dataset, and are scored by ``ray_score_actors`` actors
(each loads the model once) in batches of ``ray_score_batch_size`` pairs through the local
:func:`~contradict.pairs_io.score_records`; rows come back in input order and are written by the
local writer, so the output file is the local engine's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from contradict.pairs_io import PairRecord, score_records
from contradict.ray_support import actor_pool, actor_settings, actors, ray_session
from contradict.settings import Settings


class PairScorer:
    """One scoring core per actor; a batch of pairs in, their output rows (as JSON) out."""

    def __init__(self, settings: Settings, symmetric: bool, threshold: float | None):
        from contradict.scorer import NLIScorer

        self.scorer = NLIScorer.from_settings(actor_settings(settings))
        self.symmetric, self.threshold = symmetric, threshold

    def __call__(self, batch: pa.Table) -> pa.Table:
        columns = batch.to_pydict()
        records = [
            PairRecord(premise, hypothesis, json.loads(record_id))
            for premise, hypothesis, record_id in zip(
                columns["premise"], columns["hypothesis"], columns["id"], strict=True
            )
        ]
        rows = [
            row
            for chunk in score_records(
                self.scorer,
                records,
                symmetric=self.symmetric,
                threshold=self.threshold,
                chunk_size=len(records),
            )
            for row in chunk
        ]
        return pa.table({"row": [json.dumps(row, ensure_ascii=False) for row in rows]})


def ray_score_records(
    settings: Settings,
    records: Iterable[PairRecord],
    *,
    symmetric: bool = False,
    threshold: float | None = None,
    quiet: bool = False,
) -> Iterator[list[dict[str, Any]]]:
    """Output rows in input order, one list per scored batch, as :func:`score_records` yields them."""
    # The id keeps its JSON type (string or integer) through Arrow as a JSON text.
    items = [{"premise": r.premise, "hypothesis": r.hypothesis, "id": json.dumps(r.id)} for r in records]
    if not items:
        return
    with ray_session(settings.ray, quiet=quiet) as ray:
        ray.data.DataContext.get_current().execution_options.preserve_order = True
        batch_size = settings.ray.score_batch_size
        scored = ray.data.from_items(
            items, override_num_blocks=max(1, -(-len(items) // batch_size))
        ).map_batches(
            PairScorer,
            fn_constructor_args=(settings, symmetric, threshold),
            batch_size=batch_size,
            compute=actor_pool(actors(settings.ray.score_actors, ray)),
            num_cpus=1,
            batch_format="pyarrow",
        )
        for batch in scored.iter_batches(batch_size=None, batch_format="pyarrow"):
            yield [json.loads(row) for row in batch["row"].to_pylist()]
