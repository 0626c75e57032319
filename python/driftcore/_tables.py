"""Reading datasets column by column: dicts of arrays (or pandas / polars Series),
pandas and polars DataFrames, pyarrow Tables and RecordBatches, or an iterable of
such chunks. Numeric columns come out as numpy (or cupy) arrays without nulls plus a
null count; everything else as Arrow arrays for category counting."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _dispatch


@dataclass
class ColumnChunk:
    kind: str  # "numeric" or "categorical"
    values: Any  # numpy/cupy array (numeric) or Arrow/numpy array (categorical)
    nulls: int  # nulls removed from numeric values (NaN stays in the values)


def _is_arrow(data: Any, *names: str) -> bool:
    """isinstance against pyarrow classes, without importing pyarrow for other data."""
    return type(data).__module__.startswith("pyarrow") and type(data).__name__ in names


def is_chunk(data: Any) -> bool:
    """True for one in-memory table (as opposed to an iterable of them)."""
    return (
        isinstance(data, Mapping)
        or _is_arrow(data, "Table", "RecordBatch")
        or _is_pandas(data)
        or _is_polars(data, "DataFrame")
    )


def _is_polars(data: Any, name: str) -> bool:
    """A polars object of this class name, without importing polars."""
    if type(data).__module__.startswith("polars") and type(data).__name__ == "LazyFrame":
        raise TypeError("a polars LazyFrame is a query, not data: collect() it first")
    return type(data).__module__.startswith("polars") and type(data).__name__ == name


def iter_chunks(data: Any) -> Iterator[dict[str, ColumnChunk]]:
    """Yield each chunk of ``data`` as {column: ColumnChunk}."""
    if is_chunk(data):
        yield read_chunk(data)
        return
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise TypeError(
            "expected a dict of arrays, a pandas or polars DataFrame, a pyarrow Table or "
            f"RecordBatch, or an iterable of them; got {type(data).__name__}"
        )
    for chunk in data:
        if not is_chunk(chunk):
            raise TypeError(f"a chunk of the dataset is a {type(chunk).__name__}, not a table")
        yield read_chunk(chunk)


def read_chunk(data: Any) -> dict[str, ColumnChunk]:
    if _is_polars(data, "DataFrame"):
        data = data.to_arrow()  # Arrow columns, nulls and all, mostly without a copy
    if _is_pandas(data):
        return {_column_name(name): _pandas_column(name, data[name]) for name in data.columns}
    if _is_arrow(data, "Table", "RecordBatch"):
        return {name: _arrow_column(name, data.column(name)) for name in data.column_names}
    out: dict[str, ColumnChunk] = {}
    lengths = set()
    for name, col in data.items():
        if not isinstance(name, str):
            raise TypeError(f"column names must be strings, got {name!r}")
        out[name] = _any_column(name, col)
        lengths.add(chunk_length(out[name]))
    if len(lengths) > 1:
        raise ValueError(f"columns have different lengths: {sorted(lengths)}")
    return out


def to_arrow_table(data: Any) -> Any:
    """``data`` (one chunk, or an iterable of chunks with the same columns) as one
    pyarrow Table; errors name the column."""
    import pyarrow as pa

    if is_chunk(data):
        return _chunk_table(data)
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise TypeError(
            "expected a dict of arrays, a pandas or polars DataFrame, a pyarrow Table or "
            f"RecordBatch, or an iterable of them; got {type(data).__name__}"
        )
    tables = []
    for chunk in data:
        if not is_chunk(chunk):
            raise TypeError(f"a chunk of the dataset is a {type(chunk).__name__}, not a table")
        tables.append(_chunk_table(chunk))
    if not tables:
        raise ValueError("no chunks (an empty iterable)")
    first = tables[0].schema
    for i, t in enumerate(tables[1:], 1):
        if not t.schema.equals(first):
            raise ValueError(f"chunk {i} has columns {t.schema} but chunk 0 has {first}")
    return pa.concat_tables(tables)


def _chunk_table(data: Any) -> Any:
    import pyarrow as pa

    if _is_polars(data, "DataFrame"):
        return data.to_arrow()
    if _is_arrow(data, "Table"):
        return data
    if _is_arrow(data, "RecordBatch"):
        return pa.Table.from_batches([data])
    items = (
        [(name, data[name]) for name in data.columns] if _is_pandas(data) else list(data.items())
    )
    arrays = {}
    for name, col in items:
        name = _column_name(name)
        if _is_polars(col, "Series"):
            col = col.to_arrow()
        try:
            arrays[name] = (
                col if _is_arrow(col, "Array", "ChunkedArray") else pa.array(col, from_pandas=True)
            )
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise TypeError(f"column {name!r}: cannot read as one type ({exc})") from exc
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns have different lengths: {sorted(lengths)}")
    return pa.table(arrays)


def chunk_length(c: ColumnChunk) -> int:
    """Rows of a column chunk (its values and the nulls taken out of them)."""
    return len(c.values) + c.nulls


def _is_pandas(data: Any) -> bool:
    return type(data).__module__.startswith("pandas") and hasattr(data, "columns")


def index_labels(data: Any) -> np.ndarray | None:
    """The row labels of a pandas DataFrame or Series whose index is not simply its
    positions (0, 1, 2, ...): what results name rows by besides their positions.

    Examples
    --------
    >>> import pandas as pd
    >>> from driftcore._tables import index_labels
    >>> index_labels(pd.DataFrame({"x": [1, 2]}, index=["a", "b"])).tolist()
    ['a', 'b']
    >>> index_labels(pd.DataFrame({"x": [1, 2]})) is None
    True
    """
    if not type(data).__module__.startswith("pandas") or not hasattr(data, "index"):
        return None
    import pandas as pd

    idx = data.index
    if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
        return None
    return np.asarray(idx.to_numpy(dtype=object))


def _any_column(name: str, col: Any) -> ColumnChunk:
    if _is_polars(col, "Series"):
        col = col.to_arrow()
    if _is_arrow(col, "ChunkedArray") or (
        type(col).__module__.startswith("pyarrow")
        and hasattr(col, "type")
        and hasattr(col, "null_count")
    ):
        return _arrow_column(name, col)
    if _dispatch.is_device_array(col):
        kind = "numeric" if col.dtype.kind in "fiu" else "categorical"
        return ColumnChunk(kind, col, 0)
    if type(col).__module__.startswith("pandas") and hasattr(col, "dtype"):
        return _pandas_column(name, col)  # as a DataFrame's column: nulls, extension dtypes
    arr = np.asarray(col)
    if arr.ndim != 1:
        raise ValueError(f"column {name!r} must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind in "fiu":
        return ColumnChunk("numeric", _dispatch.host_1d(arr, f"column {name!r}"), 0)
    if arr.dtype.kind in "mM":  # datetime64 / timedelta64: counts of their unit, NaT null
        import pyarrow as pa

        return _arrow_column(name, pa.array(arr))
    if arr.dtype.kind in "bUSO":
        return ColumnChunk("categorical", arr, 0)
    raise TypeError(f"column {name!r} has unsupported dtype {arr.dtype}")


def is_numeric_type(t: Any) -> bool:
    """Arrow types profiled as numbers: integers, floats, decimals, and timestamps,
    dates, times and durations as their count of units (since the epoch, or of the
    duration) in their own unit."""
    import pyarrow as pa

    return (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_date(t)
        or pa.types.is_time(t)
        or pa.types.is_duration(t)
    )


def numeric_storage(col: Any) -> Any:
    """A numeric-typed Arrow array (see :func:`is_numeric_type`) as plain integers or
    floats: temporal values as their integer count of units, decimals as float64.

    Examples
    --------
    >>> import datetime, pyarrow as pa
    >>> from driftcore._tables import numeric_storage
    >>> numeric_storage(pa.array([datetime.date(1970, 1, 3), None])).to_pylist()
    [2, None]
    """
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    t = col.type
    if pa.types.is_decimal(t):
        return col.cast(pa.float64())
    if (
        pa.types.is_timestamp(t)
        or pa.types.is_date(t)
        or pa.types.is_time(t)
        or pa.types.is_duration(t)
    ):
        return col.view(pa.int64() if t.bit_width == 64 else pa.int32())
    return col


def _arrow_column(name: str, col: Any) -> ColumnChunk:

    t = col.type
    if is_numeric_type(t):
        nulls = col.null_count
        if nulls:
            col = col.drop_null()
        values = numeric_storage(col).to_numpy(zero_copy_only=False)
        return ColumnChunk("numeric", _dispatch.host_1d(values, f"column {name!r}"), nulls)
    if is_categorical_type(t):
        return ColumnChunk("categorical", col, 0)
    raise TypeError(f"column {name!r} has unsupported type {t}")


def _column_name(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"column names must be strings, got {name!r}")
    return name


def _pandas_column(name: str, series: Any) -> ColumnChunk:
    """A pandas column without copying plain numeric data (NaN is pandas' null and
    stays in the values, counted as missing like any NaN)."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiu":
        return ColumnChunk("numeric", _dispatch.host_1d(series.to_numpy(), f"column {name!r}"), 0)
    import pyarrow as pa

    return _arrow_column(name, pa.array(series, from_pandas=True))


def is_categorical_type(t: Any) -> bool:
    """Arrow types counted as categories: strings, bools, dictionaries, all-null."""
    import pyarrow as pa

    return (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_boolean(t)
        or pa.types.is_dictionary(t)
        or pa.types.is_null(t)
    )
