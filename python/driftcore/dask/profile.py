"""Profiles and comparisons of Dask DataFrames: a :class:`~driftcore.Profile` per
partition, tree-merged.

Without a reference, a profile takes two passes, as :meth:`driftcore.Profile.build`
does on one table: the first builds moments, sketches and category counts; the
second bins every numeric column on the merged sketch's quantile edges, so that
comparisons on those edges are exact. With a reference (or as the current side of
:func:`compare`) one pass bins on the reference's edges. Both passes read the
collection, so persist it first when reading it is the expensive part.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _tables
from ..compare import DriftReport
from ..compare import compare as compare_profiles
from ..histogram import Histogram
from ..profile import NumericColumn, Profile
from . import _graph
from ._partition import partition_table


def profile(
    data: Any,
    *,
    bins: int = 10,
    k: int = 400,
    seed: int = 0,
    reference: Profile | None = None,
    columns: list[str] | None = None,
    categorical: list[str] | None = None,
    threads: int | None = 1,
    device: str = "auto",
    split_every: int = _graph.SPLIT_EVERY,
    scheduler: Any = None,
) -> Profile:
    """Profile a Dask DataFrame: the same :class:`~driftcore.Profile` as
    ``Profile.build`` on the whole table (counts exactly, moments within 1e-9
    relative, sketches within their rank error; see :mod:`driftcore.dask`).

    ``threads`` is per task (the cluster's workers are the parallelism);
    ``device="gpu"`` with cudf partitions (dask-cuda) runs the CUDA kernels.

    Examples
    --------
    >>> import numpy as np, pandas as pd, dask.dataframe as dd
    >>> import driftcore.dask as dcd
    >>> ddf = dd.from_pandas(pd.DataFrame({"x": np.arange(100.0)}), npartitions=3)
    >>> p = dcd.profile(ddf, bins=4)
    >>> p["x"].count, p["x"].histogram.counts.sum(), p["x"].histogram.edges[[0, -1]].tolist()
    (100, np.uint64(100), [0.0, 99.0])
    """
    Profile(bins=bins, k=k, seed=seed, reference=reference,
            categorical=categorical)  # validates the settings
    frame, columns = _frame_of(data, "data", columns)
    first = _profile_tree(frame, columns, (bins, k, seed, tuple(categorical or ())), reference,
                          threads, device, split_every)
    (prof,) = _graph.compute(first, scheduler=scheduler)
    if reference is None:
        edges = _own_edges(prof)
        if edges:
            (hists,) = _graph.compute(
                _histogram_tree(frame, columns, edges, threads, device, split_every),
                scheduler=scheduler,
            )
            _attach(prof, hists)
    return prof


def compare(
    reference: Any,
    current: Any,
    *,
    bins: int = 10,
    k: int = 400,
    seed: int = 0,
    columns: list[str] | None = None,
    categorical: list[str] | None = None,
    threads: int | None = 1,
    device: str = "auto",
    split_every: int = _graph.SPLIT_EVERY,
    scheduler: Any = None,
    **rules: Any,
) -> DriftReport:
    """Compare two Dask DataFrames (either may be a :class:`~driftcore.Profile`
    already): the report of ``driftcore.compare`` on their profiles, the current
    side binned on the reference's edges (so PSI and the other binned metrics are
    exact; KS and Wasserstein come from the sketches with their error bounds).

    ``rules`` are :func:`driftcore.compare`'s verdict keywords (``alpha``,
    ``correction``, ``drift_share``, ``tests``, ``missing_threshold``, ``psi_threshold``,
    ``wasserstein_threshold``, ``js_threshold``). Takes three passes over the data:
    the reference's sketch pass, then its histograms and the current side together.

    Examples
    --------
    >>> import numpy as np, pandas as pd, dask.dataframe as dd
    >>> import driftcore.dask as dcd
    >>> rng = np.random.default_rng(0)
    >>> ref = dd.from_pandas(pd.DataFrame({"x": rng.normal(size=4000)}), npartitions=2)
    >>> cur = dd.from_pandas(pd.DataFrame({"x": rng.normal(0.5, 1, 4000)}), npartitions=2)
    >>> dcd.compare(ref, cur)["x"].drifted
    True
    """
    unknown = set(rules) - _RULES
    if unknown:
        raise TypeError(f"unknown keyword(s) for compare: {sorted(unknown)}")
    opts = (threads, device, split_every)
    if isinstance(reference, Profile):
        ref_prof = reference
    else:
        Profile(bins=bins, k=k, seed=seed, categorical=categorical)  # validates the settings
        ref_frame, ref_cols = _frame_of(reference, "reference", columns)
        (ref_prof,) = _graph.compute(
            _profile_tree(ref_frame, ref_cols, (bins, k, seed, tuple(categorical or ())), None,
                          *opts),
            scheduler=scheduler,
        )
    lazy: dict[str, Any] = {}
    if not isinstance(reference, Profile):
        edges = _own_edges(ref_prof)
        if edges:
            lazy["hists"] = _histogram_tree(ref_frame, ref_cols, edges, *opts)
    if isinstance(current, Profile):
        cur_prof = current
    else:
        cur_frame, cur_cols = _frame_of(current, "current", columns)
        lazy["current"] = _profile_tree(cur_frame, cur_cols,
                                        (ref_prof.bins, ref_prof.k, ref_prof.seed, ()),
                                        ref_prof, *opts)
    # The reference's histograms and the current profile in one run: the current side
    # bins on the sketch edges the histograms are being built on.
    done = dict(zip(lazy, _graph.compute(*lazy.values(), scheduler=scheduler)))
    if "hists" in done:
        _attach(ref_prof, done["hists"])
    if "current" in done:
        cur_prof = done["current"]
    return compare_profiles(ref_prof, cur_prof, bins=ref_prof.bins, columns=columns, **rules)


_RULES = {"alpha", "correction", "drift_share", "tests", "missing_threshold", "psi_threshold",
          "wasserstein_threshold", "js_threshold"}


# --- the graph ------------------------------------------------------------------------


def _frame_of(data: Any, side: str, columns: list[str] | None) -> tuple[Any, list[str]]:
    """The Dask DataFrame (a Series as a one-column frame) and the columns to profile."""
    kind = _graph.kind_of(data)
    if kind not in ("frame", "series"):
        raise TypeError(f"{side} must be a Dask DataFrame or Series, got {type(data).__name__}")
    if kind == "series":
        data = data.to_frame()
    names = [str(c) for c in data.columns]
    if columns is not None:
        if isinstance(columns, str):
            raise TypeError("columns must be a list of column names, not a string")
        unknown = [c for c in columns if c not in names]
        if unknown:
            raise KeyError(f"{side}: unknown columns {unknown} (has {names})")
        names = list(dict.fromkeys(columns))
        data = data[names]  # Dask then reads only these columns where the reader can
    return data, names


def _profile_part(part: Any, columns: list[str], settings: tuple[int, int, int, tuple],
                  reference: Profile | None, threads: int | None, device: str) -> Profile:
    bins, k, seed, categorical = settings
    prof = Profile(bins=bins, k=k, seed=seed, reference=reference, categorical=list(categorical))
    prof.update(partition_table(part, columns), threads=threads, device=device)
    return prof


def _profile_tree(frame: Any, columns: list[str], settings: tuple[int, int, int, tuple],
                  reference: Profile | None, threads: int | None, device: str,
                  split_every: int) -> Any:
    import dask

    # One graph key for the reference, not a copy inside every task.
    ref = None if reference is None else dask.delayed(reference, pure=True)
    states = _graph.per_partition(_profile_part, frame, columns, settings, ref,
                                  threads, device)
    return _graph.tree_merge(states, merge_profiles, split_every)


def merge_profiles(states: list[Profile]) -> Profile:
    """Profiles merged in order into a new one (the inputs are left as they are).

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> from driftcore.dask.profile import merge_profiles
    >>> a, b = (driftcore.Profile().update({"x": np.arange(k, k + 5.0)}) for k in (0, 5))
    >>> merge_profiles([a, b])["x"].count, a["x"].count
    (10, 5)
    """
    first = states[0]
    out = Profile(bins=first.bins, k=first.k, seed=first.seed, reference=first._reference)
    out.columns = dict(first.columns)
    for other in states[1:]:
        out.merge(other)  # builds new column objects; never changes other's or first's
    return out


def _own_edges(prof: Profile) -> dict[str, np.ndarray]:
    """Quantile edges of every numeric column that has values and no histogram."""
    return {
        name: col.edges(prof.bins)
        for name, col in prof.columns.items()
        if isinstance(col, NumericColumn) and col.count and col.histogram is None
    }


def _histogram_part(part: Any, columns: list[str], edges: dict[str, np.ndarray],
                    threads: int | None, device: str) -> dict[str, Histogram]:
    chunk = _tables.read_chunk(partition_table(part, [c for c in columns if c in edges]))
    out = {}
    for name, e in edges.items():
        h = Histogram(e)
        h.update(chunk[name].values, threads=threads, device=device)
        out[name] = h
    return out


def _histogram_tree(frame: Any, columns: list[str], edges: dict[str, np.ndarray],
                    threads: int | None, device: str, split_every: int) -> Any:
    states = _graph.per_partition(_histogram_part, frame, columns, edges, threads, device)
    return _graph.tree_merge(states, merge_histograms, split_every)


def merge_histograms(states: list[dict[str, Histogram]]) -> dict[str, Histogram]:
    """Column -> histogram dicts merged in order into new histograms.

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> from driftcore.dask.profile import merge_histograms
    >>> h = driftcore.Histogram(bins=2, range=(0, 2)); h.update(np.array([0.5]))
    >>> merge_histograms([{"x": h}, {"x": h}])["x"].counts.tolist(), h.counts.tolist()
    ([2, 0], [1, 0])
    """
    out = {name: h.copy() for name, h in states[0].items()}
    for other in states[1:]:
        for name, h in other.items():
            out[name].merge(h)
    return out


def _attach(prof: Profile, hists: dict[str, Histogram]) -> None:
    for name, h in hists.items():
        col = prof.columns[name]
        assert isinstance(col, NumericColumn)
        col.histogram = h
