"""Two samples known by their counts in the same slots (underflow, the bins of a
partition of the line, overflow): the bounds and metrics such counts allow.

Value grids (:class:`~driftcore.ValueGrid`) give such counts, exactly, for both
sides of a comparison once aligned on the coarser grid:

* **KS**: the two empirical CDFs are known exactly at every edge, so the largest gap
  there is a lower bound of the KS statistic, and the largest gap plus the largest
  slot mass an upper bound. The lower bound's p-value is never smaller than the exact
  p-value (a conservative test).
* **Wasserstein-1**: the integral of |F_a - F_b| with both CDFs linear inside each
  slot, and a bound from the slot masses times half the slot widths.
* **PSI and the other binned metrics**: the slots merged into ``bins`` bins at the
  reference's quantiles (:func:`coarse`).
"""

from __future__ import annotations

import math

import numpy as np


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
    lower = min(float(gaps.max()), 1.0)  # cumulative sums may pass 1 by a rounding
    before = np.concatenate([[0.0], gaps[:-1]])  # the gap at each slot's left end
    upper = float(np.max(before + np.maximum(pa, pb)))
    return lower, min(max(upper, lower), 1.0)


def wasserstein(
    edges: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    lo: float,
    hi: float,
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
