"""Drift metrics, one function per metric, on raw arrays or on mergeable states.

Binned metrics (PSI, KL, JS, Hellinger, total variation, L-infinity, chi-square)
compare two distributions over the same bins:

* two :class:`~driftcore.Histogram` with the same edges: underflow, bins, overflow
  (NaN is excluded; report it apart);
* two :class:`~driftcore.CategoryCounts`: over the union of their categories;
* two raw numeric arrays: ``bins`` quantile bins of the reference (plus the regions
  below and above it), or two arrays of strings or integer codes with
  ``categorical=True``.

Smoothing: PSI and KL divide by proportions, so each bin gets a pseudo-count of
``smoothing`` (default 0.5) on both sides before normalizing:
``p_i = (c_i + a) / (n + a * K)``. JS, Hellinger, total variation and L-infinity are
finite without it and use the raw proportions. Natural logarithms throughout.

KS and Wasserstein-1 are exact on raw arrays (the KS statistic and p-value equal
``scipy.stats.ks_2samp``'s) and estimated from two :class:`~driftcore.QuantileSketch`
with an error bound reported beside the value.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core, _dispatch, pvalues
from ._locking import locked_pair
from .categories import CategoryCounts
from .histogram import Histogram
from .quantile_sketch import QuantileSketch

__all__ = [
    "ChiSquareResult",
    "KSResult",
    "WassersteinResult",
    "binned_counts",
    "binned_metrics",
    "chi_square",
    "chi_square_counts",
    "hellinger",
    "js_distance",
    "js_divergence",
    "kl_divergence",
    "ks",
    "linf",
    "noise_floor",
    "proportions",
    "psi",
    "total_variation",
    "two_sample",
    "wasserstein",
]

DEFAULT_BINS = 10
DEFAULT_SMOOTHING = 0.5


@dataclass(frozen=True)
class KSResult:
    """Two-sample Kolmogorov-Smirnov test. ``error_bound`` is 0 when exact."""

    statistic: float
    pvalue: float
    error_bound: float = 0.0


@dataclass(frozen=True)
class WassersteinResult:
    """Wasserstein-1 distance, raw and divided by the reference's standard deviation
    (population, ddof=0; NaN when it is 0). ``error_bound`` bounds ``distance``."""

    distance: float
    normed: float
    error_bound: float = 0.0


@dataclass(frozen=True)
class ChiSquareResult:
    """Pearson chi-square test of homogeneity on a 2 x K table (no continuity
    correction), as ``scipy.stats.chi2_contingency(..., correction=False)``."""

    statistic: float
    pvalue: float
    dof: int


# --- binned distributions ------------------------------------------------------------


def binned_counts(
    reference: Any, current: Any, *, bins: int = DEFAULT_BINS, categorical: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Aligned count vectors (float64) of the two sides, as the binned metrics see them.

    Examples
    --------
    >>> import driftcore
    >>> driftcore.metrics.binned_counts(["a", "b", "b"], ["b", "c"], categorical=True)
    (array([1., 2., 0.]), array([0., 1., 1.]))
    """
    if isinstance(reference, Histogram) or isinstance(current, Histogram):
        if not (isinstance(reference, Histogram) and isinstance(current, Histogram)):
            raise TypeError("both sides must be Histograms")
        if not np.array_equal(reference.edges, current.edges):
            raise ValueError("the two histograms have different edges")
        return (
            reference.slots[:-1].astype(np.float64),
            current.slots[:-1].astype(np.float64),
        )
    if isinstance(reference, CategoryCounts) or isinstance(current, CategoryCounts):
        if not (isinstance(reference, CategoryCounts) and isinstance(current, CategoryCounts)):
            raise TypeError("both sides must be CategoryCounts")
        _, a, b = reference.aligned(current)
        return a.astype(np.float64), b.astype(np.float64)
    if categorical:
        ref, cur = CategoryCounts(), CategoryCounts()
        ref.update(reference)
        cur.update(current)
        return binned_counts(ref, cur)
    ref_arr = _dispatch.host_1d(reference, "reference")
    cur_arr = _dispatch.host_1d(current, "current")
    sketch = QuantileSketch(k=400)
    sketch.update(ref_arr)
    if sketch.n == 0:
        raise ValueError("the reference has no non-NaN values to bin")
    edges = sketch.quantile_edges(bins)
    hr, hc = Histogram(edges), Histogram(edges)
    hr.update(ref_arr)
    hc.update(cur_arr)
    return binned_counts(hr, hc)


