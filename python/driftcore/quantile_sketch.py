"""A mergeable quantile sketch with a stated rank-error bound (KLL family)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from . import _core, _dispatch, _wire
from ._locking import Guarded, locked_pair

_KIND = b"QSKT"
_GPU_KEEP = 4096  # values kept per GPU chunk before they enter the sketch


class QuantileSketch(Guarded):
    """Streaming quantiles of a numeric column in bounded memory.

    A KLL sketch (Karnin, Lang and Liberty, 2016): for ``k`` and ``n`` values, any
    single rank query is off by at most ``rank_error * n`` with probability 0.99, where
    ``rank_error = 2.296 / k**0.9723`` (1.33% at k=200, 0.68% at k=400). Until the
    first 4096 values are exceeded the sketch is exact (``rank_error == 0``). Memory is
    about ``3k + 6144`` float64 values whatever ``n``. Sketches with the same ``k``
    merge with the same guarantee.

    Determinism: the same seed, data, chunking and merge order give the same sketch;
    threads play no part. A different chunking gives a different (equally accurate)
    sketch. One sketch may be updated from several threads: updates are serialized
    (in whatever order the threads arrive).

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> s = driftcore.QuantileSketch(k=400)
    >>> s.update(np.arange(1000.0))
    >>> float(s.quantiles([0.5])[0]), s.rank_error
    (499.0, 0.0)
    """

    __slots__ = ("_s",)

    def __init__(self, k: int = 400, *, seed: int = 0) -> None:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"k must be an int, got {type(k).__name__}")
        if not 8 <= k <= 65535:
            raise ValueError(f"k must be in [8, 65535], got {k}")
        if not 0 <= int(seed) < 2**64:
            raise ValueError("seed must be in [0, 2**64)")
        self._s = _core.QuantileSketch(int(k), int(seed))

    @classmethod
    def _wrap(cls, core: Any) -> QuantileSketch:
        obj = cls.__new__(cls)
        obj._s = core
        return obj

    def update(self, values: Any, *, device: str = "auto") -> None:
        """Add the values of a 1-D numpy or cupy array (NaN counted apart).

        On the GPU each chunk is sorted on the device and only a summary of at most
        4096 values (each standing for 2^j sorted neighbours, a rank error of at most
        ``2^j / n`` for the chunk, far below ``rank_error``) is copied to the host.
        """
        if _dispatch.resolve_device(device, values) == "gpu":
            with self._lock:
                self._update_gpu(values)
            return
        v = _dispatch.host_1d(values)
        with self._lock:  # the kernel releases the GIL: another thread may call in
            self._s.update(v)

    def _update_gpu(self, values: Any) -> None:
        import cupy as cp

        _, _, _, arr = _dispatch.device_1d(values)
        x = arr.astype(cp.float64, copy=False)
        valid = x[~cp.isnan(x)]
        nan_count = int(x.size - valid.size)
        n = int(valid.size)
        if n <= _GPU_KEEP:
            host = cp.asnumpy(valid)
            self._s.update(host)
            if nan_count:
                self._s.update(np.full(nan_count, np.nan))
            return
        s = cp.sort(valid)
        level = int(np.floor(np.log2(n / _GPU_KEEP)))
        groups = n >> level
        offset = self._s.compaction_offset(n, level)
        picks = cp.asnumpy(s[offset + (cp.arange(groups, dtype=cp.int64) << level)])
        tail = cp.asnumpy(s[groups << level :])
        lo, hi = float(s[0]), float(s[-1])
        self._s.update_compacted(picks, level, lo, hi, nan_count)
        if tail.size:
            self._s.update_compacted(tail, 0, float(tail[0]), hi, 0)

    def merge(self, other: QuantileSketch) -> QuantileSketch:
        """Fold ``other`` (same ``k``) into this sketch; returns self."""
        if not isinstance(other, QuantileSketch):
            raise TypeError(f"can only merge a QuantileSketch, got {type(other).__name__}")
        with locked_pair(self, other):
            self._s.merge(other._s)
        return self

    def quantiles(self, q: Any) -> np.ndarray:
        """Values at normalized ranks ``q`` (each in [0, 1]); NaN when empty.

        Examples
        --------
        >>> import numpy as np, driftcore
        >>> s = driftcore.QuantileSketch(); s.update(np.array([3.0, 1.0, 2.0]))
        >>> s.quantiles([0.0, 0.5, 1.0]).tolist()
        [1.0, 2.0, 3.0]
        """
        qa = np.atleast_1d(np.asarray(q, dtype=np.float64))
        if qa.ndim != 1 or not np.all((qa >= 0) & (qa <= 1)):
            raise ValueError("quantile ranks must be a 1-D array of values in [0, 1]")
        with self._lock:
            return self._s.quantiles(np.ascontiguousarray(qa))

    def cdf(self, x: Any) -> np.ndarray:
        """Estimated fraction of values <= each ``x`` (NaN when empty)."""
        xa = np.atleast_1d(np.asarray(x, dtype=np.float64))
        if xa.ndim != 1:
            raise ValueError("x must be 1-D")
        with self._lock:
            return self._s.cdf(np.ascontiguousarray(xa))

    def quantile_edges(self, bins: int) -> np.ndarray:
        """Strictly increasing bin edges at the ``bins``-quantiles (fewer when tied).

        A constant column gives one bin ``[v, nextafter(v)]``.

        Examples
        --------
        >>> import numpy as np, driftcore
        >>> s = driftcore.QuantileSketch(); s.update(np.arange(100.0))
        >>> s.quantile_edges(4).tolist()
        [0.0, 24.0, 49.0, 74.0, 99.0]
        """
        if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
            raise ValueError(f"bins must be a positive integer, got {bins!r}")
        with self._lock:
            if self.n == 0:
                raise ValueError("cannot derive edges from an empty sketch")
            e = np.unique(self.quantiles(np.linspace(0.0, 1.0, int(bins) + 1)))
        e = e[np.isfinite(e)]
        if e.size == 0:  # only infinite values were seen
            e = np.array([0.0])
        if e.size == 1:
            e = np.array([e[0], np.nextafter(e[0], np.inf)])
        return e

    def sorted_view(self) -> tuple[np.ndarray, np.ndarray]:
        """Retained values, sorted, and their cumulative weights."""
        with self._lock:
            return self._s.sorted_view()

    @property
    def k(self) -> int:
        return int(self._s.k)

    @property
    def seed(self) -> int:
        return int(self._s.seed)

    @property
    def n(self) -> int:
        """Values summarized (NaN excluded)."""
        with self._lock:
            return int(self._s.n)

    @property
    def nan(self) -> int:
        with self._lock:
            return int(self._s.nan_count)

    @property
    def min(self) -> float:
        with self._lock:
            return float(self._s.min)

    @property
    def max(self) -> float:
        with self._lock:
            return float(self._s.max)

    @property
    def exact(self) -> bool:
        """True until the first compaction: queries are then exact."""
        with self._lock:
            return bool(self._s.exact)

    @property
    def rank_error(self) -> float:
        """Normalized rank error bound (99% confidence); 0 while exact."""
        with self._lock:
            return float(self._s.rank_error)

    @staticmethod
    def rank_error_for(k: int) -> float:
        """The bound for parameter ``k``: ``2.296 / k**0.9723``."""
        return float(_core.QuantileSketch.rank_error_for(int(k)))

    def to_bytes(self) -> bytes:
        """Serialize (versioned, checksummed)."""
        with self._lock:
            return _wire.frame(_KIND, self._s.serialize())

    @classmethod
    def from_bytes(cls, data: bytes) -> QuantileSketch:
        """Inverse of :meth:`to_bytes`; raises ValueError on corrupted data.

        Examples
        --------
        >>> import numpy as np, driftcore
        >>> s = driftcore.QuantileSketch(); s.update(np.arange(10.0))
        >>> driftcore.QuantileSketch.from_bytes(s.to_bytes()) == s
        True
        """
        return cls._wrap(_core.QuantileSketch.deserialize(_wire.unframe(data, _KIND)))

    def __reduce__(self) -> tuple:
        # pickle (Dask, multiprocessing) through the checked wire format
        return (_wire.restore, (type(self), self.to_bytes()))

    def copy(self) -> QuantileSketch:
        with self._lock:
            return self._wrap(copy.copy(self._s))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuantileSketch):
            return False
        with locked_pair(self, other):
            return bool(self._s == other._s)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        with self._lock:
            return f"QuantileSketch(k={self.k}, n={self.n}, rank_error={self.rank_error:.4%})"
