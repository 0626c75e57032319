"""Exact-row leakage: which rows of an evaluation table also occur in a training table.

:func:`exact_row_leakage` compares the rows of two tables on a set of columns and
reports every evaluation row equal to some training row, with the smallest index of a
training row it equals. Equality is exact: a 64-bit row hash only proposes candidates,
and every candidate is checked column by column on exact per-column keys before it is
reported, so a hash collision can never produce a false match.

Canonical form per type
-----------------------
Each value is mapped to an exact key (a small tag plus a 64-bit payload); two values
match when their keys are equal. A column must hold the same kind of data on both sides
(numbers, bools, strings, binary, timestamps, dates or durations; an all-null column
goes with anything); any other pairing, such as strings against numbers, is a
``TypeError`` naming the column.

* **Numbers** (any integer or floating type) compare by numeric value, exactly, without
  going through float64: an ``int64`` 1 matches a ``float64`` 1.0, ``-0.0`` matches
  ``0.0`` and ``0``, and ``2**53 + 1`` (an integer) does *not* match the float
  ``2.0**53`` because they are different numbers. Integral floats and integers in the
  int64 or uint64 range share one key; other floats (fractions, infinities, huge values)
  key by their float64 bit pattern. float16 and float32 widen exactly to float64.
* **NaN is a value**: every NaN equals every NaN (whatever its sign or payload).
* **Null** equals null and nothing else: never NaN, never a value. For pandas, NaN in a
  numpy-backed float column stays NaN; ``None``, ``NaN``, ``NaT`` and ``pd.NA`` in
  object and extension columns are pandas' missing markers and become null. In numpy
  object arrays likewise; in Python lists ``None`` is null and ``float('nan')`` is NaN.
* **Bools** are their own type: a bool column matches only a bool column (``True`` is
  not ``1``; a bool column against a number column is a ``TypeError``).
* **Strings** compare by their exact UTF-8 bytes, no Unicode normalization or case
  folding (``"é"`` precomposed differs from ``"e"`` + combining accent); ``string``,
  ``large_string`` and ``string_view`` are equivalent, as are numpy ``str`` arrays and
  pandas object or categorical columns of ``str``. Dictionary-encoded columns compare
  by their decoded values.
* **Binary** compares by bytes (``binary``, ``large_binary``, fixed-size binary, numpy
  ``bytes``; numpy's fixed-width ``S`` arrays drop trailing NUL bytes, use object
  arrays or pyarrow to keep them). Binary never matches a string column (``TypeError``).
* **Timestamps and durations** compare by the instant or length they denote, whatever
  the unit: ``1 s`` equals ``1000 ms``; each value is keyed in the coarsest unit that
  holds it exactly, so there is no overflow. Time zones do not matter (Arrow stores
  UTC instants), but a naive column against a zoned one is a ``TypeError``. **Dates**
  (``date32`` days, ``date64`` milliseconds) compare by the same rule. Timestamps never
  match dates.
* Anything else (lists, structs, maps, decimals, times of day, ...) is a ``TypeError``
  naming the column and its type.

Algorithm
---------
Every value becomes an exact per-column key: numbers, bools and temporal values by the
rules above; strings and binary by their code in the evaluation column's dictionary
(``pyarrow.compute.dictionary_encode``: codes are exact identities). The keys of a row
are mixed into one 64-bit hash: ``h = k`` (the number of columns), then
``h = (h ^ fmix64(val_j + tag_j * G)) * G`` for each column ``j``, and finally
``fmix64(h)`` (:func:`_mix_rows`; uint64 arithmetic modulo 2**64,
``G = 0x9E3779B97F4A7C15``, ``fmix64`` is MurmurHash3's 64-bit finalizer).
Equal evaluation rows are grouped by sorting their hashes and checking that neighbours
with equal hashes have equal keys (after a collision, by ``np.unique`` on the keys).
The training side is then read batch by batch, so it may be a stream of any length:
each training string is looked up in the evaluation dictionary
(``pyarrow.compute.index_in``; a string absent from it can match nothing and gets its
own key), each row is hashed the same way, its hash is looked up among the distinct
evaluation hashes (``index_in`` again, an Arrow hash table), and every candidate pair
is verified on all its columns' exact keys before it counts. Memory: the evaluation
table's keys plus one training batch and the keys of at most 2**20 of its rows; nothing
of the training side is kept between batches except the running row count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np

from . import _core
from ._tables import _is_polars, index_labels

__all__ = ["RowLeakage", "exact_row_leakage"]

# Tags of the per-column keys. A value's key is (tag, payload); keys are equal iff the
# values match. Tags only need to differ within one kind of column.
_NULL = 0
_VALUE = 1  # numbers: an integer in the int64 range; strings: a code; bools: 0 or 1
_NAN = 2
_FLOAT_BITS = 3  # a float that is not an integer in the int64 or uint64 range
_UINT_HIGH = 4  # an integer in [2**63, 2**64)
_ABSENT = 5  # a training string absent from the evaluation column: matches nothing
_UNIT_TAG = {"ns": 10, "us": 11, "ms": 12, "s": 13, "day": 14}

_U64 = np.uint64
_SLICE = 1 << 20  # training rows keyed at a time
_TWO63 = 2.0**63
_TWO64 = 2.0**64


@dataclass(frozen=True, eq=False)
class RowLeakage:
    """Rows of an evaluation table that also occur in a training table.

    Attributes
    ----------
    eval_index : np.ndarray of int64
        Positions (0-based) of the leaked evaluation rows, ascending.
    train_index : np.ndarray of int64
        For each leaked evaluation row, the smallest position of a training row equal
        to it (positions count across all training batches).
    n_eval, n_train : int
        Rows in the evaluation and training tables.
    columns : list of str
        The columns compared, in order.
    n_eval_distinct : int
        Distinct rows of the evaluation table (on ``columns``).
    n_leaked_distinct : int
        Distinct evaluation rows that leaked.
    eval_labels, train_labels : np.ndarray or None
        The pandas index labels of those rows, when the table was a DataFrame whose
        index is not its positions (None otherwise, and for a stream of training
        batches).

    Examples
    --------
    >>> import driftcore
    >>> r = driftcore.exact_row_leakage({"a": [1, 2, 3]}, {"a": [3.0, 4.0, 3.0]})
    >>> r
    RowLeakage(leaked=2 of 3 eval rows (66.7%), n_train=3, columns=['a'])
    >>> r.eval_index.tolist(), r.train_index.tolist(), r.n_eval_distinct
    ([0, 2], [2, 2], 2)
    """

    eval_index: np.ndarray
    train_index: np.ndarray
    n_eval: int
    n_train: int
    columns: list[str] = field(default_factory=list)
    n_eval_distinct: int = 0
    n_leaked_distinct: int = 0
    eval_labels: np.ndarray | None = None
    train_labels: np.ndarray | None = None

    @property
    def n_leaked(self) -> int:
        """Number of leaked evaluation rows (duplicates counted each time)."""
        return int(self.eval_index.size)

    @property
    def rate(self) -> float:
        """Leaked evaluation rows / evaluation rows (0.0 when there are none)."""
        return self.n_leaked / self.n_eval if self.n_eval else 0.0

    @property
    def n_eval_duplicates(self) -> int:
        """Evaluation rows that repeat an earlier evaluation row."""
        return self.n_eval - self.n_eval_distinct

    def to_pandas(self) -> Any:
        """The leaked rows as a pandas DataFrame: ``eval_index`` and ``train_index``,
        and ``eval_label`` / ``train_label`` when the inputs had index labels.

        Examples
        --------
        >>> import driftcore, pandas as pd
        >>> driftcore.exact_row_leakage({"a": [1, 2]}, {"a": [2, 5]}).to_pandas()
           eval_index  train_index
        0           0            1
        >>> train = pd.DataFrame({"a": [1, 2]}, index=["u1", "u2"])
        >>> driftcore.exact_row_leakage(train, pd.DataFrame({"a": [2]}, index=["v9"])).to_pandas()
           eval_index  train_index eval_label train_label
        0           0            1         v9          u2
        """
        import pandas as pd

        return pd.DataFrame(self._columns())

    def _columns(self) -> dict[str, Any]:
        out: dict[str, Any] = {"eval_index": self.eval_index, "train_index": self.train_index}
        if self.eval_labels is not None:
            out["eval_label"] = self.eval_labels
        if self.train_labels is not None:
            out["train_label"] = self.train_labels
        return out

    def to_arrow(self) -> Any:
        """The leaked rows as a pyarrow Table with ``eval_index`` and ``train_index``.

        Examples
        --------
        >>> import driftcore
        >>> t = driftcore.exact_row_leakage({"a": [1, 2]}, {"a": [2, 5]}).to_arrow()
        >>> t.column_names, t.num_rows
        (['eval_index', 'train_index'], 1)
        """
        import pyarrow as pa

        cols = self._columns()
        for k in ("eval_label", "train_label"):
            if k in cols:  # labels of any type: as text, which Arrow always takes
                cols[k] = [str(v) for v in cols[k]]
        return pa.table(cols)

    def __repr__(self) -> str:
        return (
            f"RowLeakage(leaked={self.n_leaked} of {self.n_eval} eval rows "
            f"({100.0 * self.rate:.1f}%), n_train={self.n_train}, "
            f"columns={self.columns!r})"
        )


def exact_row_leakage(
    train_table: Any, eval_table: Any, columns: Sequence[str] | None = None
) -> RowLeakage:
    """Find the rows of ``eval_table`` that also occur, exactly, in ``train_table``.

    Parameters
    ----------
    train_table
        A pandas DataFrame, a pyarrow Table or RecordBatch, a dict of arrays (numpy,
        pyarrow or lists), or an iterable of such tables (for example pyarrow
        RecordBatches or a ``RecordBatchReader``), read one batch at a time.
    eval_table
        One table of the same kinds (held in memory).
    columns
        The columns to compare. Default: the columns present in both tables, in the
        training table's order (for a stream, the first batch's).

    Returns
    -------
    RowLeakage
        The leaked evaluation rows, the training row each matches, and counts.

    Raises
    ------
    KeyError
        A column named in ``columns`` is missing from either table (or from a training
        batch).
    ValueError
        No columns in common, or a dict input whose columns differ in length.
    TypeError
        A column of a type that cannot be compared, or of kinds on the two sides that
        can never match (strings against numbers, bools against numbers, ...).

    Notes
    -----
    Values match by the canonical form of the module docstring: numbers by exact
    numeric value (int 1 == float 1.0, -0.0 == 0.0), NaN == NaN, null only == null,
    bools only against bools, strings and binary by bytes, timestamps by instant.

    Examples
    --------
    >>> import driftcore
    >>> train = {"x": [1.0, float("nan"), None, -0.0], "s": ["a", "b", "c", "d"]}
    >>> ev = {"s": ["b", "c", "c", "d", "a"], "x": [float("nan"), None, 0.0, 0, 2.0]}
    >>> r = driftcore.exact_row_leakage(train, ev)
    >>> r.columns, r.eval_index.tolist(), r.train_index.tolist(), r.rate
    (['x', 's'], [0, 1, 3], [1, 2, 3], 0.6)
    """
    ev = _as_table(eval_table, "eval_table")
    if ev is None:
        raise TypeError(
            "eval_table must be one table (a dict of arrays, a pandas or polars DataFrame, "
            f"or a pyarrow Table or RecordBatch), got {type(eval_table).__name__}"
        )
    first = _as_table(train_table, "train_table")
    if first is not None:
        batches: Iterable[Any] = ()
    else:
        if isinstance(train_table, (str, bytes)) or not isinstance(train_table, Iterable):
            raise TypeError(
                "train_table must be a table or an iterable of tables, got "
                f"{type(train_table).__name__}"
            )
        it = iter(train_table)
        first_raw = next(it, None)
        first = None if first_raw is None else _as_table(first_raw, "a training batch")
        if first_raw is not None and first is None:
            raise TypeError(f"a training batch is a {type(first_raw).__name__}, not a table")
        batches = it

    cols = _choose_columns(first, ev, columns)
    ev_keys = [_EvalColumn(name, ev.column(name)) for name in cols]
    # Per-column keys as (columns, rows) arrays, so that each column is contiguous.
    group_of_row, g_tag, g_val, g_hash = _distinct_rows(
        np.stack([c.tag for c in ev_keys]), np.stack([c.val for c in ev_keys])
    )
    lookup = _HashLookup(g_hash)
    none = np.iinfo(np.int64).max
    first_train = np.full(g_hash.size, none, np.int64)

    n_train = 0
    for i, raw in enumerate(chain([first] if first is not None else [], batches)):
        batch = raw if i == 0 else _as_table(raw, "a training batch")
        if batch is None:
            raise TypeError(f"a training batch is a {type(raw).__name__}, not a table")
        m = batch.num_rows
        missing = [c for c in cols if c not in batch.names]
        if missing:
            raise KeyError(f"column {missing[0]!r} is missing from a training batch")
        if m and g_hash.size:
            arrays = [batch.column(c.name) for c in ev_keys]
            # Keys for at most _SLICE rows at a time, so memory stays bounded however
            # large one training table is.
            for start in range(0, m, _SLICE):
                keys = [c.train_keys(a.slice(start, _SLICE)) for c, a in zip(ev_keys, arrays)]
                b_tag = np.stack([t for t, _ in keys])
                b_val = np.stack([v for _, v in keys])
                _match_batch(b_tag, b_val, n_train + start, lookup, g_tag, g_val, first_train)
        n_train += m

    leaked_group = first_train != none
    eval_index = np.flatnonzero(leaked_group[group_of_row]).astype(np.int64)
    train_index = first_train[group_of_row[eval_index]]
    eval_labels, train_labels = index_labels(eval_table), index_labels(train_table)
    return RowLeakage(
        eval_index=eval_index,
        train_index=train_index,
        n_eval=ev.num_rows,
        n_train=n_train,
        columns=list(cols),
        n_eval_distinct=int(g_hash.size),
        n_leaked_distinct=int(np.count_nonzero(leaked_group)),
        eval_labels=None if eval_labels is None else eval_labels[eval_index],
        train_labels=None if train_labels is None else train_labels[train_index],
    )


# --- hashing and matching -------------------------------------------------------------

_GOLDEN = _U64(_core.GOLDEN_GAMMA)


def _mix_rows(tag: np.ndarray, val: np.ndarray) -> np.ndarray:
    """64-bit hash of each row of per-column keys; ``tag`` (uint8) and ``val`` (uint64)
    have shape (columns, rows).

    ``h = k`` (the number of columns); then for each column ``j`` in order
    ``h = (h ^ fmix64(val_j + tag_j * G)) * G``; the row hash is ``fmix64(h)``. All
    arithmetic is modulo 2**64; ``G = 0x9E3779B97F4A7C15`` (odd, so multiplying by it is
    a bijection) and ``fmix64`` is MurmurHash3's 64-bit finalizer. Equal keys give equal
    hashes; unequal rows collide with probability about 2**-64 per pair, and the exact
    check after the lookup rejects such collisions.
    """
    k, n = tag.shape
    h = np.full(n, k, dtype=_U64)
    with np.errstate(over="ignore"):  # wrapping is intended
        for j in range(k):
            # The kernel adds (j + 1) G to the bits it is given: give it the rest.
            bits = val[j] + (tag[j].astype(_U64) - _U64(j + 1)) * _GOLDEN
            _core.row_hash_mix(h, bits, j)
    _core.row_hash_finish(h)
    return h


def _distinct_rows(
    tag: np.ndarray, val: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Group equal rows exactly: (group of each row, group tags, group values, group
    hashes), groups numbered by first appearance in hash order."""
    n = tag.shape[1]
    h = _mix_rows(tag, val)
    order = np.argsort(h, kind="stable")
    hs, ts, vs = h[order], tag[:, order], val[:, order]
    same_hash = hs[1:] == hs[:-1]
    same_key = np.all(ts[:, 1:] == ts[:, :-1], axis=0) & np.all(vs[:, 1:] == vs[:, :-1], axis=0)
    if np.any(same_hash & ~same_key):
        # Two different rows share a 64-bit hash (or the hash was replaced in a test):
        # group by the keys themselves, exactly and more slowly.
        matrix = np.concatenate([tag.astype(_U64), val]).T
        _, rep, group_of_row = np.unique(matrix, axis=0, return_index=True, return_inverse=True)
        group_of_row = group_of_row.reshape(-1)
    else:
        # Equal hashes are runs of equal rows: each run is a group.
        start = np.concatenate([np.ones(min(n, 1), bool), ~same_hash])
        group_of_row = np.empty(n, np.intp)
        group_of_row[order] = np.cumsum(start) - 1
        rep = order[start]
    return group_of_row, tag[:, rep], val[:, rep], h[rep]


