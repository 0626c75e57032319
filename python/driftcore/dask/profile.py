"""Profiles and comparisons of Dask DataFrames: a :class:`~driftcore.Profile` per
partition, tree-merged, in one pass over each collection. Counts and value grids
merge exactly, so the profile is the one :meth:`driftcore.Profile.build` makes of
the whole table, whatever the partitioning (float moments may differ in their last
bits).
"""

from __future__ import annotations

from typing import Any

from ..compare import DriftReport
from ..compare import compare as compare_profiles
from ..profile import Profile
from . import _graph
from ._partition import partition_table


def profile(
    data: Any,
    *,
    bins: int = 10,
    max_cells: int = 4096,
    reference: Profile | None = None,
    columns: list[str] | None = None,
    categorical: list[str] | None = None,
    threads: int | None = 1,
    device: str = "auto",
    split_every: int = _graph.SPLIT_EVERY,
    scheduler: Any = None,
) -> Profile:
    """Profile a Dask DataFrame: the same :class:`~driftcore.Profile` as
    ``Profile.build`` on the whole table (see the module docstring).

    ``threads`` is per task (the cluster's workers are the parallelism);
    ``device="gpu"`` with cudf partitions (dask-cuda) runs the CUDA kernels.

    Examples
    --------
    >>> import numpy as np, pandas as pd, dask.dataframe as dd, driftcore
    >>> import driftcore.dask as dcd
    >>> df = pd.DataFrame({"x": np.arange(100.0)})
    >>> p = dcd.profile(dd.from_pandas(df, npartitions=3), bins=4)
    >>> p["x"].count, p == driftcore.Profile.build(df, bins=4)
    (100, True)
    """
    Profile(
        bins=bins, max_cells=max_cells, reference=reference, categorical=categorical
    )  # validates the settings
    frame, columns = _frame_of(data, "data", columns)
    tree = _profile_tree(
        frame,
        columns,
        (bins, max_cells, tuple(categorical or ())),
        reference,
        threads,
        device,
        split_every,
    )
    (prof,) = _graph.compute(tree, scheduler=scheduler)
    return prof


def compare(
    reference: Any,
    current: Any,
    *,
    bins: int = 10,
    max_cells: int = 4096,
    columns: list[str] | None = None,
    categorical: list[str] | None = None,
    threads: int | None = 1,
    device: str = "auto",
    split_every: int = _graph.SPLIT_EVERY,
    scheduler: Any = None,
    **rules: Any,
) -> DriftReport:
    """Compare two Dask DataFrames (either may be a :class:`~driftcore.Profile`
    already): the report of ``driftcore.compare`` on their profiles, both made in
    one run (a pass over each collection).

    ``rules`` are :func:`driftcore.compare`'s verdict keywords (``alpha``,
    ``correction``, ``drift_share``, ``tests``, ``missing_threshold``, ``psi_threshold``,
    ``wasserstein_threshold``, ``js_threshold``).

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
    lazy: dict[str, Any] = {}
    ref_prof = reference if isinstance(reference, Profile) else None
    if ref_prof is None:
        Profile(bins=bins, max_cells=max_cells, categorical=categorical)  # validates
        ref_frame, ref_cols = _frame_of(reference, "reference", columns)
        lazy["reference"] = _profile_tree(
            ref_frame, ref_cols, (bins, max_cells, tuple(categorical or ())), None, *opts
        )
    if not isinstance(current, Profile):
        cur_frame, cur_cols = _frame_of(current, "current", columns)
        settings = (
            (bins, max_cells, tuple(categorical or ()))
            if ref_prof is None
            else (ref_prof.bins, ref_prof.max_cells, tuple(categorical or ()))
        )
        lazy["current"] = _profile_tree(cur_frame, cur_cols, settings, ref_prof, *opts)
    done = dict(zip(lazy, _graph.compute(*lazy.values(), scheduler=scheduler)))
    ref_prof = done.get("reference", ref_prof)
    cur_prof = done.get("current", current)
    return compare_profiles(ref_prof, cur_prof, bins=ref_prof.bins, columns=columns, **rules)


_RULES = {
    "alpha",
    "correction",
    "drift_share",
    "tests",
    "missing_threshold",
    "psi_threshold",
    "wasserstein_threshold",
    "js_threshold",
}


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


def _profile_part(
    part: Any,
    columns: list[str],
    settings: tuple[int, int, tuple],
    reference: Profile | None,
    threads: int | None,
    device: str,
) -> Profile:
    bins, max_cells, categorical = settings
    prof = Profile(
        bins=bins, max_cells=max_cells, reference=reference, categorical=list(categorical)
    )
    prof.update(partition_table(part, columns), threads=threads, device=device)
    return prof


def _profile_tree(
    frame: Any,
    columns: list[str],
    settings: tuple[int, int, tuple],
    reference: Profile | None,
    threads: int | None,
    device: str,
    split_every: int,
) -> Any:
    import dask

    # One graph key for the reference, not a copy inside every task.
    ref = None if reference is None else dask.delayed(reference, pure=True)
    states = _graph.per_partition(_profile_part, frame, columns, settings, ref, threads, device)
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
    out = Profile(bins=first.bins, max_cells=first.max_cells, reference=first._reference)
    out.columns = dict(first.columns)
    for other in states[1:]:
        out.merge(other)  # builds new column objects; never changes other's or first's
    return out
