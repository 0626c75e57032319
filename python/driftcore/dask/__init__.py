"""driftcore on Dask: profiles, comparisons, leakage and streaming MMD over data that
does not fit one machine (``pip install "driftcore[dask]"``).

Every function maps each partition of a Dask collection to a driftcore state
(:class:`~driftcore.Profile`, :class:`~driftcore.LSHIndex`,
:class:`~driftcore.StreamingMMD`), then merges the states in partition order up a
tree of delayed merges (``split_every`` states per merge). They run
on whatever scheduler is active: a ``distributed.Client`` when one exists (see
:func:`connect`: a LocalCluster, a scheduler address, or dask-cuda's
LocalCUDACluster), else Dask's threaded scheduler, or the one named by
``scheduler=``.

What equals the single-process result (the tests check each):

* **Exactly**: every count (values, nulls, NaN, infinities, categories, histogram
  bins on the same edges), minima and maxima, leakage pairs (global indices), MinHash
  signatures and LSH indexes.
* **Within tolerance**: floating moments (mean, M2; merged in a different order:
  relative differences of a few ulps times log2(partitions), tested at 1e-9) and
  streaming MMD sums (the same, tested at 1e-9 relative). Quantile sketches merged
  from partitions are different, equally accurate KLL sketches: each rank is within
  the sketch's ``rank_error`` (exact below 4,096 values), so quantile edges, KS and
  Wasserstein agree with the single-process values within their error bounds.

Examples
--------
>>> import numpy as np, pandas as pd, dask.dataframe as dd, driftcore
>>> import driftcore.dask as dcd
>>> df = pd.DataFrame({"x": np.arange(1000.0), "c": ["a", "b"] * 500})
>>> p = dcd.profile(dd.from_pandas(df, npartitions=4))
>>> p["x"].count, p["x"].mean, p["c"].counts.counts
(1000, 499.5, {'a': 500, 'b': 500})
"""

from __future__ import annotations

try:
    import dask  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        "driftcore.dask needs Dask: pip install 'driftcore[dask]' "
        f"(dask[dataframe] and distributed); the import failed with: {exc}"
    ) from exc

from .cluster import connect
from .leakage import find_leakage, lsh_index, signatures
from .mmd import streaming_mmd
from .profile import compare, profile
from .read import read_parquet

__all__ = [
    "compare",
    "connect",
    "find_leakage",
    "lsh_index",
    "profile",
    "read_parquet",
    "signatures",
    "streaming_mmd",
]
