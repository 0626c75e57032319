"""Fine quantile bins: the exact-count summary behind profile-to-profile statistics.

A profile bins each numeric column on ``bins * FINE`` quantile bins of the reference
(edges from the reference's quantile sketch, counts exact). Both sides binned on the
same edges give, with no sketch error:

* **KS**: the two empirical CDFs are known exactly at every edge, so the largest gap
  there is a lower bound of the KS statistic, and the largest gap plus the largest bin
  mass an upper bound. The lower bound's p-value is never smaller than the exact
  p-value (a conservative test).
* **Wasserstein-1**: the integral of |F_a - F_b| with both CDFs linear inside each
  bin, and a bound from the bin masses times the bin widths.
* **PSI and the other binned metrics**: the fine bins merged into ``bins`` bins at the
  reference's exact quantiles.

The same rules run on exact sorted samples (raw arrays), so raw and profile
comparisons agree whenever the sketch is still exact.
"""

from __future__ import annotations

import math

import numpy as np

FINE = 100  # fine bins per PSI bin
TAIL = 16  # extra edges in each tail, at ranks halving towards 0 and 1


def ranks(bins: int) -> np.ndarray:
    """The ranks of the fine edges: ``bins * FINE`` equal steps, plus ``TAIL`` edges
    in each tail whose rank distance to 0 and 1 halves each time. The widest bins of
    a skewed column sit in its tails; splitting them keeps the Wasserstein bound
    small."""
    n = bins * FINE
    tail = 0.5 ** np.arange(1, TAIL + 1) / n
    return np.unique(np.concatenate([np.linspace(0.0, 1.0, n + 1), tail, 1.0 - tail]))


def edges_at(values: np.ndarray) -> np.ndarray:
    """Strictly increasing finite edges from the values at :func:`ranks` (a constant
    column gets one bin ``[v, nextafter(v)]``)."""
    e = np.unique(values)
    e = e[np.isfinite(e)]
    if e.size == 0:
        e = np.array([0.0])
    if e.size == 1:
        e = np.array([e[0], np.nextafter(e[0], np.inf)])
    return e


def edges(values: np.ndarray, cum: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Fine edges from a weighted sorted sample: ``values`` ascending (ties allowed),
    ``cum`` their cumulative weights, ``lo``/``hi`` the smallest and largest value
    seen. The CDF is taken linear between each distinct value's mid-weight point (and
    0 at ``lo``, all at ``hi``), and inverted at :func:`ranks`. Edges are thus
    distinct even where a sketch keeps fewer values than there are edges: any cut
    points give exact counts, evenly spread ones give tight bounds."""
    last = np.concatenate([values[1:] != values[:-1], [True]])
    v, c = values[last], cum[last]  # distinct values, weight up to and including each
    if v.size == 0:
        return edges_at(v)
    mid = c - 0.5 * np.diff(np.concatenate([[0.0], c]))
    x = np.concatenate([[min(lo, v[0])], v, [max(hi, v[-1])]])
    y = np.concatenate([[0.0], mid, [c[-1]]])
    t = ranks(bins) * c[-1]
    k = (np.searchsorted(y, t, side="right") - 1).clip(0, y.size - 2)
    return _interpolate(t, y[k], y[k + 1], x[k], x[k + 1])


def _interpolate(t: np.ndarray, lo_y: np.ndarray, hi_y: np.ndarray, lo_x: np.ndarray,
                 hi_x: np.ndarray) -> np.ndarray:
    """Edges on the segments from (lo_y, lo_x) to (hi_y, hi_x) at ranks ``t`` (one
    formula for both edge rules, so that they agree to the bit)."""
    span = hi_y - lo_y
    frac = np.where(span > 0, (t - lo_y) / np.where(span > 0, span, 1.0), 0.0).clip(0, 1)
    with np.errstate(invalid="ignore"):
        return edges_at(lo_x + frac * (hi_x - lo_x))


def edges_sorted(s: np.ndarray, bins: int) -> np.ndarray:
    """:func:`edges` of an exact, sorted, NaN-free sample, without a pass over it: each
    target rank finds its neighbouring runs of equal values by binary search."""
    n = s.size
    if n == 0:
        return edges_at(s)
    t = ranks(bins) * n

    def run_mid(i: np.ndarray) -> np.ndarray:  # mid-weight rank of s[i]'s run of equals
        return 0.5 * (np.searchsorted(s, s[i], "left") + np.searchsorted(s, s[i], "right"))

    # The run holding rank position t - 0.5, then the neighbour run on t's side.
    i = np.clip(np.ceil(t - 0.5).astype(np.int64), 0, n - 1)
    mid = run_mid(i)
    below = t < mid
    left = np.searchsorted(s, s[i], "left")
    right = np.searchsorted(s, s[i], "right")
    j = np.where(below, left - 1, right).clip(0, n - 1)
    # past either end the CDF runs to 0 at s[0] and to n at s[-1]
    outside = np.where(below, left == 0, right == n)
    other_mid = np.where(outside, np.where(below, 0.0, float(n)), run_mid(j))
    other_val = np.where(outside, s[i], s[j])
    return _interpolate(t, np.where(below, other_mid, mid), np.where(below, mid, other_mid),
                        np.where(below, other_val, s[i]), np.where(below, s[i], other_val))


def sorted_slots(s: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Underflow, bin and overflow counts of a sorted sample (the Histogram's rule:
    bins ``[e_i, e_i+1)``, the last one closed)."""
    left = np.searchsorted(s, edges, side="left")
    right_last = np.searchsorted(s, edges[-1], side="right")
    inner = np.diff(left).astype(np.float64)
    inner[-1] = right_last - left[-2]
    return np.concatenate([[left[0]], inner, [s.size - right_last]]).astype(np.float64)


