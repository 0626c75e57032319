"""Parquet files as a Dask DataFrame, read by pyarrow in the workers.

``dask.dataframe.read_parquet`` is general (filesystems, filters, index handling) and
costs for it: on local files of one float32 column it took 0.16-0.23 s per 1e7-row
file in a worker, against 76-97 ms for ``pyarrow.parquet.read_table`` (see
benchmarks/RESULTS.md), and a profile reads its data twice. This reader does only the
plain case, one partition per file, through pyarrow's own reader.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any


def read_parquet(paths: Any, columns: list[str] | None = None) -> Any:
    """A Dask DataFrame of Parquet files, one partition per file, each read by
    ``pyarrow.parquet.read_table`` in the worker (pandas partitions, RangeIndex, no
    divisions). ``paths``: a folder (its ``*.parquet`` files, sorted), a glob pattern,
    one file, or a list of files. Every file must have the requested columns.

    Examples
    --------
    >>> import tempfile, pathlib, pyarrow as pa, pyarrow.parquet as pq
    >>> import driftcore.dask as dcd
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(3):
    ...     pq.write_table(pa.table({"x": [float(i)] * 4}), folder / f"part-{i}.parquet")
    >>> ddf = dcd.read_parquet(folder)
    >>> ddf.npartitions, float(ddf["x"].sum().compute())
    (3, 12.0)
    """
    import dask.dataframe as dd
    import pyarrow.parquet as pq

    if isinstance(columns, str):
        raise TypeError("columns must be a list of column names, not a string")
    files = _files(paths)
    schema = pq.read_schema(files[0])
    names = list(schema.names) if columns is None else list(columns)
    unknown = [c for c in names if c not in schema.names]
    if unknown:
        raise KeyError(f"{files[0]}: no columns {unknown} (has {list(schema.names)})")
    meta = schema.empty_table().select(names).to_pandas()
    return dd.from_map(_read_file, files, columns=names, meta=meta, enforce_metadata=False)


def _read_file(path: str, columns: list[str]) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=columns).to_pandas()


def _files(paths: Any) -> list[str]:
    if isinstance(paths, (str, Path)):
        p = Path(paths)
        if p.is_dir():
            files = sorted(str(f) for f in p.glob("*.parquet"))
        elif p.is_file():
            files = [str(p)]
        else:
            files = sorted(glob.glob(str(paths)))
    else:
        files = [str(f) for f in paths]
    if not files:
        raise FileNotFoundError(f"no Parquet files at {paths!r}")
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise FileNotFoundError(f"not a file: {missing[0]}")
    return files
