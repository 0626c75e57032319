"""Streaming MMD^2 with random Fourier features: a mergeable mean embedding per side.

For a shift-invariant kernel k(u, v) = E_w[cos(w . (u - v))] (Bochner), F random
frequencies w_f give the features phi(u) = (cos(w_f . u), sin(w_f . u))_f / sqrt(F),
and

    MMD^2 ~ |mean phi(x) - mean phi(y)|^2 = (1/F) sum_f q_f,
    q_f = (mean cos_x - mean cos_y)^2 + (mean sin_x - mean sin_y)^2 in [0, 4].

Given the data, the q_f are independent with mean the exact *biased* MMD^2 (the
V-statistic, diagonal included), so the estimate is unbiased for it with standard
error sd(q) / sqrt(F) (reported as ``stderr``) and, by Hoeffding, within
``4 sqrt(ln(2 / delta) / (2 F))`` of it with probability 1 - delta (``error_bound``,
delta = 0.01): about 0.16 at F = 1024, ~1/sqrt(F) in general. Frequencies: Gaussian
N(0, I / s^2) for "rbf"; multivariate Cauchy g / (s |h|) (g ~ N(0, I), h ~ N(0, 1))
for "laplacian" exp(-|u - v| / s). They come from a counter-based hash of ``seed``
(not numpy's generators, whose streams may change), so a state can be rebuilt
anywhere from (kernel, bandwidth, F, seed, d).

numpy input runs a C++ kernel (float64 projections and sincos, threads over fixed
row blocks, so the sums do not depend on the thread count); cupy input runs cupy.
The state is the per-side row count and float64 sums of cos and sin: O(F) memory
for any number of rows; ``update`` chunk by chunk, ``merge`` partial states (another
process, another machine), ``to_bytes``/``from_bytes``.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core, _validate, _wire
from ._dispatch import is_device_array, resolve_threads
from ._locking import Guarded, locked_pair

_KIND = b"RFFM"
_HEAD = struct.Struct("<BQQQdQQ")  # kernel, d, features, seed, bandwidth, n_x, n_y
_KERNELS = ("rbf", "laplacian")
_BLOCK_VALUES = 1 << 22  # rows x features per block of projections (32 MiB of float64)
# Most random frequencies F: the sums take 32 F bytes (32 MiB here), the frequency matrix
# 8 d F; checked before either is allocated. The error ~ 1 / sqrt(F) is long negligible.
MAX_FEATURES = 1 << 20
_MAX_FREQUENCIES = 1 << 32  # d x F of a loaded state (a 32 GiB frequency matrix)
_SUM_SLACK = 1e-6  # relative; summing rows in blocks rounds far less


@dataclass(frozen=True)
class StreamingMMDResult:
    """``mmd2``: the estimate of the biased MMD^2; ``stderr``: its standard error over
    the random features; ``error_bound``: the Hoeffding bound at 99%."""

    mmd2: float
    stderr: float
    error_bound: float
    n_x: int
    n_y: int
    n_features: int
    bandwidth: float
    kernel: str


def _uniform(seed: int, stream: int, count: int) -> np.ndarray:
    """``count`` uniforms in (0, 1) from hash(seed, stream, i) (``rff.hpp``)."""
    return _core.rff_uniforms(seed & 0xFFFFFFFFFFFFFFFF, stream, count)


def _normal(seed: int, stream: int, count: int) -> np.ndarray:
    u1, u2 = _uniform(seed, 2 * stream, count), _uniform(seed, 2 * stream + 1, count)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)  # Box-Muller


def frequencies(kernel: str, bandwidth: float, n_features: int, d: int, seed: int) -> np.ndarray:
    """The (d, n_features) frequency matrix of a state (deterministic in its arguments)."""
    g = _normal(seed, 0, d * n_features).reshape(d, n_features)
    if kernel == "laplacian":
        g = g / np.abs(_normal(seed, 1, n_features))[None, :]
    return g / bandwidth


class StreamingMMD(Guarded):
    """Mergeable random-Fourier-feature estimate of MMD^2 between two streams.

    Parameters
    ----------
    bandwidth : float
        Kernel bandwidth s > 0 (e.g. ``driftcore.mmd_test`` on a sample: its
        ``bandwidth``).
    kernel : {"rbf", "laplacian"}
    n_features : int
        Random frequencies F (2 F features); error ~ 1 / sqrt(F). At most
        ``MAX_FEATURES`` (2**20).
    seed : int
        Key of the frequencies; only states with equal settings merge.

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> rng = np.random.default_rng(0)
    >>> s = driftcore.StreamingMMD(bandwidth=2.0, n_features=2048)
    >>> for _ in range(4):                      # chunks of an endless stream
    ...     s.update(x=rng.normal(size=(5_000, 3)), y=rng.normal(0.5, 1, size=(5_000, 3)))
    >>> other = driftcore.StreamingMMD.from_bytes(s.to_bytes())
    >>> other == s
    True
    >>> r = s.result()
    >>> r.n_x, r.mmd2 > 3 * r.stderr             # clearly drifted
    (20000, True)
    """

    def __init__(
        self, bandwidth: float, *, kernel: str = "rbf", n_features: int = 1024, seed: int = 0
    ) -> None:
        if kernel not in _KERNELS:
            raise ValueError(f"kernel must be one of {_KERNELS}, got {kernel!r}")
        if isinstance(bandwidth, bool) or not isinstance(bandwidth, (int, float, np.number)):
            raise TypeError(f"bandwidth must be a number, got {type(bandwidth).__name__}")
        if not (float(bandwidth) > 0.0 and math.isfinite(float(bandwidth))):
            raise ValueError(f"bandwidth must be positive and finite, got {bandwidth!r}")
        if (
            isinstance(n_features, bool)
            or not isinstance(n_features, (int, np.integer))
            or n_features < 1
        ):
            raise ValueError(f"n_features must be an int >= 1, got {n_features!r}")
        if n_features > MAX_FEATURES:
            raise ValueError(
                f"n_features = {n_features} is above the maximum of 2**20 = {MAX_FEATURES}"
            )
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.kernel = kernel
        self.bandwidth = float(bandwidth)
        self.n_features = int(n_features)
        self.seed = int(seed)
        self.d = 0  # set by the first update
        self.n = [0, 0]  # rows seen on the x and y side
        self._sums = np.zeros((2, 2, self.n_features))  # side, (cos, sin), feature
        self._w: Any = None

    # --- updating ---------------------------------------------------------------------

    def _freq(self, d: int) -> np.ndarray:
        """The frequencies for d features (cached for this state's d)."""
        if d != self.d:  # a first update: d is set only when its sums go in
            return frequencies(self.kernel, self.bandwidth, self.n_features, d, self.seed)
        if self._w is None:
            self._w = frequencies(self.kernel, self.bandwidth, self.n_features, d, self.seed)
        return self._w

    def update(self, x: Any = None, y: Any = None, *, threads: int | None = None) -> None:
        """Add a chunk of rows to the x (reference) side and/or the y side.

        All or nothing: both chunks are checked and summed before either is counted,
        so a call that raises leaves the state as it was. Updates from several
        threads are serialized (the kernel still releases the GIL, so other states
        update in parallel)."""
        with self._lock:
            chunks = [
                (side, name, self._checked(name, chunk))
                for side, (name, chunk) in enumerate((("x", x), ("y", y)))
                if chunk is not None
            ]
            d = self.d or (chunks[0][2].shape[1] if chunks else 0)
            for _, name, a in chunks:
                if a.shape[1] != d:
                    raise ValueError(f"{name} has {a.shape[1]} features, this state has {d}")
            if not chunks:
                return
            w = self._freq(d)
            parts = [(side, *self._sums_of(a, w, threads)) for side, _, a in chunks]
            if d != self.d:
                self.d, self._w = d, w
            for side, cos_sum, sin_sum, rows in parts:
                self._sums[side, 0] += cos_sum
                self._sums[side, 1] += sin_sum
                self.n[side] += rows

    def _checked(self, name: str, chunk: Any) -> Any:
        xp = _xp(chunk)
        a = xp.asarray(chunk)
        if a.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array (rows x features), got shape {a.shape}")
        if a.dtype.kind not in "fiu" or a.dtype.kind == "b":
            raise TypeError(f"{name} must be a float or integer array, got dtype {a.dtype}")
        if a.shape[1] == 0:
            raise ValueError(f"{name} has no features (0 columns)")
        if a.dtype.kind == "f" and a.size and not bool(xp.isfinite(a).all()):
            raise ValueError(f"{name} contains NaN or infinite values")
        return a

    def _sums_of(
        self, a: Any, w: np.ndarray, threads: int | None
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """(cos sums, sin sums, rows) of a checked chunk, on its device."""
        xp = _xp(a)
        if xp is not np:
            w = xp.asarray(w)
        if xp is np:  # the C++ kernel: float64 sincos, threads over fixed row blocks
            cos_sum, sin_sum = np.zeros(self.n_features), np.zeros(self.n_features)
            _core.rff_accumulate(
                np.ascontiguousarray(a, dtype=np.float64),
                w,
                cos_sum,
                sin_sum,
                resolve_threads(threads),
            )
            return cos_sum, sin_sum, int(a.shape[0])
        rows = max(1, _BLOCK_VALUES // self.n_features)
        cos_sum, sin_sum = xp.zeros(self.n_features), xp.zeros(self.n_features)
        for b in range(0, a.shape[0], rows):  # blocks of rows: bounded memory
            proj = a[b : b + rows].astype(xp.float64) @ w
            cos_sum += xp.cos(proj).sum(axis=0)
            sin_sum += xp.sin(proj).sum(axis=0)
        return cos_sum.get(), sin_sum.get(), int(a.shape[0])

    # --- merging and results ------------------------------------------------------------

    def _settings(self) -> tuple:
        return (self.kernel, self.bandwidth, self.n_features, self.seed)

    def merge(self, other: StreamingMMD) -> StreamingMMD:
        """Add ``other``'s rows (same kernel, bandwidth, features, seed and d)."""
        if not isinstance(other, StreamingMMD):
            raise TypeError(f"can only merge a StreamingMMD, got {type(other).__name__}")
        names = ("kernel", "bandwidth", "n_features", "seed")
        for name, mine, theirs in zip(names, self._settings(), other._settings()):
            if mine != theirs:
                raise ValueError(
                    f"cannot merge states with different {name}: {mine!r} != {theirs!r}"
                )
        with locked_pair(self, other):
            if self.d and other.d and self.d != other.d:
                raise ValueError(f"cannot merge states with different d: {self.d} != {other.d}")
            n = [self.n[0] + other.n[0], self.n[1] + other.n[1]]
            if max(n) > _validate.MAX_COUNT:
                raise ValueError("cannot merge: a side's row count would pass 2**63 - 1")
            if not self.d:
                self.d, self._w = other.d, None
            self._sums += other._sums
            self.n = n
        return self

    def result(self) -> StreamingMMDResult:
        """The estimate of the biased MMD^2 and its error; needs rows on both sides."""
        with self._lock:
            (n_x, n_y), sums = self.n, self._sums.copy()
        if n_x == 0 or n_y == 0:
            raise ValueError(f"need rows on both sides, have n_x={n_x}, n_y={n_y}")
        mean_x = sums[0] / n_x
        mean_y = sums[1] / n_y
        q = ((mean_x - mean_y) ** 2).sum(axis=0)  # one term per frequency
        f = self.n_features
        stderr = float(q.std(ddof=1) / math.sqrt(f)) if f > 1 else math.inf
        bound = 4.0 * math.sqrt(math.log(2.0 / 0.01) / (2.0 * f))
        return StreamingMMDResult(
            float(q.mean()), stderr, bound, n_x, n_y, f, self.bandwidth, self.kernel
        )

    # --- serialization --------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Serialized state (driftcore's checked envelope, kind ``RFFM``)."""
        with self._lock:
            head = _HEAD.pack(
                _KERNELS.index(self.kernel),
                self.d,
                self.n_features,
                self.seed,
                self.bandwidth,
                self.n[0],
                self.n[1],
            )
            body = self._sums.astype("<f8").tobytes()
        return _wire.frame(_KIND, head + body)

    @classmethod
    def from_bytes(cls, data: bytes) -> StreamingMMD:
        """Inverse of :meth:`to_bytes`; raises ValueError on corrupt or foreign data."""
        payload = _wire.unframe(data, _KIND)
        with _validate.corrupted("corrupted StreamingMMD payload"):
            return cls._read(payload)

    @classmethod
    def _read(cls, payload: bytes) -> StreamingMMD:
        if len(payload) < _HEAD.size:
            raise ValueError(f"{len(payload)} bytes is shorter than the header")
        kernel, d, f, seed, bw, nx, ny = _HEAD.unpack_from(payload)
        if kernel >= len(_KERNELS):
            raise ValueError(f"unknown kernel number {kernel}")
        if f < 1 or len(payload) != _HEAD.size + 32 * f:
            raise ValueError(f"{len(payload) - _HEAD.size} bytes of sums for {f} features")
        if not (bw > 0.0 and math.isfinite(bw)):
            raise ValueError(f"bandwidth must be positive and finite, got {bw}")
        # The frequency matrix (d x F) is built on the next update: keep it buildable.
        if d * f > _MAX_FREQUENCIES:
            raise ValueError(f"d = {d} with {f} features passes {_MAX_FREQUENCIES} frequencies")
        for side, n in (("n_x", nx), ("n_y", ny)):
            _validate.integer(n, side)
        if (nx or ny) and d == 0:
            raise ValueError(f"rows ({nx}, {ny}) without a feature count d")
        s = cls(bw, kernel=_KERNELS[kernel], n_features=f, seed=seed)
        s.d, s.n = d, [nx, ny]
        sums = np.frombuffer(payload, dtype="<f8", offset=_HEAD.size).reshape(2, 2, f)
        # Each row adds (cos, sin) of norm 1 to a feature: a side's (sum cos, sum sin)
        # has norm at most its row count (the slack covers rounding in the sums).
        norm = np.hypot(sums[:, 0], sums[:, 1])
        limit = np.array([nx, ny], dtype=np.float64)[:, None] * (1.0 + _SUM_SLACK)
        if not np.all(np.isfinite(sums)) or np.any(norm > limit):
            raise ValueError(
                "sums of cos and sin that rows of unit norm cannot give "
                "(NaN, infinite, or larger than the row count)"
            )
        s._sums = sums.astype(np.float64)
        return s

    def __reduce__(self) -> tuple:
        # pickle (Dask, multiprocessing) through the checked wire format
        return (_wire.restore, (type(self), self.to_bytes()))

    def copy(self) -> StreamingMMD:
        return StreamingMMD.from_bytes(self.to_bytes())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StreamingMMD):
            return NotImplemented
        with locked_pair(self, other):
            return (
                self._settings() == other._settings()
                and self.d == other.d
                and self.n == other.n
                and bool(np.array_equal(self._sums, other._sums))
            )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"StreamingMMD(kernel={self.kernel!r}, bandwidth={self.bandwidth:g}, "
            f"n_features={self.n_features}, n_x={self.n[0]}, n_y={self.n[1]})"
        )


def _xp(a: Any) -> Any:
    if is_device_array(a):
        import cupy

        return cupy
    return np
