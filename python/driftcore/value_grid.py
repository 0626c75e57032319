"""Exact counts on a canonical grid of the float64 line: an order-independent,
mergeable quantile summary with error bounds read off its counts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _core, _dispatch, _slots, _wire
from ._locking import Guarded, locked_pair

_KIND = b"VGRD"


class ValueGrid(Guarded):
    """Counts of a column's finite values in the cells of a data-independent grid.

    A value's cell is given by its IEEE-754 bits: the sign, the exponent and the top
    ``52 - shift`` mantissa bits, so a cell's width is a fixed fraction of its
    magnitude (about 2^-7 of it once a normal column has filled 4096 cells), and a
    column of Unix timestamps is resolved as finely as one near 1. The grid keeps at
    most ``max_cells`` occupied cells: it starts with one cell per distinct value and
    halves its resolution only when the cells seen so far do not fit. Counts are
    exact, and the grid (its resolution, cells and counts) is a function of the
    multiset of values alone: any order, chunking, thread count or merge tree gives
    the same bytes. NaN and infinities are not counted (count them apart).

    Two grids compare exactly at the coarser one's resolution (:meth:`aligned`): KS
    is bounded by the gap of the CDFs at cell boundaries and that gap plus the largest
    cell mass, Wasserstein by an estimate with a bound of half the cells' widths times
    their masses (:func:`ks_bounds`, :func:`wasserstein`).

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> g = driftcore.ValueGrid(max_cells=64)
    >>> g.update(np.array([3.0, 1.0, 2.0, 2.0]))
    >>> g.total, g.shift, g.counts.tolist()
    (4, 0, [1, 2, 1])
    >>> h = driftcore.ValueGrid(max_cells=64)
    >>> for chunk in (np.array([2.0]), np.array([1.0, 3.0]), np.array([2.0])):
    ...     h.update(chunk)
    >>> h == g
    True
    """

    __slots__ = ("_g",)

    def __init__(self, max_cells: int = 4096) -> None:
        if isinstance(max_cells, bool) or not isinstance(max_cells, (int, np.integer)):
            raise TypeError(f"max_cells must be an int, got {type(max_cells).__name__}")
        self._g = _core.ValueGrid(int(max_cells))

    @classmethod
    def _wrap(cls, core: Any) -> ValueGrid:
        obj = cls.__new__(cls)
        obj._g = core
        return obj

    def update(self, values: Any, *, threads: int | None = None) -> None:
        """Count the finite values of a 1-D numpy or cupy array. A failed or
        interrupted update leaves the grid unchanged.

        On the GPU the cells are counted on the device (one scan, then counting
        passes only while the grid is finer than a binade); at most
        ``max_cells`` cells and the binades' sums come back to the host. The result
        is the same grid."""
        if _dispatch.is_device_array(values):
            self._update_summarized(values, 0)
            return
        v = _dispatch.host_1d(values)
        nthreads = _dispatch.resolve_threads(threads)
        with self._lock:  # the kernel releases the GIL: another thread may call in
            self._g.update(v, nthreads)

    def _update_summarized(
        self, values: np.ndarray, threads: int
    ) -> tuple[Any, np.ndarray, np.ndarray]:
        """update() of a host array that also returns, from the same pass, the
        values' ``_core.Moments`` (counts and extremes; mean and m2 left 0) and their
        exact sums as ``_core.power_sums`` digits. A cupy array is read on the
        device, in work ordered on cupy's current stream."""
        if _dispatch.is_device_array(values):
            ptr, n, typestr, keep = _dispatch.device_1d(values)
            with self._lock:
                out = self._g.update_summarized_device(ptr, n, typestr, _dispatch.current_stream())
            del keep  # the device array lives until the kernels are done
            return out
        with self._lock:
            return self._g.update_summarized(values, threads)

    def merge(self, other: ValueGrid) -> ValueGrid:
        """Fold ``other`` (same ``max_cells``) into this grid."""
        if not isinstance(other, ValueGrid):
            raise TypeError(f"can only merge a ValueGrid, got {type(other).__name__}")
        with locked_pair(self, other):
            self._g.merge(other._g)
        return self

    @property
    def max_cells(self) -> int:
        return int(self._g.max_cells)

    @property
    def shift(self) -> int:
        """Mantissa bits dropped from each value's key (0: one cell per value)."""
        with self._lock:
            return int(self._g.shift)

    @property
    def total(self) -> int:
        """Finite values counted."""
        with self._lock:
            return int(self._g.total)

    @property
    def counts(self) -> np.ndarray:
        """Count of each occupied cell, in increasing order of value."""
        with self._lock:
            return self._g.counts

    def cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(low, high, count) of each occupied cell: its smallest and largest double
        and how many values fell in it."""
        with self._lock:
            lo, hi = _core.grid_cell_bounds(self._g.keys, self._g.shift)
            return lo, hi, self._g.counts

    def quantiles(self, q: Any) -> np.ndarray:
        """Quantiles at probabilities ``q``, the CDF taken linear inside each cell (so
        within one cell of the exact value); NaN when the grid is empty."""
        q = np.asarray(q, dtype=np.float64)
        if np.any(~(q >= 0) | ~(q <= 1)):
            raise ValueError("quantile probabilities must be in [0, 1]")
        lo, hi, c = self.cells()
        if c.size == 0:
            return np.full(q.shape, math.nan)
        cum = np.concatenate([[0.0], np.cumsum(c, dtype=np.float64)])
        t = q * cum[-1]
        i = np.clip(np.searchsorted(cum, t, side="right") - 1, 0, c.size - 1)
        frac = np.clip((t - cum[i]) / c[i], 0.0, 1.0)
        return lo[i] + frac * (hi[i] - lo[i])

    def histogram(self, edges: Any) -> np.ndarray:
        """Counts of the values below ``edges[0]``, in each bin ``[e_i, e_i+1)`` (the
        last one closed) and above ``edges[-1]``, as integers adding up to
        :attr:`total`. A cell that straddles an edge is shared in proportion to its
        width on either side (so the counts are exact when no cell does, as when
        the grid holds one cell a value).

        Examples
        --------
        >>> import numpy as np, driftcore
        >>> g = driftcore.ValueGrid()
        >>> g.update(np.array([0.0, 1.0, 1.0, 2.0, 5.0]))
        >>> g.histogram([0.0, 1.0, 2.0]).tolist()
        [0, 1, 3, 1]
        """
        e = np.asarray(edges, dtype=np.float64)
        if e.ndim != 1 or e.size < 2 or not np.all(np.diff(e) > 0) or not np.all(np.isfinite(e)):
            raise ValueError("edges must be at least 2 finite, strictly increasing numbers")
        lo, hi, c = self.cells()
        if c.size == 0:
            return np.zeros(e.size + 1, dtype=np.int64)
        cum = np.concatenate([[0.0], np.cumsum(c, dtype=np.float64)])

        def below(x: np.ndarray, closed: bool) -> np.ndarray:
            """Values < x (<= x when closed), cells shared linearly."""
            k = np.searchsorted(hi, x, side="right" if closed else "left")  # cells before: all in
            kk = np.minimum(k, c.size - 1)
            width = hi[kk] - lo[kk]
            point = (x > lo[kk]) | (closed & (x >= lo[kk]))  # a one-value cell
            frac = np.where(width > 0, (x - lo[kk]) / np.where(width > 0, width, 1.0), point)
            return cum[k] + np.where(k < c.size, np.clip(frac, 0.0, 1.0) * c[kk], 0.0)

        at = np.concatenate([below(e, False)[:-1], below(e[-1:], True)])
        at = np.rint(np.concatenate([[0.0], at, [cum[-1]]])).astype(np.int64)
        return np.diff(at)

    def aligned(self, other: ValueGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Both grids on the coarser resolution of the two: (edges, a, b), the cells
        occupied on either side and the empty gaps between them as a partition of
        the line (``len(edges) == len(a) + 1``), with each side's counts in them."""
        with locked_pair(self, other):
            a, b = self._g.copy(), other._g.copy()
        if a.max_cells != b.max_cells:
            raise ValueError(f"grids with different max_cells: {a.max_cells} != {b.max_cells}")
        s = max(a.shift, b.shift)
        a.coarsen_to(s)
        b.coarsen_to(s)
        keys = np.union1d(a.keys, b.keys)
        if keys.size == 0:
            return np.zeros(1), np.zeros(0), np.zeros(0)
        ca = np.zeros(keys.size)
        cb = np.zeros(keys.size)
        ca[np.searchsorted(keys, a.keys)] = a.counts
        cb[np.searchsorted(keys, b.keys)] = b.counts
        lo, hi = _core.grid_cell_bounds(keys, s)
        # Edges: each cell's start and end (the next double); a gap between cells
        # that do not touch becomes an empty bin.
        # the cell ending at -0.0 is followed by +0.0; the last one ends at DBL_MAX
        top = np.finfo(np.float64).max
        with np.errstate(over="ignore"):
            ends = np.where(
                np.signbit(hi) & (hi == 0), 0.0, np.where(hi == top, top, np.nextafter(hi, np.inf))
            )
        gap = lo[1:] > ends[:-1]
        seq = np.empty(2 * keys.size)
        seq[0::2], seq[1::2] = lo, ends
        keep = np.ones(2 * keys.size, dtype=bool)
        keep[2::2] = gap  # a cell's start is an edge only after a gap
        # the bin starting at seq[j]: cell i at 2i; after cell i, a gap or cell i + 1
        starts_a = np.empty(2 * keys.size)
        starts_b = np.empty(2 * keys.size)
        starts_a[0::2], starts_b[0::2] = ca, cb
        starts_a[1:-1:2] = np.where(gap, 0.0, ca[1:])
        starts_b[1:-1:2] = np.where(gap, 0.0, cb[1:])
        idx = np.flatnonzero(keep)
        return seq[idx], starts_a[idx[:-1]], starts_b[idx[:-1]]

    def to_bytes(self) -> bytes:
        """Serialize (versioned, checksummed)."""
        with self._lock:
            return _wire.frame(_KIND, self._g.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> ValueGrid:
        """Inverse of :meth:`to_bytes`; ValueError naming the problem on anything
        corrupted or impossible."""
        return cls._wrap(_core.ValueGrid.from_bytes(_wire.unframe(data, _KIND)))

    def __reduce__(self) -> tuple:
        return (ValueGrid.from_bytes, (self.to_bytes(),))

    def copy(self) -> ValueGrid:
        with self._lock:
            return ValueGrid._wrap(self._g.copy())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValueGrid) and self.to_bytes() == other.to_bytes()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ValueGrid({self.total} values in {self.counts.size} of at most "
            f"{self.max_cells} cells, shift {self.shift})"
        )