class _HashLookup:
    """Position of a hash among the distinct group hashes (an Arrow hash table), and
    the groups sharing each distinct hash (more than one only after a collision)."""

    def __init__(self, g_hash: np.ndarray) -> None:
        import pyarrow as pa

        self.order = np.argsort(g_hash, kind="stable")
        sh = g_hash[self.order]
        self.start = np.flatnonzero(
            np.concatenate([np.ones(min(sh.size, 1), bool), sh[1:] != sh[:-1]])
        )
        self.count = np.diff(np.append(self.start, sh.size))
        self.unique = bool(np.all(self.count == 1))
        self.value_set = pa.array(sh[self.start])

    def candidates(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, groups): every row of ``h`` paired with each group of equal hash."""
        import pyarrow as pa
        import pyarrow.compute as pc

        pos = pc.index_in(pa.array(h), value_set=self.value_set)
        pos = np.asarray(pos.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
        rows = np.flatnonzero(pos >= 0)
        pos = pos[rows]
        if self.unique:
            return rows, self.order[self.start[pos]]
        count = self.count[pos]
        first = np.repeat(self.start[pos] - (np.cumsum(count) - count), count)
        rows = np.repeat(rows, count)
        return rows, self.order[first + np.arange(rows.size)]


def _match_batch(
    b_tag: np.ndarray,
    b_val: np.ndarray,
    offset: int,
    lookup: _HashLookup,
    g_tag: np.ndarray,
    g_val: np.ndarray,
    first_train: np.ndarray,
) -> None:
    """Record, for each distinct evaluation row, the first training row of this batch
    equal to it (if it has none yet)."""
    rows, groups = lookup.candidates(_mix_rows(b_tag, b_val))
    if not rows.size:
        return
    # The exact check: every column's (tag, value) key must be equal.
    ok = np.all(b_tag[:, rows] == g_tag[:, groups], axis=0) & np.all(
        b_val[:, rows] == g_val[:, groups], axis=0
    )
    rows, groups = rows[ok], groups[ok]
    if not rows.size:
        return
    # rows ascend, so the first occurrence of each group is its smallest training row.
    groups, first = np.unique(groups, return_index=True)
    new = first_train[groups] == np.iinfo(np.int64).max
    first_train[groups[new]] = offset + rows[first[new]]


# --- reading tables -------------------------------------------------------------------


class _Table:
    """Column names, row count, and each column as one pyarrow Array on demand."""

    def __init__(self, names: list[str], num_rows: int, get: Any) -> None:
        self.names = names
        self.num_rows = num_rows
        self._get = get

    def column(self, name: str) -> Any:
        return self._get(name)


def _is_arrow(data: Any, *names: str) -> bool:
    return type(data).__module__.startswith("pyarrow") and type(data).__name__ in names


def _is_pandas(data: Any) -> bool:
    return type(data).__module__.startswith("pandas") and hasattr(data, "columns")


def _check_names(names: Iterable[Any], what: str) -> list[str]:
    out = list(names)
    for name in out:
        if not isinstance(name, str):
            raise TypeError(f"column names of {what} must be strings, got {name!r}")
    if len(set(out)) != len(out):
        dup = next(n for n in out if out.count(n) > 1)
        raise ValueError(f"{what} has more than one column named {dup!r}")
    return out


def _as_table(data: Any, what: str) -> _Table | None:
    """``data`` as a :class:`_Table`, or None when it is not one table."""
    if _is_polars(data, "DataFrame"):
        data = data.to_arrow()  # Arrow buffers, mostly without a copy
    if _is_arrow(data, "Table", "RecordBatch"):
        names = _check_names(data.column_names, what)
        return _Table(names, data.num_rows, lambda n: _arrow_array(n, data.column(n)))
    if _is_pandas(data):
        names = _check_names(data.columns, what)
        return _Table(names, len(data), lambda n: _pandas_array(n, data[n]))
    if isinstance(data, Mapping):
        names = _check_names(data.keys(), what)
        lengths = {}
        for name in names:
            col = data[name]
            if isinstance(col, np.ndarray) and col.ndim != 1:
                raise ValueError(f"column {name!r} must be 1-D, got shape {col.shape}")
            lengths[name] = len(col)
        if len(set(lengths.values())) > 1:
            raise ValueError(f"the columns of {what} have different lengths: {lengths}")
        n = next(iter(lengths.values()), 0)
        return _Table(names, n, lambda c: _any_array(c, data[c]))
    return None


def _arrow_array(name: str, col: Any) -> Any:
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    return col


def _pandas_array(name: str, series: Any) -> Any:
    import pyarrow as pa

    dtype = series.dtype
    try:
        if isinstance(dtype, np.dtype) and dtype.kind in "biufmM":
            # NaN in a float column stays NaN; NaT becomes null.
            return _arrow_array(name, pa.array(series.to_numpy()))
        return _arrow_array(name, pa.array(series, from_pandas=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise TypeError(f"column {name!r} cannot be read as one Arrow type: {exc}") from exc


def _any_array(name: str, col: Any) -> Any:
    import pyarrow as pa

    if isinstance(col, (pa.Array, pa.ChunkedArray)):
        return _arrow_array(name, col)
    if _is_pandas(col) or type(col).__module__.startswith("pandas"):
        return _pandas_array(name, col)
    try:
        if isinstance(col, np.ndarray):
            # object arrays follow pandas: None and NaN are missing (null)
            return _arrow_array(name, pa.array(col, from_pandas=col.dtype.kind == "O"))
        return _arrow_array(name, pa.array(col))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise TypeError(f"column {name!r} cannot be read as one Arrow type: {exc}") from exc


def _choose_columns(train: _Table | None, ev: _Table, columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        if isinstance(columns, str):
            raise TypeError("columns must be a list of column names, not one string")
        cols = list(columns)
        for name in cols:
            if train is not None and name not in train.names:
                raise KeyError(f"column {name!r} is missing from train_table")
            if name not in ev.names:
                raise KeyError(f"column {name!r} is missing from eval_table")
        if not cols:
            raise ValueError("columns is empty: name at least one column to compare")
        if len(set(cols)) != len(cols):
            raise ValueError(f"columns names a column more than once: {cols}")
        return cols
    if train is None:  # an empty stream: nothing to leak; compare the eval columns
        cols = list(ev.names)
    else:
        common = set(ev.names)
        cols = [n for n in train.names if n in common]
    if not cols:
        raise ValueError(
            "the tables have no columns in common "
            f"(train: {train.names if train else []}, eval: {ev.names})"
        )
    return cols


# --- canonical keys -------------------------------------------------------------------


def _kind(name: str, t: Any) -> str:
    """The kind of data an Arrow type holds (two columns match only kind to kind)."""
    import pyarrow as pa

    types = pa.types
    if types.is_null(t):
        return "null"
    if types.is_integer(t) or types.is_floating(t):
        return "number"
    if types.is_boolean(t):
        return "bool"
    if types.is_string(t) or types.is_large_string(t) or _is(t, "is_string_view"):
        return "string"
    if (
        types.is_binary(t)
        or types.is_large_binary(t)
        or types.is_fixed_size_binary(t)
        or _is(t, "is_binary_view")
    ):
        return "binary"
    if types.is_timestamp(t):
        return "timestamp (time zone)" if t.tz else "timestamp (no time zone)"
    if types.is_date(t):
        return "date"
    if types.is_duration(t):
        return "duration"
    raise TypeError(
        f"column {name!r} has type {t}, which exact_row_leakage cannot compare "
        "(supported: numbers, bool, string, binary, timestamp, date, duration)"
    )


def _is(t: Any, predicate: str) -> bool:
    import pyarrow as pa

    fn = getattr(pa.types, predicate, None)
    return bool(fn(t)) if fn is not None else False


def _nulls(arr: Any) -> np.ndarray:
    if arr.null_count == 0:
        return np.zeros(len(arr), bool)
    return arr.is_null().to_numpy(zero_copy_only=False)


def _filled(arr: Any, fill: Any, dtype: Any) -> np.ndarray:
    import pyarrow as pa

    if arr.null_count:
        arr = arr.fill_null(pa.scalar(fill, arr.type))
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=dtype)


def _number_keys(arr: Any) -> tuple[np.ndarray, np.ndarray]:
    import pyarrow as pa

    n = len(arr)
    tag = np.full(n, _VALUE, np.uint8)
    t = arr.type
    if pa.types.is_floating(t):
        x = _filled(arr.cast(pa.float64()), 0.0, np.float64)
        val = np.zeros(n, _U64)
        nan = np.isnan(x)
        integral = ~nan & (np.trunc(x) == x)
        low = integral & (x >= -_TWO63) & (x < _TWO63)
        high = integral & (x >= _TWO63) & (x < _TWO64)
        other = ~nan & ~low & ~high
        val[low] = x[low].astype(np.int64).view(_U64)  # -0.0 -> 0
        val[high] = x[high].astype(_U64)
        tag[high] = _UINT_HIGH
        val[other] = x[other].view(_U64)
        tag[other] = _FLOAT_BITS
        tag[nan] = _NAN
    elif pa.types.is_uint64(t):
        val = _filled(arr, 0, _U64)
        tag[val >= _U64(2**63)] = _UINT_HIGH
    else:  # every other integer type fits int64
        val = _filled(arr, 0, np.int64).view(_U64)
    return tag, val


_FINER_TO_COARSER = [("ns", "us", 1000), ("us", "ms", 1000), ("ms", "s", 1000)]


def _temporal_keys(arr: Any) -> tuple[np.ndarray, np.ndarray]:
    """Each value in the coarsest unit that holds it exactly (no overflow)."""
    import pyarrow as pa

    n = len(arr)
    t = arr.type
    if pa.types.is_date32(t):
        days = _filled(arr.cast(pa.int32()), 0, np.int64)
        return np.full(n, _UNIT_TAG["day"], np.uint8), days.view(_U64)
    v = _filled(arr.cast(pa.int64()), 0, np.int64)
    if pa.types.is_date64(t):
        tag = np.full(n, _UNIT_TAG["ms"], np.uint8)
        whole = v % 86_400_000 == 0
        v = np.where(whole, v // 86_400_000, v)
        tag[whole] = _UNIT_TAG["day"]
        return tag, v.view(_U64)
    tag = np.full(n, _UNIT_TAG[t.unit], np.uint8)
    for finer, coarser, factor in _FINER_TO_COARSER:
        step = (tag == _UNIT_TAG[finer]) & (v % factor == 0)
        v = np.where(step, v // factor, v)
        tag[step] = _UNIT_TAG[coarser]
    return tag, v.view(_U64)


def _with_nulls(arr: Any, tag: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    null = _nulls(arr)
    if null.any():
        if not val.flags.writeable:  # a zero-copy view of Arrow memory
            val = val.copy()
        tag[null] = _NULL
        val[null] = 0
    return tag, val


class _EvalColumn:
    """One evaluation column: its exact keys, and what is needed to key training
    batches the same way (its kind, and for strings and binary its dictionary)."""

    def __init__(self, name: str, arr: Any) -> None:
        self.name = name
        self.kind = _kind(name, arr.type)
        self.kind_from = "eval_table"  # where self.kind was seen
        self.dictionary: Any = None
        self.tag, self.val = self._keys(arr, is_eval=True)

    def train_keys(self, arr: Any) -> tuple[np.ndarray, np.ndarray]:
        kind = _kind(self.name, arr.type)
        if kind != self.kind and "null" not in (kind, self.kind):
            raise TypeError(
                f"column {self.name!r} holds {self.kind} values in {self.kind_from} "
                f"but {kind} values in train_table; they cannot be compared"
            )
        if self.kind == "null" and kind != "null":
            # evaluation all null: any training value is absent from it
            self.kind, self.kind_from = kind, "an earlier training batch"
        return self._keys(arr, is_eval=False)

    def _keys(self, arr: Any, is_eval: bool) -> tuple[np.ndarray, np.ndarray]:
        import pyarrow as pa
        import pyarrow.compute as pc

        n = len(arr)
        kind = _kind(self.name, arr.type)
        if kind == "null":
            return np.zeros(n, np.uint8), np.zeros(n, _U64)
        if kind == "number":
            tag, val = _number_keys(arr)
        elif kind == "bool":
            tag = np.full(n, _VALUE, np.uint8)
            val = _filled(arr, False, bool).astype(_U64)
        elif kind in ("string", "binary"):
            wide = pa.large_string() if kind == "string" else pa.large_binary()
            arr = arr.cast(wide)
            if is_eval:
                enc = pc.dictionary_encode(arr)
                self.dictionary = enc.dictionary
                codes = enc.indices
            else:
                if self.dictionary is None:
                    self.dictionary = pa.array([], wide)
                codes = pc.index_in(arr, value_set=self.dictionary)
            tag = np.full(n, _VALUE, np.uint8)
            val = _filled(codes.cast(pa.int64()), 0, np.int64).view(_U64)
            if not is_eval:
                tag[codes.is_null().to_numpy(zero_copy_only=False)] = _ABSENT
        else:
            tag, val = _temporal_keys(arr)
        return _with_nulls(arr, tag, val)
