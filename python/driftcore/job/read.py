"""Opening the command line's inputs and reading them in Arrow record batches.

A *source* is a Parquet file, a CSV file, a folder of Parquet files (read in
sorted path order), or a table in memory (:func:`open_table`: an Arrow, pandas or
polars table, a dict of arrays, or an iterable of such chunks). Opening a file reads
only metadata (Parquet) or the first block (CSV, whose column types hold for the
whole file: see :mod:`driftcore.job.read_csv`);
:meth:`Source.batches` then yields ``pyarrow.RecordBatch`` objects of at most
``batch_size`` rows, so memory stays bounded whatever the file size. Every problem
(missing file, unreadable file, a folder whose files disagree, a value that does not
parse) becomes an :class:`~driftcore.job.errors.InputError` naming the file.

Examples
--------
>>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, os
>>> from driftcore.job.read import open_source
>>> d = tempfile.mkdtemp()
>>> pq.write_table(pa.table({"x": [1.0, 2.0, 3.0]}), os.path.join(d, "a.parquet"))
>>> src = open_source(os.path.join(d, "a.parquet"))
>>> src.format, src.num_rows, src.schema.names
('parquet', 3, ['x'])
>>> [b.num_rows for b in src.batches(["x"], batch_size=2)]
[2, 1]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from .._tables import is_categorical_type, is_numeric_type, numeric_storage
from . import read_csv
from .errors import InputError

#: Column kinds the command line understands; anything else must be excluded.
KINDS = ("numeric", "categorical", "text", "identifier")


@dataclass
class Source:
    """One input: its path (or a label for a table in memory), format, Arrow schema
    and row count (None for CSV, which is only known after reading)."""

    path: Path | str
    format: str  # "parquet", "parquet-folder", "csv" or "table"
    schema: pa.Schema
    num_rows: int | None
    files: list[Path] = field(default_factory=list)
    widened: dict[str, str] = field(default_factory=dict)  # CSV columns retyped, and why
    table: pa.Table | None = None  # the data of a "table" source
    labels: Any = None  # a DataFrame's index labels, when they are not its positions

    def batches(
        self, columns: list[str], batch_size: int = 1 << 18, *, prefetch: int = 0
    ) -> Iterator[pa.RecordBatch]:
        """Record batches of ``columns`` (in that order), at most ``batch_size`` rows.

        ``prefetch > 0`` decodes up to that many batches ahead in a background
        thread (Arrow releases the GIL), overlapping reading with the caller's work.
        """
        if prefetch > 0:
            yield from prefetched(self.batches(columns, batch_size), prefetch)
            return
        if self.table is not None:
            yield from self.table.select(columns).to_batches(max_chunksize=batch_size)
            return
        try:
            if self.format == "csv":
                yield from read_csv.batches(self, columns, batch_size)
                return
            import pyarrow.parquet as pq

            for f in self.files:
                # pre_buffer (the default) caches every column chunk read so far: 1.3 GB
                # after one pass over a 1.3 GB file. Buffered streams keep memory at
                # about one row group.
                pf = pq.ParquetFile(f, pre_buffer=False, buffer_size=1 << 22)
                yield from pf.iter_batches(batch_size=batch_size, columns=columns)
        except InputError:
            raise
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(self.path, f"cannot read: {short_message(exc)}") from exc


def open_source(path: str | Path) -> Source:
    """Open ``path`` (Parquet file, CSV file or folder of Parquet files) for reading.

    Raises
    ------
    InputError
        The path does not exist, is not readable, holds no Parquet files, or its
        files disagree on the schema.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(p, "no such file or folder")
    if p.is_dir():
        return _open_folder(p)
    if _is_parquet(p):
        return _open_parquet(p)
    return _open_csv(p)


def open_table(data: Any, label: str) -> Source:
    """A table in memory as a source: a pyarrow Table or RecordBatch, a pandas or
    polars DataFrame, a dict of arrays, or an iterable of such chunks (held in memory
    as one Arrow table: a check may read its reference twice). ``label`` names it in
    messages and reports.

    Examples
    --------
    >>> from driftcore.job.read import open_table
    >>> src = open_table({"x": [1.0, 2.0], "c": ["a", "b"]}, "reference")
    >>> src.format, src.num_rows, src.schema.names
    ('table', 2, ['x', 'c'])
    """
    from .._tables import index_labels, to_arrow_table

    try:
        table = to_arrow_table(data)
    except (TypeError, ValueError) as exc:
        raise InputError(label, str(exc)) from exc
    return Source(
        label, "table", table.schema, table.num_rows, table=table, labels=index_labels(data)
    )


def column_kind(t: pa.DataType) -> str | None:
    """ "numeric" (numbers, decimals, timestamps, dates, times, durations),
    "categorical" (strings, bools, dictionaries, all-null), or None for types the drift
    metrics do not handle (lists, structs, binary, ...).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from driftcore.job.read import column_kind
    >>> column_kind(pa.int32()), column_kind(pa.string()), column_kind(pa.list_(pa.int8()))
    ('numeric', 'categorical', None)
    """
    if is_numeric_type(t):  # temporal and decimal types as numbers
        return "numeric"
    return "categorical" if is_categorical_type(t) else None