def ks_bounds(a: ValueGrid, b: ValueGrid) -> tuple[float, float]:
    """(lower, upper) bounds of the two-sample KS statistic of the values counted in
    two grids (exact when both grids are at shift 0).

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> from driftcore.value_grid import ks_bounds
    >>> a, b = driftcore.ValueGrid(), driftcore.ValueGrid()
    >>> a.update(np.array([1.0, 2.0, 3.0])); b.update(np.array([2.0, 3.0, 4.0]))
    >>> [round(x, 6) for x in ks_bounds(a, b)]
    [0.333333, 0.333333]
    """
    _edges, ca, cb = a.aligned(b)
    if ca.sum() == 0 or cb.sum() == 0:
        return math.nan, math.nan
    slots_a = np.concatenate([[0.0], ca, [0.0]])
    slots_b = np.concatenate([[0.0], cb, [0.0]])
    lower, upper = _slots.ks_bounds(slots_a, slots_b)
    if a.shift == 0 and b.shift == 0:  # one cell a value: the CDFs are known exactly
        upper = lower
    return lower, upper


def wasserstein(a: ValueGrid, b: ValueGrid, lo: float, hi: float) -> tuple[float, float]:
    """(estimate, bound) of Wasserstein-1 between the values counted in two grids;
    ``lo``/``hi``: the smallest and largest value of both (cells are clipped to them).

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> from driftcore.value_grid import wasserstein
    >>> a, b = driftcore.ValueGrid(), driftcore.ValueGrid()
    >>> a.update(np.array([0.0, 1.0])); b.update(np.array([1.0, 2.0]))
    >>> wasserstein(a, b, 0.0, 2.0)[0]
    1.0
    """
    if a.shift == 0 and b.shift == 0:  # exact: each cell is one value
        return exact_wasserstein(a, b), 0.0
    edges, ca, cb = a.aligned(b)
    if ca.sum() == 0 or cb.sum() == 0:
        return math.nan, 0.0
    edges = np.clip(edges, lo, hi)
    slots_a = np.concatenate([[0.0], ca, [0.0]])
    slots_b = np.concatenate([[0.0], cb, [0.0]])
    return _slots.wasserstein(edges, slots_a, slots_b, lo, hi)


def exact_wasserstein(a: ValueGrid, b: ValueGrid) -> float:
    """Wasserstein-1 of two grids that hold one cell a value (shift 0): exact; NaN
    when either is empty.

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> from driftcore.value_grid import exact_wasserstein
    >>> a, b = driftcore.ValueGrid(), driftcore.ValueGrid()
    >>> a.update(np.array([0.0, 1.0])); b.update(np.array([1.0, 2.0]))
    >>> exact_wasserstein(a, b)
    1.0
    """
    va, _, ca = a.cells()
    vb, _, cb = b.cells()
    if ca.size == 0 or cb.size == 0:
        return math.nan
    cum_a, cum_b = np.cumsum(ca, dtype=np.float64), np.cumsum(cb, dtype=np.float64)
    return float(_core.two_sample_weighted(va, cum_a, vb, cum_b)[1])
