"""Ray, the optional extra: importing it with a clear message, and one Ray session per command.

Ray is never imported by the default install (service, ``make serve``, ``make test``); only
``--engine ray`` reaches this module's :func:`require_ray`. Without ``--ray-address`` (or
``CONTRADICT_RAY_ADDRESS``) a local Ray is started for the command and stopped after it, so the same
command runs on a laptop and, with an address, on a cluster.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from contradict.settings import RaySettings, Settings

INSTALL_HINT = 'pip install -e ".[ray]"'
LOCAL_OBJECT_STORE_BYTES = 512 * 1024**2  # plenty for a laptop run; Ray's default takes 30% of RAM


class RayMissing(RuntimeError):
    """``--engine ray`` without the ``ray`` extra installed."""

    def __init__(self) -> None:
        super().__init__(f"--engine ray needs the optional extra 'ray': {INSTALL_HINT} (Ray Data)")


def require_ray() -> ModuleType:
    """``ray`` with Ray Data, or :class:`RayMissing` naming the extra to install."""
    try:
        import ray
        import ray.data  # noqa: F401  (the ray[data] part of the extra)
    except ImportError as error:
        raise RayMissing() from error
    return ray


@contextmanager
def ray_session(settings: RaySettings, *, quiet: bool = False) -> Iterator[ModuleType]:
    """Connect to ``settings.address`` or start a local Ray; an already running session (a test's,
    a notebook's) is used as it is and left running."""
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    if quiet:  # Ray's own notices (C++ core worker, Ray Data executor) stay off stderr too
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", module=r"ray(\.|$)")
    level = logging.ERROR if quiet else logging.WARNING
    if settings.address:
        ray.init(address=settings.address, logging_level=level, log_to_driver=not quiet)
    else:
        ray.init(
            num_cpus=settings.num_cpus,
            include_dashboard=False,
            object_store_memory=LOCAL_OBJECT_STORE_BYTES,
            logging_level=level,
            log_to_driver=not quiet,
        )
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = not quiet
        context.print_on_execution_start = False
        yield ray
    finally:
        ray.shutdown()


def actors(wanted: int | None, ray: ModuleType) -> int:
    """Actors of a pool: as set, else one per CPU of the cluster (each actor uses one core)."""
    return wanted or max(1, int(ray.cluster_resources().get("CPU", 1)))


def actor_pool(size: int) -> Any:
    """A fixed pool of ``size`` actors that each take one task at a time: Ray Data's default queues
    several tasks on one actor, and on a small input that left the other actors idle (measured: the
    three embedding batches of a 200-article corpus all went to one of two actors)."""
    import ray.data

    return ray.data.ActorPoolStrategy(size=size, max_tasks_in_flight_per_actor=1)


def spread(dataset: Any, rows_per_block: int) -> Any:
    """A dataset cut, in order, into materialised blocks of at most ``rows_per_block`` rows.

    Ray hands an actor whole blocks, so a stage whose input is one block keeps one actor busy and the
    others idle; and a fixed actor pool must not share its plan with tasks that wait for the CPUs its
    actors hold, which a materialised input guarantees."""
    return dataset.repartition(target_num_rows_per_block=rows_per_block).materialize()


def shuffle_partitions(rows: int, settings: RaySettings) -> int:
    """Partitions of a shuffle (join, group-by) of about ``rows`` rows: ``shuffle_partition_rows``
    each, at least one per CPU of the cluster (Ray's default is 200, whatever the size)."""
    import ray

    cpus = int(ray.cluster_resources().get("CPU", 1))
    return max(1, cpus, -(-rows // settings.shuffle_partition_rows))


def actor_settings(settings: Settings) -> Settings:
    """An actor's settings: one intra-op thread unless set (an actor is given one CPU; the ONNX
    backend would otherwise start a thread per core in every actor and oversubscribe the node)."""
    if settings.scoring.num_threads:
        return settings
    return settings.model_copy(update={"scoring": settings.scoring.model_copy(update={"num_threads": 1})})


def save_dataset(dataset: Any, folder: Path) -> None:
    """A dataset as a folder of Parquet files that is there whole or not at all (a checkpoint): written
    by Ray's tasks beside it, then moved into place, so a run killed while writing leaves no folder."""
    partial = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    dataset.write_parquet(str(partial))
    os.replace(partial, folder)
