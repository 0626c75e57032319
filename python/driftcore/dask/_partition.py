"""One partition of a Dask DataFrame as a table driftcore reads: pandas as it is,
cudf (dask-cuda) as cupy arrays for numeric columns and Arrow arrays for the rest."""

from __future__ import annotations

from typing import Any


def partition_table(part: Any, columns: list[str]) -> Any:
    """The ``columns`` of one partition, ready for ``Profile.update``."""
    if type(part).__module__.startswith("cudf"):
        return _cudf_table(part, columns)
    # A dict of the Series, not part[columns]: that copies every column (about 12% of
    # a one-column profile task at 1e7 rows), where a Series is a view.
    return {name: part[name] for name in columns}


def _cudf_table(part: Any, columns: list[str]) -> dict[str, Any]:
    # Unverified here (no GPU): numeric columns go to the CUDA kernels as cupy arrays,
    # nulls as NaN (counted as missing, like pandas' NaN); others are counted by Arrow.
    import numpy as np

    out: dict[str, Any] = {}
    for name in columns:
        col = part[name]
        if col.dtype.kind in "fiu":
            out[name] = col.astype("float64").to_cupy(na_value=np.nan)
        else:
            out[name] = col.to_arrow()
    return out


def text_values(part: Any) -> Any:
    """Documents of one partition of a Dask Series or Bag, as MinHasher takes them:
    Arrow strings for string Series (missing values are empty documents), the list
    itself for a Bag (strings, or token-id sequences)."""
    import numpy as np

    mod = type(part).__module__
    if mod.startswith("cudf"):
        return part.to_arrow()
    if mod.startswith("pandas"):
        import pyarrow as pa

        if part.dtype.kind in "iuf":
            raise TypeError(f"documents must be strings, got a Series of dtype {part.dtype}")
        if len(part) and isinstance(part.iloc[0], (list, tuple, np.ndarray)):
            return list(part)  # token-id sequences
        return pa.array(part, type=pa.string(), from_pandas=True)
    return part