def _proportions(
    reference: Any, current: Any, bins: int, categorical: bool, smoothing: float | None
) -> tuple[np.ndarray, np.ndarray]:
    a, b = binned_counts(reference, current, bins=bins, categorical=categorical)
    return proportions(a, b, smoothing)


def _counts_pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"count vectors must be 1-D and aligned, got {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))) or (a < 0).any() or (b < 0).any():
        raise ValueError("counts must be finite and >= 0")
    return a, b


def proportions(
    a: np.ndarray, b: np.ndarray, smoothing: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Normalize two aligned count vectors, after adding ``smoothing`` to every bin."""
    a, b = _counts_pair(a, b)
    if a.sum() == 0 or b.sum() == 0:
        raise ValueError("a side has no values to compare (empty or all-null)")
    if smoothing is not None:
        if not smoothing >= 0:
            raise ValueError(f"smoothing must be >= 0, got {smoothing}")
        a = a + smoothing
        b = b + smoothing
    return a / a.sum(), b / b.sum()


def psi(
    reference: Any,
    current: Any,
    *,
    bins: int = DEFAULT_BINS,
    categorical: bool = False,
    smoothing: float = DEFAULT_SMOOTHING,
) -> float:
    """Population stability index ``sum((q - p) * ln(q / p))`` (smoothed).

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> rng = np.random.default_rng(0)
    >>> round(driftcore.metrics.psi(rng.normal(size=10_000), rng.normal(1, 1, 10_000)), 2)
    0.95
    """
    p, q = _proportions(reference, current, bins, categorical, smoothing)
    return _psi(p, q)


def kl_divergence(
    reference: Any,
    current: Any,
    *,
    bins: int = DEFAULT_BINS,
    categorical: bool = False,
    smoothing: float = DEFAULT_SMOOTHING,
) -> float:
    """Kullback-Leibler divergence ``KL(reference || current)`` (smoothed), in nats.

    Examples
    --------
    >>> import driftcore
    >>> round(driftcore.metrics.kl_divergence(["a", "b"], ["a", "a"], categorical=True), 4)
    0.2939
    """
    p, q = _proportions(reference, current, bins, categorical, smoothing)
    return _kl(p, q)


def js_divergence(
    reference: Any, current: Any, *, bins: int = DEFAULT_BINS, categorical: bool = False
) -> float:
    """Jensen-Shannon divergence in nats (0 to ln 2), unsmoothed.

    Examples
    --------
    >>> import driftcore
    >>> round(driftcore.metrics.js_divergence(["a"], ["b"], categorical=True), 4)
    0.6931
    """
    return _js(*_proportions(reference, current, bins, categorical, None))


def js_distance(
    reference: Any, current: Any, *, bins: int = DEFAULT_BINS, categorical: bool = False
) -> float:
    """Jensen-Shannon distance, the square root of :func:`js_divergence`
    (``scipy.spatial.distance.jensenshannon``).

    Examples
    --------
    >>> import driftcore
    >>> driftcore.metrics.js_distance(["a", "b"], ["a", "b"], categorical=True)
    0.0
    """
    return math.sqrt(
        max(0.0, js_divergence(reference, current, bins=bins, categorical=categorical))
    )


def hellinger(
    reference: Any, current: Any, *, bins: int = DEFAULT_BINS, categorical: bool = False
) -> float:
    """Hellinger distance ``sqrt(1 - sum(sqrt(p * q)))`` (0 to 1), unsmoothed.

    Examples
    --------
    >>> import driftcore
    >>> driftcore.metrics.hellinger(["a"], ["b"], categorical=True)
    1.0
    """
    return _hellinger(*_proportions(reference, current, bins, categorical, None))


def total_variation(
    reference: Any, current: Any, *, bins: int = DEFAULT_BINS, categorical: bool = False
) -> float:
    """Total variation distance ``0.5 * sum(|p - q|)`` (0 to 1).

    Examples
    --------
    >>> import driftcore
    >>> driftcore.metrics.total_variation(["a", "b"], ["a", "a"], categorical=True)
    0.5
    """
    return _tv(*_proportions(reference, current, bins, categorical, None))


def linf(
    reference: Any, current: Any, *, bins: int = DEFAULT_BINS, categorical: bool = False
) -> float:
    """L-infinity distance ``max(|p - q|)`` between the proportions.

    Examples
    --------
    >>> import driftcore
    >>> driftcore.metrics.linf(["a", "b"], ["a", "a"], categorical=True)
    0.5
    """
    return _linf(*_proportions(reference, current, bins, categorical, None))


def chi_square(
    reference: Any, current: Any, *, bins: int = DEFAULT_BINS, categorical: bool = False
) -> ChiSquareResult:
    """Chi-square test that both sides come from one distribution over the bins.

    Bins empty on both sides are dropped. With a single remaining bin the test is
    undefined: statistic 0, p-value 1, dof 0.

    Examples
    --------
    >>> import driftcore
    >>> r = driftcore.metrics.chi_square(["a"] * 50 + ["b"] * 50, ["a"] * 80 + ["b"] * 20,
    ...                                  categorical=True)
    >>> round(r.statistic, 3), r.dof
    (19.78, 1)
    """
    return chi_square_counts(*binned_counts(reference, current, bins=bins, categorical=categorical))


def chi_square_counts(a: np.ndarray, b: np.ndarray) -> ChiSquareResult:
    """:func:`chi_square` on two aligned count vectors."""
    a, b = _counts_pair(a, b)
    if a.sum() == 0 or b.sum() == 0:
        raise ValueError("a side has no values to compare (empty or all-null)")
    keep = (a + b) > 0
    a, b = a[keep], b[keep]
    if a.size < 2:
        return ChiSquareResult(0.0, 1.0, 0)
    table = np.vstack([a, b])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    stat = float(np.sum((table - expected) ** 2 / expected))
    dof = a.size - 1
    return ChiSquareResult(stat, float(pvalues.chi2_sf(stat, dof)), dof)


def _kl_terms(p: np.ndarray, q: np.ndarray) -> float:
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / q[nz])))


def _psi(p: np.ndarray, q: np.ndarray) -> float:
    both = (p > 0) | (q > 0)  # a bin empty on both sides adds nothing (smoothing=0)
    p, q = p[both], q[both]
    with np.errstate(divide="ignore"):
        return float(np.sum((q - p) * np.log(q / p)))


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    nz = p > 0
    with np.errstate(divide="ignore"):
        return float(np.sum(p[nz] * np.log(p[nz] / q[nz])))


def _js(p: np.ndarray, q: np.ndarray) -> float:
    m = 0.5 * (p + q)
    return float(0.5 * (_kl_terms(p, m) + _kl_terms(q, m)))


def _hellinger(p: np.ndarray, q: np.ndarray) -> float:
    return float(math.sqrt(max(0.0, 1.0 - float(np.sum(np.sqrt(p * q))))))


def _tv(p: np.ndarray, q: np.ndarray) -> float:
    return float(0.5 * np.sum(np.abs(p - q)))


def _linf(p: np.ndarray, q: np.ndarray) -> float:
    return float(np.max(np.abs(p - q)))


def binned_metrics(
    a: np.ndarray, b: np.ndarray, smoothing: float = DEFAULT_SMOOTHING
) -> dict[str, float]:
    """Every binned metric of two aligned count vectors (reference, current).

    Besides the metrics themselves, ``psi_debiased`` and ``js_distance_debiased`` are
    PSI and the Jensen-Shannon distance net of their expected value under no drift
    (to first order ``(k - 1) (1/n_ref + 1/n_cur)`` for PSI and an eighth of that for
    the JS divergence, with ``k`` the bins holding any value), floored at 0: with many
    sparse levels sampling noise alone makes PSI and JS large.

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> m = driftcore.metrics.binned_metrics(np.array([5, 5]), np.array([5, 5]))
    >>> m["psi"], m["total_variation"]
    (0.0, 0.0)
    """
    ps, qs = proportions(a, b, smoothing)
    p, q = proportions(a, b, None)
    js = _js(p, q)
    psi_value = _psi(ps, qs)
    noise = noise_floor(a, b)
    return {
        "psi": psi_value,
        "psi_debiased": max(0.0, psi_value - noise),
        "js_distance_debiased": math.sqrt(max(0.0, js - noise / 8)),
        "kl": _kl(ps, qs),
        "js_divergence": js,
        "js_distance": math.sqrt(max(0.0, js)),
        "hellinger": _hellinger(p, q),
        "total_variation": _tv(p, q),
        "linf": _linf(p, q),
    }


def noise_floor(a: np.ndarray, b: np.ndarray) -> float:
    """Expected PSI between two samples of one distribution over these bins, to first
    order: ``(k - 1) (1/n_a + 1/n_b)`` with ``k`` the bins that hold any value.

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> driftcore.metrics.noise_floor(np.array([10, 10, 0]), np.array([5, 15, 0]))
    0.1
    """
    a, b = _counts_pair(a, b)
    na, nb = a.sum(), b.sum()
    if na == 0 or nb == 0:
        return math.nan
    k = int(np.count_nonzero(a + b))
    return float((k - 1) * (1.0 / na + 1.0 / nb))


# --- KS and Wasserstein ------------------------------------------------------------


def _sketch_pair(reference: Any, current: Any) -> bool:
    r, c = isinstance(reference, QuantileSketch), isinstance(current, QuantileSketch)
    if r != c:
        raise TypeError("both sides must be QuantileSketches, or both raw arrays")
    return r


def _two_sample(reference: Any, current: Any, threads: int | None, device: str, want: str = "both"):
    """(ks, wasserstein, n_ref, n_cur, error_bound_ks, error_bound_w, ref_std)."""
    if _sketch_pair(reference, current):
        with locked_pair(reference, current):  # one state of each, even under updates
            va, ca = reference.sorted_view()
            vb, cb = current.sorted_view()
            eps = reference.rank_error + current.rank_error
            span = max(reference.max, current.max) - min(reference.min, current.min)
            n_ref, n_cur = reference.n, current.n
        ks_stat, w, na, nb = _core.two_sample_weighted(va, ca, vb, cb)
        return ks_stat, w, n_ref, n_cur, eps, eps * span if eps else 0.0, None
    where = _dispatch.resolve_device(device, reference, current)
    if where == "gpu":
        import cupy as cp

        return (*two_sample_xp(cp, reference, current), 0.0, 0.0, None)
    a = _dispatch.host_1d(reference, "reference")
    b = _dispatch.host_1d(current, "current")
    nthreads = _dispatch.resolve_threads(threads)
    sa, sb = _sorted_pair(a, b, nthreads)
    ks_stat, w, na, nb = _core.two_sample_sorted(sa, sb, want != "wasserstein", want != "ks")
    return ks_stat, w, na, nb, 0.0, 0.0, (sa, sb)


def _sorted_without_nan(x: np.ndarray) -> np.ndarray:
    # numpy's sort (SIMD quicksort) beats our radix sort on large arrays here; it
    # releases the GIL and puts NaN last, so NaN is cut off the end.
    s = np.sort(x)
    if s.dtype.kind == "f" and s.size and np.isnan(s[-1]):
        s = s[: int(np.searchsorted(np.isnan(s), True))]
    return np.ascontiguousarray(s, dtype=np.float64)


def _sorted_pair(a: np.ndarray, b: np.ndarray, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """Both samples sorted without NaN; the two sorts run at once with 2+ threads."""
    if threads == 1 or (threads == 0 and (os.cpu_count() or 1) == 1):
        return _sorted_without_nan(a), _sorted_without_nan(b)
    with ThreadPoolExecutor(max_workers=2) as pool:
        fa = pool.submit(_sorted_without_nan, a)
        sb = _sorted_without_nan(b)
        return fa.result(), sb


def two_sample_xp(xp: Any, reference: Any, current: Any) -> tuple[float, float, int, int]:
    """(KS, Wasserstein-1, n_ref, n_cur) with the array module ``xp`` (cupy for device
    arrays), by the CPU kernel's rules: NaN left out, equal values (infinities
    included) no gap, an infinite gap under differing CDFs an infinite distance.

    Examples
    --------
    >>> import numpy as np
    >>> from driftcore.metrics import two_sample_xp
    >>> two_sample_xp(np, [1.0, 2.0, np.inf], [1.0, 2.0, np.inf])
    (0.0, 0.0, 3, 3)
    >>> two_sample_xp(np, [1.0, 2.0, np.inf], [1.0, 2.0, 3.0])[1]
    inf
    """
    a = xp.sort(xp.asarray(reference, dtype=xp.float64))
    b = xp.sort(xp.asarray(current, dtype=xp.float64))
    a, b = a[~xp.isnan(a)], b[~xp.isnan(b)]
    na, nb = int(a.size), int(b.size)
    if na == 0 or nb == 0:
        return math.nan, math.nan, na, nb
    allv = xp.sort(xp.concatenate([a, b]))
    fa = xp.searchsorted(a, allv, side="right") / na
    fb = xp.searchsorted(b, allv, side="right") / nb
    diff = fa - fb
    ks_stat = float(xp.max(xp.abs(diff)))
    same = allv[1:] == allv[:-1]  # equal infinities: no gap (inf - inf is NaN)
    with np.errstate(invalid="ignore"):
        gaps = xp.where(same, 0.0, allv[1:] - allv[:-1])
    d = xp.abs(diff[:-1])
    moved = d > 0
    if bool(xp.any(moved & xp.isinf(gaps))):
        return ks_stat, math.inf, na, nb
    w = float(xp.sum(d * xp.where(moved, gaps, 0.0)))
    return ks_stat, w, na, nb


def ks_pvalue(statistic: float, n_ref: int, n_cur: int) -> float:
    """Two-sided p-value of a two-sample KS statistic, as ``scipy.stats.ks_2samp``'s
    (its exact method up to 10,000 values a side, the Kolmogorov distribution of
    ``round(n m / (n + m))`` beyond), computed by :mod:`driftcore.pvalues`.

    Examples
    --------
    >>> import driftcore
    >>> round(driftcore.metrics.ks_pvalue(0.005, 100_000, 100_000), 4)
    0.1635
    """
    if n_ref == 0 or n_cur == 0 or math.isnan(statistic):
        return math.nan
    return pvalues.ks_pvalue(float(statistic), int(n_ref), int(n_cur))


def ks(
    reference: Any, current: Any, *, threads: int | None = None, device: str = "auto"
) -> KSResult:
    """Two-sample Kolmogorov-Smirnov statistic and two-sided p-value.

    On raw arrays (NaN dropped) the statistic and p-value equal
    ``scipy.stats.ks_2samp``'s (its exact method up to 10,000 values per side,
    asymptotic beyond). On two QuantileSketches the statistic is within
    ``error_bound`` (the sum of their rank errors, each a 99% bound) of the exact one,
    and the p-value is *conservative*: taken at ``statistic - error_bound``, so it is
    not smaller than the exact p-value whenever the bound holds.

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> r = driftcore.metrics.ks(np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.5, 3.5, 4.5]))
    >>> round(r.statistic, 4), round(r.pvalue, 4)
    (0.5, 0.6571)
    """
    stat, _, na, nb, eps, _, _ = _two_sample(reference, current, threads, device, "ks")
    return _ks_result(stat, na, nb, eps)


def _ks_result(stat: float, na: int, nb: int, eps: float) -> KSResult:
    if not na or not nb or math.isnan(stat):
        return KSResult(float(stat), math.nan, eps)
    if eps:
        return KSResult(float(stat), ks_pvalue(max(stat - eps, 0.0), na, nb), eps)
    r = pvalues.ks_2samp_pvalue(float(stat), int(na), int(nb))
    return KSResult(r.statistic, r.pvalue, 0.0)


def wasserstein(
    reference: Any, current: Any, *, threads: int | None = None, device: str = "auto"
) -> WassersteinResult:
    """Wasserstein-1 (earth mover's) distance between the two distributions.

    Exact on raw arrays (NaN dropped; equals ``scipy.stats.wasserstein_distance`` to
    float64 rounding); from two QuantileSketches within ``error_bound`` =
    ``(eps_ref + eps_cur) * (max - min)``. ``normed`` divides by the reference's
    standard deviation (from the raw data, or NaN for sketches: use a Profile).

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> driftcore.metrics.wasserstein(np.array([0.0, 1.0]), np.array([1.0, 2.0])).distance
    1.0
    """
    _, w, _, _, _, bound, raw = _two_sample(reference, current, threads, device, "wasserstein")
    return _wasserstein_result(w, bound, raw, threads)


def _wasserstein_result(w, bound, raw, threads: int | None) -> WassersteinResult:
    normed = math.nan
    if raw is not None:
        m = _core.moments(raw[0], _dispatch.resolve_threads(threads))  # finite values
        std = math.sqrt(m.m2 / m.count) if m.count else 0.0
        normed = w / std if std > 0 else math.nan
    return WassersteinResult(float(w), float(normed), float(bound))


def two_sample(
    reference: Any, current: Any, *, threads: int | None = None, device: str = "auto"
) -> tuple[KSResult, WassersteinResult]:
    """:func:`ks` and :func:`wasserstein` together, from one sort of each side.

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> k, w = driftcore.metrics.two_sample(np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    >>> k.statistic, w.distance
    (0.5, 1.0)
    """
    stat, w, na, nb, eps, bound, raw = _two_sample(reference, current, threads, device)
    return (
        _ks_result(stat, na, nb, eps),
        _wasserstein_result(w, bound, raw, threads),
    )
