"""The plumbing every driftcore.dask function shares: partitions of a Dask collection
as delayed objects, one state per partition, a tree of merges of the states, and the
choice of scheduler."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dask

#: States merged per task of the reduction tree (Dask's own default is 8 too).
SPLIT_EVERY = 8


def kind_of(collection: Any) -> str | None:
    """ "frame", "series", "bag" or "array" for a Dask collection, else None."""
    if not dask.is_dask_collection(collection):
        return None
    mod = type(collection).__module__
    name = type(collection).__name__
    if mod.startswith("dask.bag"):
        return "bag"
    if mod.startswith("dask.array"):
        return "array"
    if mod.startswith(("dask.dataframe", "dask_expr", "dask_cudf")):
        return "series" if name == "Series" else ("frame" if name == "DataFrame" else None)
    return None


def partitions(collection: Any) -> list[Any]:
    """One delayed object per partition (per block of rows for a 2-D array, whose
    column blocks are joined first)."""
    kind = kind_of(collection)
    if kind == "array":
        if collection.ndim != 2:
            raise ValueError(
                f"expected a 2-D Dask array (rows x features), got {collection.ndim}-D"
            )
        if len(collection.chunks[1]) > 1:
            collection = collection.rechunk({1: -1})
        return list(collection.to_delayed().ravel())
    if kind is None:
        raise TypeError(f"expected a Dask collection, got {type(collection).__name__}")
    return list(collection.to_delayed())


def per_partition(fn: Callable[..., Any], data: Any, *args: Any) -> list[Any]:
    """``fn(part, *args)`` for every partition of ``data`` (a Dask collection, or a
    list of parts or delayed parts), as delayed objects.

    A DataFrame's or Series' calls go through ``map_partitions``, which Dask fuses
    into the task that makes the partition (its read): the partition never becomes a
    result of its own, so each partition costs one task and one scheduler round trip
    instead of two (a 1e8-row profile in 10 partitions on 2 workers of a 2-vCPU
    LocalCluster: 0.79-0.84 -> 0.74-0.78 s; benchmarks/RESULTS.md)."""
    if kind_of(data) in ("frame", "series"):
        mapped = data.map_partitions(
            fn, *args, meta=(None, object), enforce_metadata=False, align_dataframes=False
        )
        return list(mapped.to_delayed())
    parts = partitions(data) if dask.is_dask_collection(data) else list(data)
    task = dask.delayed(fn, pure=True)
    return [task(part, *args) for part in parts]


def tree_merge(
    states: Sequence[Any], merge: Callable[[list[Any]], Any], split_every: int = SPLIT_EVERY
) -> Any:
    """A delayed object whose value is ``merge`` folded over the states in partition
    order, as a tree of ``split_every``-way merges. ``merge`` takes a list and must not
    modify its inputs: a retried task may see them again.

    Built of plain delayed calls rather than ``Bag.reduction``, whose extra task per
    partition and per level each cost a scheduler hop (about 5-10 ms on a 2-vCPU
    LocalCluster, with every worker waiting at the end of a pass)."""
    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        raise ValueError(f"split_every must be an int >= 2, got {split_every!r}")
    level = list(states)
    if not level:
        raise ValueError("nothing to merge: the collection has no partitions")
    task = dask.delayed(merge, pure=True)
    while True:  # at least one merge, so a single state comes back as a new object too
        level = [task(level[i : i + split_every]) for i in range(0, len(level), split_every)]
        if len(level) == 1:
            return level[0]


def compute(*objs: Any, scheduler: Any = None) -> tuple[Any, ...]:
    """``dask.compute`` on ``scheduler`` (a name, a ``distributed.Client``), else on
    the active Client or configured scheduler, else on threads (the bag's own default,
    processes, would copy every state through pickles for nothing)."""
    if scheduler is None and not _client_active() and dask.config.get("scheduler", None) is None:
        scheduler = "threads"
    return dask.compute(*objs, scheduler=scheduler)


def _client_active() -> bool:
    try:
        from distributed import default_client
    except ImportError:
        return False
    try:
        default_client()
    except ValueError:
        return False
    return True


def check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return value