def as_float64(col: pa.Array | pa.ChunkedArray) -> Any:
    """A numeric column as a float64 numpy array (nulls as NaN). Integers beyond 2**53
    round to the nearest float64 (``safe=False``) rather than stop the command: every
    metric computes in float64, and exact-row leakage compares the integers exactly.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from driftcore.job.read import as_float64
    >>> as_float64(pa.array([2**53 + 1, None])).tolist()
    [9007199254740992.0, nan]
    """
    return numeric_storage(col).cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False)


def is_string(t: pa.DataType) -> bool:
    """True for string columns (the candidates for text)."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def looks_like_text(
    values: pa.Array, *, min_chars: int = 20, min_words: int = 4, min_distinct: float = 0.5
) -> bool:
    """The text rule: values are mostly distinct (at least ``min_distinct`` of the
    non-null values) and long (the median has at least ``min_chars`` characters or
    ``min_words`` words). Long labels that repeat (occupations, institution names)
    are categories, and free text seldom repeats.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from driftcore.job.read import looks_like_text
    >>> looks_like_text(pa.array(["rain", "sun", "fog"]))
    False
    >>> looks_like_text(pa.array(["the model was trained on", "a b c d e"]))
    True
    >>> looks_like_text(pa.array(["Protective service occupations"] * 3))
    False
    """
    import numpy as np
    import pyarrow.compute as pc

    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    values = values.drop_null()
    if len(values) == 0 or pc.count_distinct(values).as_py() < min_distinct * len(values):
        return False
    chars = np.median(pc.utf8_length(values).to_numpy(zero_copy_only=False))
    words = np.median(
        pc.list_value_length(pc.utf8_split_whitespace(values)).to_numpy(zero_copy_only=False)
    )
    return bool(chars >= min_chars or words >= min_words)


# --- opening -------------------------------------------------------------------------


def _is_parquet(p: Path) -> bool:
    if p.suffix.lower() in (".parquet", ".pq"):
        return True
    try:
        with open(p, "rb") as f:
            return f.read(4) == b"PAR1"
    except OSError as exc:
        raise InputError(p, f"cannot open: {exc.strerror or exc}") from exc


def _open_parquet(p: Path) -> Source:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(p).metadata
        schema = meta.schema.to_arrow_schema()
    except (pa.ArrowException, OSError) as exc:
        raise InputError(p, f"not a readable Parquet file ({short_message(exc)})") from exc
    return Source(p, "parquet", schema, meta.num_rows, [p])


def _open_folder(p: Path) -> Source:
    import pyarrow.parquet as pq

    files = sorted(f for f in p.rglob("*.parquet") if f.is_file())
    if not files:
        raise InputError(p, "folder holds no .parquet files")
    schema, rows = None, 0
    for f in files:
        try:
            meta = pq.ParquetFile(f).metadata
            s = meta.schema.to_arrow_schema()
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f, f"not a readable Parquet file ({short_message(exc)})") from exc
        if schema is None:
            schema = s
        elif not s.equals(schema):
            raise InputError(f, f"schema differs from {files[0].name} in the same folder")
        rows += meta.num_rows
    assert schema is not None
    return Source(p, "parquet-folder", schema, rows, files)


def _open_csv(p: Path) -> Source:
    try:
        schema = read_csv.infer_schema(p)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise InputError(p, f"not a readable CSV file ({short_message(exc)})") from exc
    if not schema.names:
        raise InputError(p, "CSV file has no columns")
    return Source(p, "csv", schema, None, [p])


def prefetched(it: Iterator[Any], depth: int) -> Iterator[Any]:
    """Items of ``it``, produced by a background thread up to ``depth`` ahead;
    exceptions are re-raised in the consumer."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def work() -> None:
        try:
            for item in it:
                while not stop.is_set():
                    try:
                        q.put((True, item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((True, done))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put((False, exc))

    t = threading.Thread(target=work, name="driftcore-read", daemon=True)
    t.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                raise item
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while t.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(0.05)


def short_message(exc: BaseException) -> str:
    """The first line of an exception's message."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def looks_like_identifier(values: pa.Array, *, min_values: int = 1000, share: float = 0.95) -> bool:
    """The identifier rule: at least ``min_values`` non-null values of which at least
    ``share`` are distinct (row keys, user ids, hashes). Counting their categories would
    grow without bound with the data, and their drift means nothing.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from driftcore.job.read import looks_like_identifier
    >>> looks_like_identifier(pa.array([f"user-{i}" for i in range(2000)]))
    True
    >>> looks_like_identifier(pa.array(["a", "b"] * 1000))
    False
    """
    import pyarrow.compute as pc

    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    values = values.drop_null()
    if len(values) < min_values:
        return False
    return pc.count_distinct(values).as_py() >= share * len(values)
