"""The plumbing every driftcore.dask function shares: partitions of a Dask collection
as delayed objects, one state per partition, Dask's tree reduction of the states, and
the choice of scheduler."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import dask
import dask.bag as db

#: States merged per task of the reduction tree (Dask's own default is 8 too).
SPLIT_EVERY = 8


def kind_of(collection: Any) -> str | None:
    """"frame", "series", "bag" or "array" for a Dask collection, else None."""
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
            raise ValueError(f"expected a 2-D Dask array (rows x features), got {collection.ndim}-D")
        if len(collection.chunks[1]) > 1:
            collection = collection.rechunk({1: -1})
        return list(collection.to_delayed().ravel())
    if kind is None:
        raise TypeError(f"expected a Dask collection, got {type(collection).__name__}")
    return list(collection.to_delayed())


def per_partition(fn: Callable[..., Any], parts: Sequence[Any], *args: Any) -> list[Any]:
    """``fn(part, *args)`` for every partition, each wrapped in a one-item list (the
    shape ``dask.bag.from_delayed`` wants)."""
    task = dask.delayed(_listed, pure=True)
    return [task(fn, part, *args) for part in parts]


def _listed(fn: Callable[..., Any], part: Any, *args: Any) -> list[Any]:
    return [fn(part, *args)]


def tree_merge(states: Sequence[Any], merge: Callable[[list[Any]], Any],
               split_every: int = SPLIT_EVERY) -> Any:
    """A lazy object whose value is ``merge`` folded over the states in partition
    order, as a tree of ``split_every``-way merges (``Bag.reduction``). ``merge``
    must not modify its inputs: a retried task may see them again."""
    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        raise ValueError(f"split_every must be an int >= 2, got {split_every!r}")
    return db.from_delayed(list(states)).reduction(
        _only, partial(_merge_list, merge), split_every=split_every, name="driftcore-merge"
    )


def _merge_list(merge: Callable[[list[Any]], Any], states: Any) -> Any:
    return merge(list(states))  # Bag.reduction hands over an iterator


def _only(states: list[Any]) -> Any:
    return states[0]


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
