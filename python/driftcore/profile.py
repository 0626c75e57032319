"""Profiles: the mergeable, serializable summary of a whole dataset."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _core, _dispatch, _fine_bins, _profile_checks, _tables, _validate, _wire
from ._locking import Guarded, locked_pair
from .categories import CategoryCounts
from .histogram import Histogram
from .quantile_sketch import QuantileSketch

_KIND = b"PROF"

#: Distinct finite values counted exactly per numeric column; past this many the
#: column is continuous (``NumericColumn.values`` is None).
VALUE_CAP = 64


@dataclass
class NumericColumn:
    """Summary of a numeric column: moments of the finite values, counts of
    null/NaN/inf, a quantile sketch, (when edges are known) a histogram on fine
    quantile bins, and the exact count of each distinct finite value while there are
    at most ``VALUE_CAP`` of them (``values``; None past that)."""

    moments: Any = field(default_factory=_core.Moments)
    sketch: QuantileSketch = field(default_factory=QuantileSketch)
    histogram: Histogram | None = None
    nulls: int = 0  # Arrow/pandas nulls (NaN is counted in moments.nan)
    values: dict[float, int] | None = field(default_factory=dict)
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

    def edges(self, bins: int) -> np.ndarray:
        """The bin edges current data is compared on: this column's histogram edges,
        else fine quantile edges from the sketch (see
        :mod:`driftcore._fine_bins`)."""
        if self.histogram is not None:
            return self.histogram.edges
        s = self.sketch
        with s._lock:  # one state of the sketch, even if someone updates it
            view, lo, hi = s.sorted_view(), s.min, s.max
        return _fine_bins.edges(*view, lo, hi, bins)


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
        Quantile bins per numeric column for the binned metrics.
    k : int
        Quantile sketch accuracy (see :class:`QuantileSketch`).
    seed : int
        Seed of the sketches' compaction coins.
    reference : Profile, optional
        Bin numeric columns on the reference's edges, so that binned metrics between
        the two are exact (``bins`` must then be the reference's). A column that is
        categorical in the reference is counted as categories here too.
    categorical : list of str, optional
        Numeric columns (integer codes) to count as categories.

    Notes
    -----
    One profile may be updated, merged and read from several threads: each chunk's
    update, each merge and each serialization runs alone. Updating never changes a
    column object already in :attr:`columns`: a chunk's new summaries replace them
    (copy on write), so a column read from ``profile[name]`` stays as it was.

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
        k: int = 400,
        seed: int = 0,
        reference: Profile | None = None,
        categorical: list[str] | None = None,
    ) -> None:
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
            raise ValueError(f"bins must be a positive integer, got {bins!r}")
        if reference is not None and not isinstance(reference, Profile):
            raise TypeError(f"reference must be a Profile, got {type(reference).__name__}")
        if reference is not None and reference.bins != bins:
            # its histograms are on the reference's fine bins, which bins must describe
            raise ValueError(f"bins={bins} differs from the reference's bins={reference.bins}")
        QuantileSketch(k, seed=seed)  # validates k and seed
        self.bins, self.k, self.seed = bins, k, seed
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
        k: int = 400,
        seed: int = 0,
        reference: Profile | None = None,
        categorical: list[str] | None = None,
        threads: int | None = None,
        device: str = "auto",
    ) -> Profile:
        """Profile ``data``: a table (dict of arrays or pandas / polars Series, pandas
        or polars DataFrame, pyarrow Table or RecordBatch) or an iterable of such
        chunks.

        A single in-memory table without ``reference`` is read twice: once for the
        sketches, once for histograms on its own quantile edges, so that later
        comparisons on those edges are exact. An iterable is read once.
        """
        prof = cls(bins=bins, k=k, seed=seed, reference=reference, categorical=categorical)
        prof.update(data, threads=threads, device=device)
        if reference is None and _tables.is_chunk(data):
            prof._fill_own_histograms(data, threads, device)
        return prof

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

    def _update_chunk(self, chunk: dict, staged: dict[str, Column], nthreads: int,
                      device: str) -> None:
        """Add a chunk to ``staged``: private copies of the columns it touches."""
        for name in self._categorical & chunk.keys():
            if chunk[name].kind == "numeric":
                chunk[name] = as_categorical(name, chunk[name])
        for name, c in chunk.items():  # every kind checked before any column changes
            if name in staged:
                _check_kind(name, staged[name].kind, c.kind)
            else:
                staged[name] = self._copy_column(name, c.kind)
        for name, c in chunk.items():
            col = staged[name]
            if isinstance(col, NumericColumn):
                _update_numeric(col, c, nthreads, device)
            else:
                col.counts.update(c.values)

    def _copy_column(self, name: str, kind: str) -> Column:
        old = self.columns.get(name)
        if old is not None:
            _check_kind(name, old.kind, kind)
        if old is None:
            return self._new_column(name, kind)
        if isinstance(old, NumericColumn):
            m = _core.Moments()
            m.merge(old.moments)
            return NumericColumn(
                m, old.sketch.copy(), old.histogram.copy() if old.histogram else None, old.nulls,
                None if old.values is None else dict(old.values),
            )
        return CategoricalColumn(old.counts.copy())

    def _new_column(self, name: str, kind: str) -> Column:
        if kind == "categorical":
            return CategoricalColumn()
        hist = None
        ref = self._reference.columns.get(name) if self._reference else None
        if isinstance(ref, NumericColumn) and ref.count:
            edges = ref.edges(self.bins)
            own = ref.histogram
            # The reference's own histogram usually has these edges: copying it empty
            # skips rebuilding the lookup table.
            if own is not None and not own.weighted and np.array_equal(own.edges, edges):
                hist = own.empty_copy()
            else:
                hist = Histogram(edges)
        return NumericColumn(sketch=QuantileSketch(self.k, seed=self.seed), histogram=hist)

    def _fill_own_histograms(self, data: Any, threads: int | None, device: str) -> None:
        chunk = _tables.read_chunk(data)
        with self._lock:
            for name, c in chunk.items():
                col = self.columns[name]
                if isinstance(col, NumericColumn) and col.count and col.histogram is None:
                    col.histogram = Histogram(col.edges(self.bins))
                    col.histogram.update(c.values, threads=threads, device=device)

    # --- combining and storing -------------------------------------------------------

    def merge(self, other: Profile) -> Profile:
        """Fold ``other`` (same columns, kinds and settings) into this profile."""
        if not isinstance(other, Profile):
            raise TypeError(f"can only merge a Profile, got {type(other).__name__}")
        for name in ("bins", "k", "seed"):
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
                    raise TypeError(
                        f"column {name!r} is {mine.kind} here, {theirs.kind} there"
                    )
                if isinstance(mine, NumericColumn):
                    _validate.total((mine.count, mine.missing, theirs.count, theirs.missing),
                                    f"cannot merge: column {name!r}'s count of values")
                col = self._copy_column(name, mine.kind)
                if isinstance(col, NumericColumn):
                    col.moments.merge(theirs.moments)
                    col.sketch.merge(theirs.sketch)
                    col.nulls += theirs.nulls
                    col.values = _merge_values(col.values, theirs.values)
                    if (col.histogram is None) != (theirs.histogram is None):
                        raise ValueError(
                            f"column {name!r}: only one profile has a histogram"
                        )
                    if col.histogram is not None:
                        col.histogram.merge(theirs.histogram)
                else:
                    col.counts.merge(theirs.counts)
                merged[name] = col
            self.columns = merged
        return self

    def to_bytes(self) -> bytes:
        """Serialize the whole profile (versioned, checksummed)."""
        with self._lock:
            header: dict[str, Any] = {
                "bins": self.bins, "k": self.k, "seed": self.seed, "columns": []
            }
            blobs: list[bytes] = []
            for name, col in self.columns.items():
                entry: dict[str, Any] = {"name": name, "kind": col.kind}
                if isinstance(col, NumericColumn):
                    m = col.moments
                    entry["moments"] = [
                        m.count, m.nan, m.pos_inf, m.neg_inf, m.min, m.max, m.mean, m.m2
                    ]
                    entry["nulls"] = col.nulls
                    if col.values is not None:  # absent: more than VALUE_CAP values
                        entry["values"] = [list(col.values), list(col.values.values())]
                    parts = [col.sketch.to_bytes()]
                    if col.histogram is not None:
                        parts.append(col.histogram.to_bytes())
                else:
                    parts = [col.counts.to_bytes()]
                entry["parts"] = [len(p) for p in parts]
                blobs.extend(parts)
                header["columns"].append(entry)
            head = json.dumps(header).encode()
        return _wire.frame(_KIND, struct.pack("<Q", len(head)) + head + b"".join(blobs))

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        """Inverse of :meth:`to_bytes`; raises ValueError on corrupted data."""
        payload = _wire.unframe(data, _KIND)
        with _validate.corrupted("corrupted profile payload"):
            header, pos = _validate.header(payload)
            header = _validate.fields(header, "header", ("bins", "k", "seed", "columns"))
            prof = cls(bins=_validate.integer(header["bins"], "bins", 1),
                       k=_validate.integer(header["k"], "k", 8, 65535),
                       seed=_validate.integer(header["seed"], "seed", 0, 2**64 - 1))
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
        required = ("name", "kind", "parts", *(("moments", "nulls") if numeric else ()))
        entry = _validate.fields(entry, "a column", required, ("values",) if numeric else ())
        name = entry["name"]
        if type(name) is not str:
            raise ValueError(f"column name {name!r:.40} is not a string")
        try:
            sizes = _validate.list_of(entry["parts"], "parts")
            if not 1 <= len(sizes) <= (2 if numeric else 1):
                raise ValueError(f"{len(sizes)} parts")
            parts = []
            for size in sizes:
                _validate.integer(size, "a part's size", 0, len(payload) - pos)
                parts.append(payload[pos : pos + size])
                pos += size
            if not numeric:
                return name, CategoricalColumn(CategoryCounts.from_bytes(parts[0])), pos
            col = NumericColumn(
                _profile_checks.moments(entry["moments"]), QuantileSketch.from_bytes(parts[0]),
                Histogram.from_bytes(parts[1]) if len(parts) > 1 else None,
                _validate.integer(entry["nulls"], "nulls"),
                _profile_checks.values(entry.get("values"), VALUE_CAP),
            )
            _profile_checks.numeric(col, self.bins, self.k, self.seed)
        except ValueError as exc:
            raise ValueError(f"column {name!r:.60}: {exc}") from None
        return name, col, pos

    def __reduce__(self) -> tuple:
        # pickle (Dask, multiprocessing) through the checked wire format; the reference
        # travels too, so a restored profile bins new columns as the original would
        ref = None if self._reference is None else self._reference.to_bytes()
        return (_restore, (self.to_bytes(), ref))

    def __getitem__(self, name: str) -> Column:
        try:
            return self.columns[name]
        except KeyError:
            raise KeyError(f"no column {name!r} in this profile (has {sorted(self.columns)})") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Profile) and self.to_bytes() == other.to_bytes()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Profile({len(self.columns)} columns: {list(self.columns)})"


def _restore(data: bytes, reference: bytes | None) -> Profile:
    prof = Profile.from_bytes(data)
    if reference is not None:
        prof._reference = Profile.from_bytes(reference)
    return prof


def _check_kind(name: str, was: str, now: str) -> None:
    if was != now:
        raise TypeError(f"column {name!r} was {was} and is now {now}")


def _update_numeric(col: NumericColumn, c: Any, threads: int, device: str) -> None:
    where = _dispatch.resolve_device(device, c.values)
    if where == "gpu":
        m = _gpu_moments(c.values)
    else:
        m = _core.moments(c.values, threads)
    if col.values is not None:  # still few distinct values: keep counting them
        col.values = _merge_values(col.values, _chunk_values(c.values, where))
    col.sketch.update(c.values, device=where)
    if col.histogram is not None:
        col.histogram.update(c.values, threads=threads or None, device=where)
    col.moments.merge(m)
    col.nulls += c.nulls


def _gpu_moments(values: Any) -> Any:
    import cupy as cp

    x = cp.asarray(values, dtype=cp.float64)
    finite = cp.isfinite(x)
    m = _core.Moments()
    m.nan = int(cp.isnan(x).sum())
    m.pos_inf = int(cp.isposinf(x).sum())
    m.neg_inf = int(cp.isneginf(x).sum())
    v = x[finite]
    m.count = int(v.size)
    if v.size:
        m.min, m.max = float(v.min()), float(v.max())
        m.mean = float(v.mean())
        m.m2 = float(((v - m.mean) ** 2).sum())
    return m


def _chunk_values(values: Any, where: str) -> dict[float, int] | None:
    """Exact counts of a chunk's distinct finite values, or None past VALUE_CAP."""
    xp = np
    if where == "gpu":
        import cupy as xp  # type: ignore[no-redef]
    head = values[: 8 * VALUE_CAP]
    if values.dtype.kind not in "iu":
        head = head[xp.isfinite(head)]
    if xp.unique(head).size > VALUE_CAP:
        return None  # continuous data: decided on a small prefix
    v = values if values.dtype.kind in "iu" else values[xp.isfinite(values)]
    if v.dtype.kind in "iu" and v.size and int(v.max()) - int(v.min()) < 1 << 16:
        lo = int(v.min())
        counts = xp.bincount((v - lo).astype(xp.int64))
        keys = xp.flatnonzero(counts)
        if keys.size > VALUE_CAP:
            return None
        return dict(zip((keys + lo).astype(np.float64).tolist(), counts[keys].tolist()))
    keys, counts = xp.unique(v, return_counts=True)
    if keys.size > VALUE_CAP:
        return None
    return dict(zip(keys.astype(np.float64).tolist(), counts.tolist()))


def _merge_values(
    mine: dict[float, int] | None, theirs: dict[float, int] | None
) -> dict[float, int] | None:
    if mine is None or theirs is None:
        return None
    out = dict(mine)
    for v, n in theirs.items():
        out[v] = out.get(v, 0) + n
    if len(out) > VALUE_CAP:
        return None
    return dict(sorted(out.items()))


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
