"""Kernel maximum mean discrepancy (MMD): a multivariate two-sample test.

``mmd_test(x, y)`` compares two samples of vectors (rows of ``x`` and ``y``, same
number of columns) with a permutation test on MMD^2; ``mmd2(x, y)`` returns the
statistic alone. See :class:`driftcore.StreamingMMD` for a mergeable approximation on
unbounded streams.

How the permutation test works: pool the rows, z = [x; y]. Every statistic, the
observed one and each permuted one, is a quadratic form in the pooled kernel matrix
K. One tiled pass over K (64 x 64 tiles, upper triangle only, never stored) computes,
for every permutation p at once, the within-x sum s_p' K0 s_p and the row-sum term
s_p' K0 1 (K0: K with a zero diagonal, s_p: the 0/1 indicator of the x side), from
which the within-y and between sums follow. Work O((n+m)^2 (d + P) / 2), memory
O((n+m)(d + P/8 + 128)) (the permutations as bits, 128 of them at a time as float64
columns): the (n+m)^2 matrix never exists. Sums are float64.

Permutations are random splits drawn from a counter-based generator keyed by
``seed`` (split p puts on the x side the n points with the smallest keys
hash(seed, p, i)), so every thread count and device draws the same splits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from . import _core, pvalues
from ._dispatch import current_stream, is_device_array, resolve_device, resolve_threads

KERNELS = ("rbf", "laplacian")
ESTIMATORS = ("unbiased", "biased", "linear")

#: Pooled rows up to which the median heuristic is exact; above it, it is computed on
#: this many evenly spaced rows of the pooled sample (``bandwidth_method`` says which).
MEDIAN_EXACT_MAX = 20_000

_LINEAR_BLOCK = 1 << 16  # pairs per block of the linear-time estimator


@dataclass(frozen=True)
class MMDResult:
    """Outcome of :func:`mmd_test`.

    Attributes
    ----------
    mmd2 : float
        Observed MMD^2 (``estimator``: "unbiased" U-statistic, "biased" V-statistic, or
        Gretton's "linear"-time estimate).
    pvalue : float
        Permutation p-value ``(1 + #{permuted >= observed}) / (1 + n_permutations)``,
        never 0; for ``estimator="linear"`` the normal-approximation p-value.
    threshold : float
        Critical value at level ``alpha``: MMD^2 above it rejects (``inf`` when
        ``n_permutations`` is too small for ``alpha``).
    alpha, drifted
        The level and the verdict ``pvalue <= alpha``.
    bandwidth : float or tuple of float
        Kernel bandwidth(s) used (a tuple when several kernels are averaged).
    bandwidth_method : str
        "given", "median-exact" or "median-subsample(n=...)", with "+mean-fallback"
        or "+unit-fallback" when the median distance was 0.
    kernel, estimator, n_permutations, n_x, n_y, device
        The settings and sample sizes.
    permuted : numpy.ndarray
        The permuted statistics (empty for the linear estimator).
    """

    mmd2: float
    pvalue: float
    threshold: float
    alpha: float
    drifted: bool
    bandwidth: float | tuple[float, ...]
    bandwidth_method: str
    kernel: str
    estimator: str
    n_permutations: int
    n_x: int
    n_y: int
    device: str
    permuted: np.ndarray = field(repr=False, compare=False)


# --- input checks ------------------------------------------------------------------------


def _check_matrix(a: Any, name: str) -> Any:
    """2-D numeric array with finite values (numpy stays numpy, cupy stays cupy)."""
    xp = _xp(a)
    arr = xp.asarray(a)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows x features), got shape {arr.shape}")
    if arr.dtype.kind == "b" or arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a float or integer array, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and arr.size and not bool(xp.isfinite(arr).all()):
        bad = int(xp.argmax(~xp.isfinite(arr).all(axis=1)))
        raise ValueError(f"{name} contains NaN or infinite values (first in row {bad})")
    return arr


def _xp(a: Any) -> Any:
    if is_device_array(a):
        import cupy

        return cupy
    return np


def _check_pair(x: Any, y: Any, min_rows: int = 2) -> tuple[Any, Any]:
    x, y = _check_matrix(x, "x"), _check_matrix(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"x and y must have the same number of features (columns): {x.shape[1]} != {y.shape[1]}"
        )
    if x.shape[1] == 0:
        raise ValueError("x and y have no features (0 columns)")
    for name, a in (("x", x), ("y", y)):
        if a.shape[0] < min_rows:
            raise ValueError(f"{name} needs at least {min_rows} rows, got {a.shape[0]}")
    return x, y


def _check_choice(value: str, options: tuple[str, ...], name: str) -> str:
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def _positive_bandwidths(values: Sequence[float], name: str = "bandwidth") -> list[float]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be 'median', a number or a sequence of numbers")
        f = float(v)
        if not (f > 0.0 and math.isfinite(f)):
            raise ValueError(f"{name} must be positive and finite, got {v!r}")
        out.append(f)
    if not out:
        raise ValueError(f"{name} is an empty sequence")
    return out


# --- bandwidth ---------------------------------------------------------------------------


def median_bandwidth(
    x: Any, y: Any | None = None, *, kernel: str = "rbf", threads: int | None = None
) -> tuple[float, str]:
    """Median-heuristic bandwidth of the pooled rows of ``x`` and ``y``.

    The median is taken over the squared Euclidean distances of all pairs of distinct
    pooled rows (exactly, by selection over streamed distances, up to
    :data:`MEDIAN_EXACT_MAX` pooled rows; beyond, over that many evenly spaced pooled
    rows). Pooling both samples keeps the bandwidth the same under every permutation,
    which keeps the permutation test exact. ``rbf``: ``sqrt(median / 2)``, so that
    ``k = exp(-d^2 / median)`` (alibi-detect's convention, though it uses the
    reference sample only and the lower middle value); ``laplacian``: ``sqrt(median)``,
    the median distance. When the median is 0 (mostly duplicate rows) the mean
    squared distance is used instead, and 1.0 when every row is equal.

    Returns
    -------
    (bandwidth, method)

    Examples
    --------
    >>> import numpy as np
    >>> from driftcore.mmd import median_bandwidth
    >>> x = np.array([[0.0], [1.0], [3.0]])
    >>> median_bandwidth(x)                 # squared distances 1, 4, 9: median 4
    (1.4142135623730951, 'median-exact')
    """
    kernel = _check_choice(kernel, KERNELS, "kernel")
    parts = [_check_matrix(x, "x")] + ([] if y is None else [_check_matrix(y, "y")])
    if len({p.shape[1] for p in parts}) > 1:
        raise ValueError("x and y must have the same number of features (columns)")
    total = sum(p.shape[0] for p in parts)
    if total < 2:
        raise ValueError("the median heuristic needs at least 2 rows")
    method = "median-exact"
    if total > MEDIAN_EXACT_MAX:  # evenly spaced pooled rows, taken before any copy
        idx = (np.arange(MEDIAN_EXACT_MAX, dtype=np.int64) * total) // MEDIAN_EXACT_MAX
        start, picked = 0, []
        for p in parts:
            own = idx[(idx >= start) & (idx < start + p.shape[0])] - start
            picked.append(p[_xp(p).asarray(own)])
            start += p.shape[0]
        parts = picked
        method = f"median-subsample(n={MEDIAN_EXACT_MAX})"
    z = np.concatenate(
        [np.asarray(p.get() if is_device_array(p) else p, dtype=np.float64) for p in parts]
    )
    med, mean = _core.mmd_median_sq_distance(np.ascontiguousarray(z), resolve_threads(threads))
    if med <= 0.0 and mean > 0.0:  # more than half the pairs are duplicates
        med, method = mean, method + "+mean-fallback"
    elif med <= 0.0:  # every row equal: any bandwidth gives the same answer
        return 1.0, method + "+unit-fallback"
    bw = math.sqrt(med / 2.0) if kernel == "rbf" else math.sqrt(med)
    return bw, method


def _bandwidths(
    x: Any, y: Any, bandwidth: Any, scales: Sequence[float], kernel: str, threads: int | None
) -> tuple[list[float], str]:
    factors = _positive_bandwidths(scales, "scales")
    if isinstance(bandwidth, str):
        if bandwidth != "median":
            raise ValueError(f"bandwidth must be 'median', a number or numbers, got {bandwidth!r}")
        base, method = median_bandwidth(x, y, kernel=kernel, threads=threads)
        bases = [base]
    else:
        seq = bandwidth if isinstance(bandwidth, (Sequence, np.ndarray)) else [bandwidth]
        bases, method = (
            _positive_bandwidths(list(np.ravel(seq)) if isinstance(seq, np.ndarray) else list(seq)),
            "given",
        )
    return [b * f for b in bases for f in factors], method


# --- statistics from the tile sums ---------------------------------------------------------


def _statistics(
    a: np.ndarray, c: np.ndarray, t: float, n: int, m: int, estimator: str
) -> np.ndarray:
    xx, xy = a, c - a
    yy = t - 2.0 * c + a
    if estimator == "unbiased":
        return xx / (n * (n - 1.0)) + yy / (m * (m - 1.0)) - 2.0 * xy / (n * float(m))
    # biased: the diagonal adds k(x, x) = 1 per point
    return (xx + n) / (n * float(n)) + (yy + m) / (m * float(m)) - 2.0 * xy / (n * float(m))


def _sums(
    x: Any,
    y: Any,
    kernel: str,
    bws: list[float],
    permutations: int,
    seed: int,
    device: str,
    threads: int,
) -> tuple[np.ndarray, np.ndarray, float]:
    n, m = x.shape[0], y.shape[0]
    masks = _core.mmd_permutation_masks(n, m, permutations, seed, threads)
    if device == "gpu":
        import cupy as cp

        z = cp.ascontiguousarray(cp.concatenate([cp.asarray(x), cp.asarray(y)]).astype(cp.float32))
        a, c, t = _core.mmd_permutation_sums_device(
            int(z.data.ptr),
            z.shape[0],
            z.shape[1],
            kernel,
            bws,
            masks,
            permutations + 1,
            current_stream(),
        )
    else:
        z = np.concatenate([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)])
        a, c, t = _core.mmd_permutation_sums(z, kernel, bws, masks, permutations + 1, threads)
    return a, c, t


def _array_module(device: str) -> Any:
    """numpy, or cupy for the GPU."""
    if device == "gpu":
        import cupy

        return cupy
    return np


def _kernel_rows(u: Any, v: Any, kernel: str, bws: list[float], xp: Any = np) -> Any:
    d2 = ((u - v) ** 2).sum(axis=1)
    r = d2 if kernel == "rbf" else xp.sqrt(d2)
    width = [2.0 * b * b for b in bws] if kernel == "rbf" else list(bws)
    out = xp.zeros_like(r)
    for w in width:
        out += xp.exp(-r / w)
    return out / len(bws)


def _linear(x: Any, y: Any, kernel: str, bws: list[float], xp: Any = np) -> tuple[float, float]:
    """Gretton et al. (2012) linear-time MMD^2 over consecutive row pairs and its
    standard error; ``xp`` is numpy, or cupy for device arrays."""
    pairs = min(x.shape[0], y.shape[0]) // 2
    h = xp.empty(pairs)
    for b in range(0, pairs, _LINEAR_BLOCK):  # blocks of rows, bounded memory
        e = min(pairs, b + _LINEAR_BLOCK)
        x1, x2 = x[2 * b : 2 * e : 2], x[2 * b + 1 : 2 * e : 2]
        y1, y2 = y[2 * b : 2 * e : 2], y[2 * b + 1 : 2 * e : 2]
        h[b:e] = (
            _kernel_rows(x1, x2, kernel, bws, xp)
            + _kernel_rows(y1, y2, kernel, bws, xp)
            - _kernel_rows(x1, y2, kernel, bws, xp)
            - _kernel_rows(x2, y1, kernel, bws, xp)
        )
    stat = float(h.mean())
    se = float(h.std(ddof=1) / math.sqrt(pairs)) if pairs > 1 else math.inf
    return stat, se


def _threshold(permuted: np.ndarray, alpha: float) -> float:
    # p <= alpha  <=>  fewer than k = floor(alpha (P + 1)) permuted statistics reach the
    # observed one  <=>  observed > the k-th largest (without ties).
    k = math.floor(alpha * (permuted.size + 1) + 1e-9)
    if k < 1:
        return math.inf
    return float(np.sort(permuted)[::-1][k - 1])


# --- public API ----------------------------------------------------------------------------


def mmd_test(
    x: Any,
    y: Any,
    *,
    kernel: str = "rbf",
    bandwidth: str | float | Sequence[float] = "median",
    scales: Sequence[float] = (1.0,),
    n_permutations: int = 100,
    estimator: str = "unbiased",
    alpha: float = 0.05,
    seed: int = 0,
    device: str = "auto",
    threads: int | None = None,
) -> MMDResult:
    """Kernel two-sample test: are the rows of ``x`` and ``y`` from one distribution?

    Parameters
    ----------
    x, y : array (n, d) and (m, d)
        float32/float64/integer numpy arrays (the CPU kernels compute in float64) or
        cupy arrays (the CUDA kernel computes kernel values in float32, sums in float64).
    kernel : {"rbf", "laplacian"}
        ``exp(-|u - v|^2 / (2 s^2))`` or ``exp(-|u - v| / s)``.
    bandwidth : "median", float or sequence of floats
        ``s``. "median": :func:`median_bandwidth` of the pooled rows. Several values
        (or ``scales``) use the *average* of the kernels, one statistic, one test (as
        alibi-detect does with several sigmas), not an aggregated multiple test.
    scales : sequence of float
        Multipliers of the bandwidth, e.g. ``(0.5, 1, 2)`` for three kernels around
        the median.
    n_permutations : int
        Permutations P >= 1 (computed in the same pass as the statistic).
    estimator : {"unbiased", "biased", "linear"}
        U-statistic, V-statistic (diagonal included), or Gretton's linear-time
        estimate over consecutive row pairs with a normal-approximation p-value
        (no permutations; shuffle rows that arrive sorted).
    alpha : float
        Level of ``threshold`` and ``drifted``.
    seed : int
        Key of the permutations: the same seed gives the same p-value on any thread
        count or device.
    device : {"auto", "cpu", "gpu"}
    threads : int or None
        CPU threads (None: all cores); results do not depend on it.

    Returns
    -------
    MMDResult

    Raises
    ------
    ValueError
        Non-2-D input, different numbers of columns, fewer than 2 rows a side, NaN or
        inf values, a non-positive bandwidth, ``n_permutations < 1``, a bad option.

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(300, 4))
    >>> r = driftcore.mmd_test(x, rng.normal(0.5, 1.0, size=(300, 4)), seed=1)
    >>> r.drifted, round(r.pvalue, 4)          # no permutation beats the observed value
    (True, 0.0099)
    >>> driftcore.mmd_test(x, rng.normal(size=(300, 4)), seed=1).drifted
    False
    """
    kernel = _check_choice(kernel, KERNELS, "kernel")
    estimator = _check_choice(estimator, ESTIMATORS, "estimator")
    if isinstance(n_permutations, bool) or not isinstance(n_permutations, (int, np.integer)):
        raise TypeError(f"n_permutations must be an int, got {type(n_permutations).__name__}")
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    if not (0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    x, y = _check_pair(x, y)
    dev = resolve_device(device, x, y)
    nthreads = resolve_threads(threads)
    bws, method = _bandwidths(x, y, bandwidth, scales, kernel, threads)
    n, m = x.shape[0], y.shape[0]
    bw_out: float | tuple[float, ...] = bws[0] if len(bws) == 1 else tuple(bws)

    if estimator == "linear":
        xp = _array_module(dev)  # computed where the data is, in float64 as on the CPU
        xh, yh = (xp.asarray(a, dtype=xp.float64) for a in (x, y))
        stat, se = _linear(xh, yh, kernel, bws, xp)
        if se == 0.0 or not math.isfinite(se):
            pvalue = 1.0 if stat <= 0.0 else 0.0
        else:
            pvalue = float(pvalues.normal_sf(stat / se))
        thr = float(NormalDist().inv_cdf(1.0 - float(alpha)) * se)
        return MMDResult(
            stat,
            pvalue,
            thr,
            float(alpha),
            pvalue <= alpha,
            bw_out,
            method,
            kernel,
            estimator,
            0,
            n,
            m,
            dev,
            np.empty(0),
        )

    P = int(n_permutations)
    a, c, t = _sums(x, y, kernel, bws, P, int(seed), dev, nthreads)
    stats = _statistics(np.asarray(a), np.asarray(c), float(t), n, m, estimator)
    observed, permuted = float(stats[0]), stats[1:]
    pvalue = (1.0 + float(np.count_nonzero(permuted >= observed))) / (1.0 + P)
    return MMDResult(
        mmd2=observed,
        pvalue=pvalue,
        threshold=_threshold(permuted, float(alpha)),
        alpha=float(alpha),
        drifted=pvalue <= alpha,
        bandwidth=bw_out,
        bandwidth_method=method,
        kernel=kernel,
        estimator=estimator,
        n_permutations=P,
        n_x=n,
        n_y=m,
        device=dev,
        permuted=permuted,
    )


def mmd2(
    x: Any,
    y: Any,
    *,
    kernel: str = "rbf",
    bandwidth: str | float | Sequence[float] = "median",
    scales: Sequence[float] = (1.0,),
    estimator: str = "unbiased",
    device: str = "auto",
    threads: int | None = None,
) -> float:
    """MMD^2 of the rows of ``x`` and ``y`` (no test): see :func:`mmd_test`.

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> x = np.array([[0.0], [1.0]]); y = np.array([[0.0], [1.0]])
    >>> driftcore.mmd2(x, y, bandwidth=1.0, estimator="biased")   # same sample: 0
    0.0
    >>> round(driftcore.mmd2(x, y + 3.0, bandwidth=1.0), 6)  # 2/e^.5 - (2/e^4.5 + 1/e^8 + 1/e^2)/2
    1.134117
    """
    kernel = _check_choice(kernel, KERNELS, "kernel")
    estimator = _check_choice(estimator, ESTIMATORS, "estimator")
    x, y = _check_pair(x, y)
    dev = resolve_device(device, x, y)
    bws, _ = _bandwidths(x, y, bandwidth, scales, kernel, threads)
    n, m = x.shape[0], y.shape[0]
    if estimator == "linear":
        xp = _array_module(dev)
        return _linear(
            xp.asarray(x, dtype=xp.float64), xp.asarray(y, dtype=xp.float64), kernel, bws, xp
        )[0]
    a, c, t = _sums(x, y, kernel, bws, 0, 0, dev, resolve_threads(threads))
    return float(_statistics(np.asarray(a), np.asarray(c), float(t), n, m, estimator)[0])
