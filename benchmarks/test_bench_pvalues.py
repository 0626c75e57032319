"""p-values: driftcore.pvalues against scipy.stats.

Group ``pvalue-kolmogorov``: ``scipy.stats.kstwo.sf(d, n)`` at n = 500,000 and
n d^2 = 10 (p ~ 4e-9), where scipy sums ~n Birnbaum-Tingey terms, against
``driftcore.pvalues.kolmogorov_sf``; the answers agree to 1e-10 relative.

Groups ``pvalue-ks-exact-equal-sizes`` and ``-unequal-sizes``: the two-sample KS test on
10,000 values a side, equal sizes
(10,000 / 10,000) and unequal (10,000 / 9,999: the lattice-path method does the
work), through ``scipy.stats.ks_2samp`` and through driftcore (the exact statistic
from sorted arrays, then ``driftcore.pvalues.ks_2samp_pvalue``), both from unsorted
float64 arrays. The statistics are equal and the p-values agree to 1e-12.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from driftcore import _core, pvalues

KOLMOGOROV_N = 500_000
KOLMOGOROV_D = math.sqrt(10.0 / KOLMOGOROV_N)


@pytest.fixture(scope="module")
def kolmogorov_answer() -> float:
    return float(stats.kstwo.sf(KOLMOGOROV_D, KOLMOGOROV_N))


@pytest.mark.benchmark(group="pvalue-kolmogorov")
def test_kolmogorov_sf_driftcore(measure, kolmogorov_answer):
    p = measure(
        "two_sample",
        pvalues.kolmogorov_sf,
        KOLMOGOROV_D,
        KOLMOGOROV_N,
        impl="driftcore.pvalues.kolmogorov_sf",
        baseline=True,
        items=1,
        n=KOLMOGOROV_N,
        n_d2=10.0,
    )
    assert math.isclose(p, kolmogorov_answer, rel_tol=1e-10, abs_tol=0.0)


@pytest.mark.benchmark(group="pvalue-kolmogorov")
def test_kolmogorov_sf_scipy(measure, kolmogorov_answer):
    p = measure(
        "two_sample",
        stats.kstwo.sf,
        KOLMOGOROV_D,
        KOLMOGOROV_N,
        impl="scipy.stats.kstwo.sf",
        items=1,
        n=KOLMOGOROV_N,
        n_d2=10.0,
    )
    assert float(p) == kolmogorov_answer


# --- two-sample KS, exact method ------------------------------------------------------

KS_SIZES = [(10_000, 10_000), (10_000, 9_999)]


@pytest.fixture(scope="module")
def ks_samples() -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray, float, float]]:
    """(a, b, statistic, p-value) per size pair: N(0, 1) against N(0.03, 1)."""
    rng = np.random.default_rng([20_251_127, 11])
    out = {}
    for n1, n2 in KS_SIZES:
        a, b = rng.standard_normal(n1), rng.normal(0.03, 1.0, n2)
        r = stats.ks_2samp(a, b)
        out[(n1, n2)] = (a, b, float(r.statistic), float(r.pvalue))
    return out


def _driftcore_ks(a: np.ndarray, b: np.ndarray) -> pvalues.KSPValue:
    d = _core.two_sample_sorted(np.sort(a), np.sort(b), True, False)[0]
    return pvalues.ks_2samp_pvalue(d, a.size, b.size)


# One group per size pair, so that each scipy row is compared with its own driftcore row.


def _ks_exact_driftcore(measure, ks_samples, sizes):
    a, b, statistic, pvalue = ks_samples[sizes]
    r = measure(
        "two_sample",
        _driftcore_ks,
        a,
        b,
        impl=f"driftcore sort + pvalues.ks_2samp_pvalue ({sizes[0]}/{sizes[1]})",
        baseline=True,
        items=a.size + b.size,
    )
    assert r.exact and r.statistic == statistic
    assert math.isclose(r.pvalue, pvalue, rel_tol=1e-12, abs_tol=0.0)


def _ks_exact_scipy(measure, ks_samples, sizes):
    a, b, statistic, pvalue = ks_samples[sizes]
    r = measure(
        "two_sample",
        stats.ks_2samp,
        a,
        b,
        impl=f"scipy.stats.ks_2samp ({sizes[0]}/{sizes[1]})",
        items=a.size + b.size,
    )
    assert r.statistic == statistic and r.pvalue == pvalue


@pytest.mark.benchmark(group="pvalue-ks-exact-equal-sizes")
def test_ks_exact_equal_driftcore(measure, ks_samples):
    _ks_exact_driftcore(measure, ks_samples, KS_SIZES[0])


@pytest.mark.benchmark(group="pvalue-ks-exact-equal-sizes")
def test_ks_exact_equal_scipy(measure, ks_samples):
    _ks_exact_scipy(measure, ks_samples, KS_SIZES[0])


@pytest.mark.benchmark(group="pvalue-ks-exact-unequal-sizes")
def test_ks_exact_unequal_driftcore(measure, ks_samples):
    _ks_exact_driftcore(measure, ks_samples, KS_SIZES[1])


@pytest.mark.benchmark(group="pvalue-ks-exact-unequal-sizes")
def test_ks_exact_unequal_scipy(measure, ks_samples):
    _ks_exact_scipy(measure, ks_samples, KS_SIZES[1])