def coarse(a: np.ndarray, b: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Fine slot counts merged into ``bins`` bins at the reference's (``a``'s) exact
    quantiles; underflow and overflow stay apart."""
    inner = a[1:-1]
    n = inner.sum()
    if inner.size <= bins or n == 0:
        return a, b
    cum = np.cumsum(inner)
    # a coarse bin ends after the first fine bin whose cumulative count reaches j/bins
    cuts = np.searchsorted(cum, n * np.arange(1, bins) / bins, side="left") + 1
    starts = np.unique(np.concatenate([[0], cuts[cuts < inner.size]]))

    def merge(x: np.ndarray) -> np.ndarray:
        return np.concatenate([[x[0]], np.add.reduceat(x[1:-1], starts), [x[-1]]])

    return merge(a), merge(b)


def ks_bounds(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(lower, upper) bounds of the KS statistic of two samples known only by their
    counts in the same slots (underflow, bins, overflow)."""
    pa, pb = a / a.sum(), b / b.sum()
    gaps = np.abs(np.cumsum(pa) - np.cumsum(pb))
    lower = float(gaps.max())
    before = np.concatenate([[0.0], gaps[:-1]])  # the gap at each slot's left end
    upper = float(np.max(before + np.maximum(pa, pb)))
    return lower, min(max(upper, lower), 1.0)


def wasserstein(
    edges: np.ndarray, a: np.ndarray, b: np.ndarray, lo: float, hi: float,
    clip: tuple[float, float] | None = None,
) -> tuple[float, float]:
    """(estimate, bound) of Wasserstein-1 between two samples known by their counts of
    *finite* values in the slots of ``edges``; ``lo``/``hi`` are the smallest and
    largest finite value of both samples (the extent of underflow and overflow).
    With ``clip``, of both samples clipped to that range (values beyond it count at
    its ends)."""
    na, nb = a.sum(), b.sum()
    if na == 0 or nb == 0:
        return math.nan, 0.0
    x = np.concatenate([[min(lo, edges[0])], edges, [max(hi, edges[-1])]])
    if clip is not None:
        x = np.clip(x, *clip)
    pa, pb = a / na, b / nb
    d = np.concatenate([[0.0], np.cumsum(pa) - np.cumsum(pb)])  # F_a - F_b at x
    w = np.diff(x)
    d0, d1 = d[:-1], d[1:]
    same = d0 * d1 >= 0
    area = np.where(
        same,
        0.5 * w * (np.abs(d0) + np.abs(d1)),
        0.5 * w * (d0 * d0 + d1 * d1) / np.where(same, 1.0, np.abs(d0) + np.abs(d1)),
    )
    # Inside a bin each true CDF runs between the same end values as its linear
    # stand-in, so it strays from it by at most the bin's mass times half its width
    # (all the mass at one end) in integral.
    return float(area.sum()), float(np.sum(w * (pa + pb)) / 2)
