"""Streaming, mergeable histograms with exact integer counts."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from . import _core, _dispatch, _wire
from ._locking import Guarded, locked_pair

_KIND = b"HIST"
# Most bins a histogram may have (kMaxBins in the C++ core): counts and weight sums of
# 2^26 bins take 1 GiB. Checked before the edges are built.
MAX_BINS = 1 << 26


class Histogram(Guarded):
    """A 1-D histogram fed chunk by chunk, on CPU (numpy) or GPU (cupy).

    Bins are ``[e_i, e_{i+1})`` except the last, which is closed, as in
    ``numpy.histogram``. Values below the first edge (and -inf) are counted in
    :attr:`underflow`, above the last (and +inf) in :attr:`overflow`, NaN in
    :attr:`nan`: nothing is dropped. Counts are integers, identical however the data
    is chunked, threaded, merged or placed (CPU or GPU). One histogram may be updated
    from several threads: updates are serialized, and none is lost.

    Parameters
    ----------
    edges : array_like, optional
        Strictly increasing finite bin edges (at least two).
    bins, range : int and (float, float), optional
        ``bins`` equal bins over ``range`` (edges from ``numpy.linspace``), used when
        ``edges`` is not given. At most ``MAX_BINS`` (2**26) bins either way; more
        raise ValueError before anything is allocated.
    weighted : bool
        Also accumulate float64 weight sums per bin.

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> h = driftcore.Histogram(bins=4, range=(0.0, 4.0))
    >>> h.update(np.array([0.5, 1.5, 1.5, 9.0, np.nan]))
    >>> h.counts.tolist(), h.overflow, h.nan
    ([1, 2, 0, 0], 1, 1)
    """

    __slots__ = ("_h",)

    def __init__(
        self,
        edges: Any = None,
        *,
        bins: int | None = None,
        range: tuple[float, float] | None = None,
        weighted: bool = False,
    ) -> None:
        if edges is None:
            if bins is None or range is None:
                raise ValueError("give either edges, or bins and range")
            if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
                raise ValueError(f"bins must be a positive integer, got {bins!r}")
            if bins > MAX_BINS:
                raise ValueError(f"bins = {bins} is above the maximum of 2**26 = {MAX_BINS}")
            lo, hi = (float(v) for v in range)
            if not (np.isfinite(lo) and np.isfinite(hi)) or not hi > lo:
                raise ValueError(f"range must be finite with hi > lo, got {range!r}")
            edges = np.linspace(lo, hi, int(bins) + 1)
        elif bins is not None or range is not None:
            raise ValueError("give either edges, or bins and range, not both")
        e = np.asarray(edges, dtype=np.float64)
        if e.ndim != 1:
            raise ValueError(f"edges must be 1-D, got shape {e.shape}")
        if e.size - 1 > MAX_BINS:
            raise ValueError(f"{e.size - 1} bins is above the maximum of 2**26 = {MAX_BINS}")
        self._h = _core.Histogram(np.ascontiguousarray(e), bool(weighted))

    @classmethod
    def _wrap(cls, core: Any) -> Histogram:
        obj = cls.__new__(cls)
        obj._h = core
        return obj

    def update(
        self,
        values: Any,
        weights: Any = None,
        *,
        threads: int | None = None,
        device: str = "auto",
    ) -> None:
        """Count ``values`` (1-D numpy or cupy array), optionally with ``weights``.

        The state is unchanged when this raises.

        Examples
        --------
        >>> import numpy as np, driftcore
        >>> h = driftcore.Histogram([0.0, 1.0, 10.0], weighted=True)
        >>> h.update(np.array([0.5, 5.0]), np.array([2.0, 3.0]))
        >>> h.weights.tolist()
        [2.0, 3.0]
        """
        if weights is not None and not self._h.weighted:
            raise ValueError("weights given to an unweighted histogram (use weighted=True)")
        where = _dispatch.resolve_device(device, values, weights)
        nthreads = _dispatch.resolve_threads(threads)
        if where == "gpu":
            ptr, n, typestr, keep = _dispatch.device_1d(values)
            wptr, wtype, wkeep = 0, "f8", None
            if weights is not None:
                wptr, wn, wtype, wkeep = _dispatch.device_1d(weights, "weights")
                if wn != n:
                    raise ValueError(f"weights have {wn} entries but values have {n}")
                if wkeep.dtype.kind == "f":  # as on the CPU: a NaN sum would not load
                    import cupy as cp

                    if not bool(cp.isfinite(wkeep).all()):
                        raise ValueError("weights must be finite")
            with self._lock:
                self._h.update_device(ptr, n, typestr, wptr, wtype, _dispatch.current_stream())
            del keep, wkeep
            return
        v = _dispatch.host_1d(values)
        w = None
        if weights is not None:
            w = _dispatch.host_1d(weights, "weights")
            if w.shape != v.shape:
                raise ValueError(f"weights have {w.size} entries but values have {v.size}")
            if not np.isfinite(w).all():
                raise ValueError("weights must be finite")
        with self._lock:  # the kernel releases the GIL: another thread may call in
            self._h.update(v, w, nthreads)

    def merge(self, other: Histogram) -> Histogram:
        """Add ``other``'s counts (same edges and weighting) into this one; returns self.

        Examples
        --------
        >>> import numpy as np, driftcore
        >>> a = driftcore.Histogram(bins=2, range=(0, 2)); a.update(np.array([0.5]))
        >>> b = driftcore.Histogram(bins=2, range=(0, 2)); b.update(np.array([1.5]))
        >>> a.merge(b).counts.tolist()
        [1, 1]
        """
        if not isinstance(other, Histogram):
            raise TypeError(f"can only merge a Histogram, got {type(other).__name__}")
        with locked_pair(self, other):
            self._h.merge(other._h)
        return self

    @property
    def edges(self) -> np.ndarray:
        """Bin edges (float64)."""
        return self._h.edges

    @property
    def slots(self) -> np.ndarray:
        """All counts: underflow, bins..., overflow, nan (uint64)."""
        with self._lock:
            return self._h.slots()

    @property
    def counts(self) -> np.ndarray:
        """Counts of the bins (uint64)."""
        return self.slots[1:-2]

    @property
    def weights(self) -> np.ndarray:
        """Weight sums of the bins (weighted histograms only)."""
        if not self._h.weighted:
            raise ValueError("this histogram is unweighted")
        with self._lock:
            return self._h.weight_slots()[1:-2]

    @property
    def underflow(self) -> int:
        return int(self.slots[0])

    @property
    def overflow(self) -> int:
        return int(self.slots[-2])

    @property
    def nan(self) -> int:
        return int(self.slots[-1])

    @property
    def total(self) -> int:
        """Every value seen, NaN included."""
        return int(self.slots.sum())

    @property
    def weighted(self) -> bool:
        return bool(self._h.weighted)

    def to_bytes(self) -> bytes:
        """Serialize (versioned, checksummed).

        Examples
        --------
        >>> import numpy as np, driftcore
        >>> h = driftcore.Histogram(bins=3, range=(0, 1)); h.update(np.array([0.2]))
        >>> driftcore.Histogram.from_bytes(h.to_bytes()) == h
        True
        """
        with self._lock:
            return _wire.frame(_KIND, self._h.serialize())

    @classmethod
    def from_bytes(cls, data: bytes) -> Histogram:
        """Inverse of :meth:`to_bytes`; raises ValueError on corrupted data."""
        return cls._wrap(_core.Histogram.deserialize(_wire.unframe(data, _KIND)))

    def __reduce__(self) -> tuple:
        # pickle (Dask, multiprocessing) through the checked wire format
        return (_wire.restore, (type(self), self.to_bytes()))

    def copy(self) -> Histogram:
        with self._lock:
            return self._wrap(copy.copy(self._h))

    def empty_copy(self) -> Histogram:
        """A histogram with the same edges and weighting and no counts; it skips the
        lookup-table build that constructing from the edges does (~2 ms at 1,000
        uneven bins).

        Examples
        --------
        >>> import numpy as np, driftcore
        >>> h = driftcore.Histogram([0.0, 1.0, 10.0]); h.update(np.array([0.5]))
        >>> e = h.empty_copy(); (e.total, e.edges.tolist())
        (0, [0.0, 1.0, 10.0])
        """
        with self._lock:
            return self._wrap(self._h.empty_copy())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Histogram):
            return False
        with locked_pair(self, other):
            return bool(self._h == other._h)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Histogram(nbins={self._h.nbins}, total={self.total}, uniform={self._h.uniform})"
