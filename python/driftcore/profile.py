"""Profiles: the mergeable, serializable summary of a whole dataset."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _core, _dispatch, _profile_checks, _tables, _validate, _wire
from ._locking import Guarded, locked_pair
from .categories import CategoryCounts
from .value_grid import ValueGrid

_KIND = b"PROF"
#: The profile layout: numeric columns hold a ValueGrid. Layout 1 (quantile sketches
#: and fine-bin histograms) is refused with a message to rebuild.
LAYOUT = 2


@dataclass
class NumericColumn:
    """Summary of a numeric column: moments of the finite values, counts of
    null/NaN/inf, and the exact counts of the finite values on a canonical grid
    (:class:`~driftcore.ValueGrid`), from which quantiles, KS, Wasserstein and the
    binned metrics come with stated bounds. ``sums`` holds the exact sums of the finite
    values and of their squares, as the integers ``S1 * 2**1074`` and ``S2 * 2**2148``
    (every finite double is a multiple of 2**-1074); the mean and M2 are those exact
    values correctly rounded. So the column depends on the multiset of values alone:
    not on their order, chunking, thread count or merge tree."""

    moments: Any = field(default_factory=_core.Moments)
    grid: ValueGrid = field(default_factory=ValueGrid)
    nulls: int = 0  # Arrow/pandas nulls (NaN is counted in moments.nan)
    sums: tuple[int, int] = (0, 0)
    kind: str = "numeric"

    @property
    def count(self) -> int:
        """Non-missing values (finite and infinite)."""
        m = self.moments
        return int(m.count + m.pos_inf + m.neg_inf)

    @property
    def missing(self) -> int:
        return int(self.nulls + self.moments.nan)

    @property
    def mean(self) -> float:
        return float(self.moments.mean) if self.moments.count else float("nan")

    @property
    def variance(self) -> float:
        """Population variance of the finite values."""
        m = self.moments
        return float(m.m2 / m.count) if m.count else float("nan")

    @property
    def min(self) -> float:
        m = self.moments
        if m.neg_inf:
            return float("-inf")
        return float(m.min) if m.count else (float("inf") if m.pos_inf else float("nan"))

    @property
    def max(self) -> float:
        m = self.moments
        if m.pos_inf:
            return float("inf")
        return float(m.max) if m.count else (float("-inf") if m.neg_inf else float("nan"))

    @property
    def values(self) -> dict[float, int] | None:
        """Each distinct finite value and its count, while the grid still has one cell
        a value (at most ``grid.max_cells`` of them); None past that."""
        g = self.grid
        if g.shift != 0:
            return None
        lo, _, counts = g.cells()
        return dict(zip(lo.tolist(), counts.tolist()))


@dataclass
class CategoricalColumn:
    """Summary of a categorical column: category counts and nulls."""

    counts: CategoryCounts = field(default_factory=CategoryCounts)
    kind: str = "categorical"

    @property
    def count(self) -> int:
        return self.counts.total

    @property
    def missing(self) -> int:
        return self.counts.nulls


Column = NumericColumn | CategoricalColumn


class Profile(Guarded):
    """Per-column summaries of a dataset, built chunk by chunk, mergeable, serializable.

    Parameters
    ----------
    bins : int
        Quantile bins per numeric column for the binned metrics (PSI, JS, ...).
    max_cells : int
        Cells of each numeric column's :class:`~driftcore.ValueGrid` (16 to 2^20):
        more cells, finer quantiles and tighter KS / Wasserstein bounds (4096: about
        1/128 of a value's magnitude a cell on a normal column of 4e5 values).
    reference : Profile, optional
        A column that is categorical in the reference is counted as categories here
        too.
    categorical : list of str, optional
        Numeric columns (integer codes) to count as categories.

    Notes
    -----
    A profile is a function of the multiset of rows (and its settings): any order,
    chunking, thread count or merge tree gives the same :meth:`to_bytes`, except that
    the float moments (mean, M2) may differ in their last bits. One profile may be
    updated, merged and read from several threads: each chunk's update, each merge and
    each serialization runs alone. Updating never changes a column object already in
    :attr:`columns`: a chunk's new summaries replace them (copy on write), so a column
    read from ``profile[name]`` stays as it was.

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> p = driftcore.Profile.build({"x": np.arange(10.0), "c": ["a", "b"] * 5})
    >>> p["x"].count, p["x"].mean, p["c"].counts.counts
    (10, 4.5, {'a': 5, 'b': 5})
    """

    def __init__(
        self,
        *,
        bins: int = 10,
        max_cells: int = 4096,
        reference: Profile | None = None,
        categorical: list[str] | None = None,
    ) -> None:
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
            raise ValueError(f"bins must be a positive integer, got {bins!r}")
        if reference is not None and not isinstance(reference, Profile):
            raise TypeError(f"reference must be a Profile, got {type(reference).__name__}")
        ValueGrid(max_cells)  # validates max_cells
        self.bins, self.max_cells = bins, int(max_cells)
        if categorical is not None and (
            isinstance(categorical, str) or not all(isinstance(c, str) for c in categorical)
        ):
            raise TypeError("categorical must be a list of column names")
        self.columns: dict[str, Column] = {}
        self._reference = reference
        self._categorical = set(categorical or ())
        if reference is not None:
            ref_columns = reference.columns  # replaced, never changed, by its updates
            self._categorical |= {
                n for n, c in ref_columns.items() if isinstance(c, CategoricalColumn)
            }

    # --- building ----------------------------------------------------------------

    @classmethod
    def build(
        cls,
        data: Any,
        *,
        bins: int = 10,
        max_cells: int = 4096,
        reference: Profile | None = None,
        categorical: list[str] | None = None,
        threads: int | None = None,
        device: str = "auto",
    ) -> Profile:
        """Profile ``data``: a table (dict of arrays or pandas / polars Series, pandas
        or polars DataFrame, pyarrow Table or RecordBatch) or an iterable of such
        chunks, read once."""
        prof = cls(bins=bins, max_cells=max_cells, reference=reference, categorical=categorical)
        return prof.update(data, threads=threads, device=device)

    def update(self, data: Any, *, threads: int | None = None, device: str = "auto") -> Profile:
        """Add one table or an iterable of tables, all or nothing: when any chunk
        fails (or the iterable raises) the profile is left as it was before the call."""
        nthreads = _dispatch.resolve_threads(threads)
        with self._lock:  # one call at a time, so that its chunks commit together
            staged: dict[str, Column] = {}
            for chunk in _tables.iter_chunks(data):
                self._update_chunk(chunk, staged, nthreads, device)
            self.columns = {**self.columns, **staged}  # a new dict: readers keep theirs
        return self

    def _update_chunk(
        self, chunk: dict, staged: dict[str, Column], nthreads: int, device: str
    ) -> None:
        """Add a chunk to ``staged``: private copies of the columns it touches."""
        for name in self._categorical & chunk.keys():
            if chunk[name].kind == "numeric":
                chunk[name] = as_categorical(name, chunk[name])
        for name, c in chunk.items():  # every kind checked before any column changes
            if name in staged:
                _check_kind(name, staged[name].kind, c.kind)
            else:
                staged[name] = self._copy_column(name, c.kind)

        def update(name: str) -> None:
            col, c = staged[name], chunk[name]
            if isinstance(col, NumericColumn):
                _update_numeric(col, c, per_column, device)
            else:
                col.counts.update(c.values)

        # Columns of a chunk too small to split among threads run side by side instead
        # (the kernels release the GIL); each column's result is the same either way.
        workers = min(len(chunk), int(_core.hardware_threads()) if nthreads == 0 else nthreads)
        rows = max((_tables.chunk_length(c) for c in chunk.values()), default=0)
        if workers > 1 and rows < _COLUMN_SPLIT and device != "gpu":
            per_column = 1
            for _ in _pool().map(update, list(chunk)):
                pass
        else:
            per_column = nthreads
            for name in chunk:
                update(name)

    def _copy_column(self, name: str, kind: str) -> Column:
        old = self.columns.get(name)
        if old is not None:
            _check_kind(name, old.kind, kind)
        if old is None:
            if kind == "categorical":
                return CategoricalColumn()
            return NumericColumn(grid=ValueGrid(self.max_cells))
        if isinstance(old, NumericColumn):
            m = _core.Moments()
            m.merge(old.moments)
            return NumericColumn(m, old.grid.copy(), old.nulls, old.sums)
        return CategoricalColumn(old.counts.copy())

    # --- combining and storing -------------------------------------------------------

    def merge(self, other: Profile) -> Profile:
        """Fold ``other`` (same columns, kinds and settings) into this profile."""
        if not isinstance(other, Profile):
            raise TypeError(f"can only merge a Profile, got {type(other).__name__}")
        for name in ("bins", "max_cells"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                raise ValueError(f"cannot merge profiles with different {name}: {mine} != {theirs}")
        with locked_pair(self, other):
            if set(self.columns) != set(other.columns):
                diff = sorted(set(self.columns) ^ set(other.columns))
                raise ValueError(f"profiles have different columns: {diff}")
            merged = {}
            for name, mine in self.columns.items():
                theirs = other.columns[name]
                if mine.kind != theirs.kind:
                    raise TypeError(f"column {name!r} is {mine.kind} here, {theirs.kind} there")
                if isinstance(mine, NumericColumn):
                    _validate.total(
                        (mine.count, mine.missing, theirs.count, theirs.missing),
                        f"cannot merge: column {name!r}'s count of values",
                    )
                col = self._copy_column(name, mine.kind)
                if isinstance(col, NumericColumn):
                    col.moments.merge(theirs.moments)
                    col.grid.merge(theirs.grid)
                    col.nulls += theirs.nulls
                    col.sums = (col.sums[0] + theirs.sums[0], col.sums[1] + theirs.sums[1])
                    _exact_mean_m2(col)
                else:
                    col.counts.merge(theirs.counts)
                merged[name] = col
            self.columns = merged
        return self

    def to_bytes(self) -> bytes:
        """Serialize the whole profile (versioned, checksummed)."""
        with self._lock:
            header: dict[str, Any] = {
                "layout": LAYOUT,
                "bins": self.bins,
                "max_cells": self.max_cells,
                "columns": [],
            }
            blobs: list[bytes] = []
            for name, col in self.columns.items():
                entry: dict[str, Any] = {"name": name, "kind": col.kind}
                if isinstance(col, NumericColumn):
                    m = col.moments
                    entry["moments"] = [
                        m.count,
                        m.nan,
                        m.pos_inf,
                        m.neg_inf,
                        m.min,
                        m.max,
                        m.mean,
                        m.m2,
                    ]
                    entry["nulls"] = col.nulls
                    entry["sums"] = [hex(col.sums[0]), hex(col.sums[1])]
                    parts = [col.grid.to_bytes()]
                else:
                    parts = [col.counts.to_bytes()]
                entry["parts"] = [len(p) for p in parts]
                blobs.extend(parts)
                header["columns"].append(entry)
            head = json.dumps(header).encode()
        return _wire.frame(_KIND, struct.pack("<Q", len(head)) + head + b"".join(blobs))

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        """Inverse of :meth:`to_bytes`; raises ValueError on corrupted data, and on a
        profile of the older layout (quantile sketches), which must be rebuilt."""
        payload = _wire.unframe(data, _KIND)
        with _validate.corrupted("corrupted profile payload"):
            header, pos = _validate.header(payload)
            if type(header) is dict and "layout" not in header and "k" in header:
                raise ValueError(
                    "a profile of an older layout (quantile sketches), which this driftcore "
                    "no longer reads: rebuild it from the data (Profile.build, or driftcore "
                    "profile DATA -o FILE.dcp)"
                )
            header = _validate.fields(header, "header", ("layout", "bins", "max_cells", "columns"))
            if header["layout"] != LAYOUT:
                raise ValueError(f"unknown profile layout {header['layout']!r:.20}")
            prof = cls(
                bins=_validate.integer(header["bins"], "bins", 1),
                max_cells=_validate.integer(header["max_cells"], "max_cells", 16, 2**20),
            )
            for entry in _validate.list_of(header["columns"], "columns"):
                name, col, pos = prof._read_column(entry, payload, pos)
                if name in prof.columns:
                    raise ValueError(f"column {name!r:.60} appears twice")
                prof.columns[name] = col
            if pos != len(payload):
                raise ValueError(f"{len(payload) - pos} unexpected trailing bytes")
        return prof

    def _read_column(self, entry: Any, payload: bytes, pos: int) -> tuple[str, Column, int]:
        """(name, column, offset after its parts) of one header entry, checked."""
        kind = entry.get("kind") if type(entry) is dict else None
        if kind not in ("numeric", "categorical"):
            raise ValueError(f"unknown column kind {kind!r:.40}")
        numeric = kind == "numeric"
        required = ("name", "kind", "parts", *(("moments", "nulls", "sums") if numeric else ()))
        entry = _validate.fields(entry, "a column", required)
        name = entry["name"]
        if type(name) is not str:
            raise ValueError(f"column name {name!r:.40} is not a string")
        try:
            sizes = _validate.list_of(entry["parts"], "parts", 1)
            _validate.integer(sizes[0], "a part's size", 0, len(payload) - pos)
            part = payload[pos : pos + sizes[0]]
            pos += sizes[0]
            if not numeric:
                return name, CategoricalColumn(CategoryCounts.from_bytes(part)), pos
            col = NumericColumn(
                _profile_checks.moments(entry["moments"]),
                ValueGrid.from_bytes(part),
                _validate.integer(entry["nulls"], "nulls"),
                _profile_checks.sums(entry["sums"]),
            )
            _profile_checks.numeric(col, self.max_cells)
            m = col.moments
            stored = (m.mean, m.m2, repr(m.min), repr(m.max))
            _exact_mean_m2(col)
            if stored != (m.mean, m.m2, repr(m.min), repr(m.max)):
                raise ValueError(
                    f"moments mean, m2, min, max = {stored} are not those of the "
                    f"exact sums and extremes ({m.mean}, {m.m2}, {m.min}, {m.max})"
                )
        except ValueError as exc:
            raise ValueError(f"column {name!r:.60}: {exc}") from None
        return name, col, pos

    def fingerprint(self) -> str:
        """A content hash (SHA-256, hex) of the profile's bytes: equal for profiles of
        the same rows and settings, however they were built.

        Examples
        --------
        >>> import numpy as np, driftcore
        >>> x = np.arange(1000.0)
        >>> a = driftcore.Profile.build({"x": x})
        >>> b = driftcore.Profile.build(iter([{"x": x[500:]}, {"x": x[:500]}]))
        >>> a.fingerprint() == b.fingerprint()
        True
        """
        import hashlib

        return hashlib.sha256(self.to_bytes()).hexdigest()

    def __reduce__(self) -> tuple:
        # pickle (Dask, multiprocessing) through the checked wire format; the reference
        # travels too, so a restored profile counts the same columns as categories
        ref = None if self._reference is None else self._reference.to_bytes()
        return (_restore, (self.to_bytes(), ref))

    def __getitem__(self, name: str) -> Column:
        try:
            return self.columns[name]
        except KeyError:
            raise KeyError(
                f"no column {name!r} in this profile (has {sorted(self.columns)})"
            ) from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Profile) and self.to_bytes() == other.to_bytes()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Profile({len(self.columns)} columns: {list(self.columns)})"


#: Rows of a chunk below which its columns are updated side by side, one thread each,
#: rather than one after the other on all threads (a kernel starts one thread per
#: 2^20 values).
_COLUMN_SPLIT = 1 << 20
_POOL: Any = None


def _pool() -> Any:
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(int(_core.hardware_threads()), "driftcore-profile")
    return _POOL


def _restore(data: bytes, reference: bytes | None) -> Profile:
    prof = Profile.from_bytes(data)
    if reference is not None:
        prof._reference = Profile.from_bytes(reference)
    return prof


def _check_kind(name: str, was: str, now: str) -> None:
    if was != now:
        raise TypeError(f"column {name!r} was {was} and is now {now}")


def _update_numeric(col: NumericColumn, c: Any, threads: int, device: str) -> None:
    values = c.values
    if _dispatch.resolve_device(device, values) == "cpu":
        values = _dispatch.host_1d(values)  # refuses a device array under device="cpu"
    elif not _dispatch.is_device_array(values):
        import cupy as cp

        values = cp.asarray(values)
    # One pass over the values (on the device for a cupy array): grid cells, counts,
    # extremes and exact sums.
    m, s1, s2 = col.grid._update_summarized(values, threads)
    col.moments.merge(m)
    col.nulls += c.nulls
    col.sums = (col.sums[0] + _digits_int(s1), col.sums[1] + _digits_int(s2))
    _exact_mean_m2(col)


def _digits_int(d: np.ndarray) -> int:
    """The integer of base-2**32 digits, least significant first, the last signed."""
    low = int.from_bytes(d[:-1].astype("<u4").tobytes(), "little")
    return low + (int(d[-1]) << (32 * (d.size - 1)))


def _exact_mean_m2(col: NumericColumn) -> None:
    """Set the moments' mean and M2 to the exact ones, correctly rounded (Python's
    integer division is), from the exact sums: mean = S1 / n, M2 = S2 - S1^2 / n;
    and a zero min or max to +0.0."""
    m = col.moments
    n = int(m.count)
    if n == 0:
        m.mean = m.m2 = 0.0
        return
    # Which of equal zeros a kernel keeps as the extreme depends on their order:
    # +0.0 for both, as in the grid.
    m.min, m.max = m.min + 0.0, m.max + 0.0
    s1, s2 = col.sums
    m.mean = s1 / (n << 1074)
    try:
        m.m2 = (n * s2 - s1 * s1) / (n << 2148)
    except OverflowError:  # M2 beyond the largest double (values near 1e308)
        m.m2 = float("inf")


def as_categorical(name: str, chunk: Any) -> Any:
    """A numeric column chunk counted as categories (integer codes; floats must hold
    whole numbers). NaN and nulls are missing values."""
    import pyarrow as pa

    values = chunk.values
    if _dispatch.is_device_array(values):
        import cupy as cp

        values = cp.asnumpy(values)
    missing = np.isnan(values) if values.dtype.kind == "f" else None
    if missing is not None:
        kept = values[~missing]
        if not np.all(np.isfinite(kept)) or np.any(kept != np.round(kept)):
            raise TypeError(
                f"column {name!r} has non-integer values and cannot be counted as categories"
            )
    codes = pa.array(values.astype(np.int64), mask=missing)
    if chunk.nulls:
        codes = pa.concat_arrays([codes, pa.nulls(chunk.nulls, pa.int64())])
    return _tables.ColumnChunk("categorical", codes, 0)
