"""driftcore.pvalues against scipy.stats (the reference; driftcore never calls it).

Relative error <= 1e-10 wherever scipy's value exceeds 1e-300, absolute 1e-300 below.
The Kolmogorov grid reaches every branch scipy's kstwo.sf takes; the few points where
scipy itself needs seconds (its O(n) Smirnov sum at n = 5e5 and 1e6) are compared with
values it produced once, listed below, plus one live call.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from driftcore import _core, pvalues

RTOL = 1e-10
TINY = 1e-300


def assert_close(got, want, rtol=RTOL, what=""):
    got, want = np.broadcast_arrays(np.asarray(got, float), np.asarray(want, float))
    assert np.array_equal(np.isnan(got), np.isnan(want)), what
    ok = ~np.isnan(want)
    g, w = got[ok], want[ok]
    big = w > TINY
    rel = np.abs(g[big] - w[big]) / w[big]
    assert np.all(rel <= rtol), f"{what}: max relative error {rel.max():.3g}"
    assert np.all(np.abs(g[~big] - w[~big]) <= TINY), what


# --- Kolmogorov: scipy.stats.kstwo.sf -------------------------------------------------

NS = [1, 2, 5, 10, 50, 100, 140, 141, 500, 1000, 10**4, 10**5, 10**5 + 1, 10**6 + 1, 10**7]
# n d^2: around scipy's cutoffs 0.754693 (Durbin / Pomeranz, n <= 140), 2.2 (1 - CDF /
# 2 * smirnov), 4 (Pomeranz / smirnov), 18 and 370 (exact 0), and between them.
ND2 = [
    0.01,
    0.1,
    0.5,
    0.75,
    0.7547,
    1.0,
    1.5,
    2.19,
    2.2,
    2.21,
    3.9,
    4.0,
    4.1,
    10.0,
    17.9,
    18.0,
    18.1,
    100.0,
    300.0,
    350.0,
    369.0,
    370.0,
    371.0,
]


def kolmogorov_grid(n: int) -> list[float]:
    ds = [math.sqrt(q / n) for q in ND2]
    ds += [t / n for t in (0.25, 0.5, 0.5000001, 0.75, 1.0, 1.0000001, 1.5, 2.5)]  # n d <= 1
    ds += [(n - t) / n for t in (1.5, 1.0, 0.5)]  # n d >= n - 1
    ds += [0.3, 0.49, 0.5, 0.6, 0.9, 0.999]  # d >= 1/2: 2 * smirnov
    if n <= 10**5:  # Durbin's matrix up to n d^1.5 = 1.4
        b = (1.4 / n) ** (2 / 3)
        ds += [0.999 * b, b, 1.001 * b]
    return sorted(d for d in ds if 0.0 < d < 1.0)


@pytest.mark.parametrize("n", NS)
def test_kolmogorov_sf_matches_scipy(n):
    ds = np.array(kolmogorov_grid(n))
    if n == 10**5:  # scipy's Durbin at its largest costs 0.3 s a call: two of them
        b = (1.4 / n) ** (2 / 3)
        ds = ds[(ds < 0.9 * b) | (ds == b) | (ds > 1.01 * b)]
    want = stats.kstwo.sf(ds, n)
    got = np.array([_core.kolmogorov_sf(d, n) for d in ds])
    assert_close(got, want, what=f"n={n}")
    assert_close(pvalues.kolmogorov_sf(ds, n), want, what=f"n={n} (array)")


# scipy.stats.kstwo.sf(sqrt(q / n), n) from scipy 1.17.1: (n, q, value). scipy sums
# ~n terms for each (0.4 s at n = 5e5, 0.8 s at 1e6).
SCIPY_SLOW = [
    (500000, 2.2, 0.024520308668838104),
    (500000, 2.21, 0.02403469699664026),
    (500000, 4.0, 0.0006696541930169697),
    (500000, 10.0, 4.109706332756987e-09),
    (500000, 18.0, 4.619269692908277e-16),
    (500000, 100.0, 2.7177943016192832e-87),
    (500000, 350.0, 1.73803435314173e-304),
    (1000000, 2.2, 0.024530382692940323),
    (1000000, 2.21, 0.024044594231805338),
    (1000000, 4.0, 0.0006700277103670718),
    (1000000, 10.0, 4.1134612426882296e-09),
    (1000000, 18.0, 4.625313830205089e-16),
    (1000000, 100.0, 2.7373304415481205e-87),
    (1000000, 350.0, 1.8445637918958217e-304),
]


@pytest.mark.parametrize(("n", "q", "want"), SCIPY_SLOW)
def test_kolmogorov_sf_large_n_recorded(n, q, want):
    assert_close(_core.kolmogorov_sf(math.sqrt(q / n), n), want, what=f"n={n} nd2={q}")


@pytest.mark.parametrize("n", [500000, 1000000])
def test_kolmogorov_sf_large_n_cheap_branches(n):
    # Everything at these n except the Smirnov sum is cheap in scipy too.
    ds = np.array([d for d in kolmogorov_grid(n) if not 2.2 <= n * d * d < 354])
    assert_close([_core.kolmogorov_sf(d, n) for d in ds], stats.kstwo.sf(ds, n), what=f"n={n}")


def test_kolmogorov_sf_smirnov_sum_live():
    n, d = 500000, math.sqrt(10.0 / 500000)
    assert_close(_core.kolmogorov_sf(d, n), stats.kstwo.sf(d, n))


def test_kolmogorov_sf_random_points():
    rng = np.random.default_rng(20260301)
    n = rng.integers(1, 20000, 300)
    d = np.sqrt(rng.uniform(0, 40, n.size) / n)
    d = np.where(rng.random(n.size) < 0.2, rng.random(n.size), d)
    assert_close(pvalues.kolmogorov_sf(d, n), stats.kstwo.sf(d, n))


def test_kolmogorov_sf_edges():
    f = _core.kolmogorov_sf
    assert f(0.0, 10) == 1.0 and f(-1.0, 10) == 1.0 and f(0.05, 10) == 1.0  # d <= 1/(2n)
    assert f(1.0, 10) == 0.0 and f(2.0, 10) == 0.0 and f(math.inf, 10) == 0.0
    assert f(-math.inf, 10) == 1.0
    assert f(0.7, 1) == pytest.approx(stats.kstwo.sf(0.7, 1), rel=1e-15)  # 2 (1 - d)
    for bad in (math.nan, 0.0, -3.0, 2.5, math.inf):
        assert math.isnan(f(0.3, bad))
    assert math.isnan(f(math.nan, 10))
    with pytest.raises(ValueError, match="whole number"):
        pvalues.kolmogorov_sf(0.3, 2.5)
    with pytest.raises(ValueError, match="whole number"):
        pvalues.kolmogorov_sf([0.3, 0.4], [10, 0])
    assert math.isnan(pvalues.kolmogorov_sf(math.nan, 10))


def test_kolmogorov_sf_array_forms():
    d = np.linspace(0, 1, 12).reshape(3, 4)
    got = pvalues.kolmogorov_sf(d, 77)
    assert got.shape == (3, 4) and got.dtype == np.float64
    assert np.array_equal(got, np.vectorize(_core.kolmogorov_sf)(d, 77.0))
    assert pvalues.kolmogorov_sf(d[0], [[10], [20]]).shape == (2, 4)
    assert isinstance(pvalues.kolmogorov_sf(0.1, 100), float)
    with pytest.raises(ValueError, match="1-D"):
        _core.kolmogorov_sf_many(np.zeros(3), np.zeros(4))


# --- two-sample KS: scipy.stats.ks_2samp --------------------------------------------

SIZES = [
    (1, 1),
    (1, 7),
    (5, 5),
    (8, 12),
    (30, 45),
    (100, 100),
    (257, 300),
    (1000, 999),
    (3000, 4500),
    (10000, 10000),
    (10000, 9999),
    (10000, 7),
    (10001, 10001),
    (10001, 500),
    (20000, 30000),
    (200000, 100000),
]


def _raw_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """The statistic before scipy rounds it onto the lattice (what a caller has)."""
    return float(_core.two_sample_sorted(np.sort(a), np.sort(b), True, False)[0])


@pytest.mark.parametrize(("n1", "n2"), SIZES)
def test_ks_2samp_pvalue_matches_scipy(n1, n2):
    rng = np.random.default_rng([n1, n2])
    big = max(n1, n2) >= 9999
    for shift, ties in [(0.0, False), (0.1, True), (0.4, False)] if not big else [(0.02, True)]:
        a = rng.standard_normal(n1)
        b = rng.standard_normal(n2) + shift
        if ties:
            a, b = np.round(a, 1), np.round(b, 1)
        want = stats.ks_2samp(a, b)
        st_, p, exact = _core.ks_2samp_pvalue(n1, n2, _raw_statistic(a, b))
        assert st_ == want.statistic
        assert exact == (max(n1, n2) <= 10000)
        assert_close(p, want.pvalue, rtol=1e-12 if exact else RTOL, what=f"{n1}, {n2}")
        r = pvalues.ks_2samp_pvalue(_raw_statistic(a, b), n1, n2)
        assert (r.statistic, r.pvalue, r.exact) == (st_, p, exact)


@pytest.mark.parametrize(("n", "h"), [(5, 1), (30, 1), (60, 2), (69, 2)])
def test_ks_2samp_pvalue_follows_scipys_fallback(n, h):
    # scipy's exact sum rounds to just above 1 here; it warns and uses kstwo.sf.
    a = np.arange(n, dtype=float)
    b = a + h - 0.5
    with pytest.warns(RuntimeWarning, match="Exact calculation unsuccessful"):
        want = stats.ks_2samp(a, b)
    st_, p, exact = _core.ks_2samp_pvalue(n, n, _raw_statistic(a, b))
    assert not exact
    assert st_ == want.statistic
    assert_close(p, want.pvalue)


def test_ks_2samp_pvalue_disjoint_and_identical():
    a = np.arange(800.0)
    for b, d in [(a[:777] + 1000.0, 1.0), (a[::-1].copy(), 0.0)]:
        want = stats.ks_2samp(a, b)
        r = pvalues.ks_2samp_pvalue(d, 800, b.size)
        assert r.statistic == want.statistic and r.exact
        assert_close(r.pvalue, want.pvalue)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=40),
    st.lists(st.integers(-5, 5), min_size=1, max_size=40),
)
def test_ks_2samp_pvalue_small_samples_property(a, b):
    a, b = np.array(a, float), np.array(b, float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's fallback warning
        want = stats.ks_2samp(a, b)
    st_, p, _ = _core.ks_2samp_pvalue(a.size, b.size, _raw_statistic(a, b))
    assert st_ == want.statistic
    assert_close(p, want.pvalue)


def test_ks_pvalue_and_validation():
    assert pvalues.ks_pvalue(0.5, 3, 4) == stats.ks_2samp([1.0, 2, 3], [1.5, 2.5, 3.5, 4.5]).pvalue
    assert math.isnan(pvalues.ks_pvalue(math.nan, 10, 10))
    assert math.isnan(pvalues.ks_pvalue(0.3, 0, 10))
    assert pvalues.ks_pvalue(0.3, np.int64(10), 12.0) == pvalues.ks_pvalue(0.3, 10, 12)
    for bad in (-1, 2.5, math.inf, math.nan):
        with pytest.raises(ValueError, match="n_ref"):
            pvalues.ks_pvalue(0.3, bad, 10)
    for bad in ("3", True, None):
        with pytest.raises(TypeError, match="n_ref must be an integer"):
            pvalues.ks_pvalue(0.3, bad, 10)
    with pytest.raises(ValueError, match="n_cur must be >= 0"):
        pvalues.ks_pvalue(0.3, 10, -4)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"statistic must be in \[0, 1\]"):
            pvalues.ks_pvalue(bad, 10, 10)
    assert math.isnan(_core.ks_2samp_pvalue(0, 5, 0.3)[1])
    assert math.isnan(_core.ks_2samp_pvalue(5, 5, 1.5)[1])


# --- chi-square and normal tails ----------------------------------------------------


def test_chi2_sf_matches_scipy():
    rng = np.random.default_rng(7)
    dof = np.concatenate(
        [
            np.arange(1.0, 41.0),
            [99.5, 150, 200, 1000, 5000, 9999, 10000],
            rng.uniform(1, 1e4, 40),
            rng.uniform(0.05, 1, 5),
        ]
    )
    for k in dof:
        x = np.concatenate([np.geomspace(1e-8, 1e5, 60), k * np.linspace(0.5, 2.0, 31)])
        assert_close(pvalues.chi2_sf(x, k), stats.chi2.sf(x, k), what=f"dof={k}")


def test_chi2_sf_against_high_precision():
    # Where scipy's own error reaches ~1e-11 (far tail, thousands of dof) this is
    # within 1e-12 of the true value.
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    for dof, x in [
        (9471.459490993606, 14207.189236490409),
        (3.0, 0.5),
        (1.0, 1e-8),
        (10.0, 80.0),
        (5000.0, 5000.0),
        (5000.0, 4700.0),
        (0.5, 700.0),
    ]:
        want = mpmath.gammainc(mpmath.mpf(dof) / 2, mpmath.mpf(x) / 2, mpmath.inf, regularized=True)
        assert _core.chi2_sf(x, dof) == pytest.approx(float(want), rel=1e-12, abs=0)


def test_chi2_sf_edges():
    f = _core.chi2_sf
    assert f(0.0, 3) == 1.0 and f(-2.0, 3) == 1.0 and f(math.inf, 3) == 0.0
    assert f(math.inf, math.inf) == stats.chi2.sf(math.inf, math.inf)
    assert f(5.0, math.inf) == stats.chi2.sf(5.0, math.inf) == 1.0
    assert f(1e-300, 1.0) == pytest.approx(stats.chi2.sf(1e-300, 1.0), rel=1e-15)
    for bad in (0.0, -1.0, math.nan):
        assert math.isnan(f(1.0, bad))
    assert math.isnan(f(math.nan, 2.0))
    with pytest.raises(ValueError, match="dof must be > 0"):
        pvalues.chi2_sf(1.0, 0)
    with pytest.raises(ValueError, match="dof must be > 0"):
        pvalues.chi2_sf([1.0, 2.0], [3.0, math.nan])
    assert math.isnan(pvalues.chi2_sf(math.nan, 2))
    assert pvalues.chi2_sf([[1.0], [2.0]], [1, 2, 3]).shape == (2, 3)


def test_normal_sf_matches_scipy():
    z = np.concatenate([np.linspace(-40, 40, 4001), [0.0, -0.0, 1e-300, 37.5, 38.4]])
    assert_close(pvalues.normal_sf(z), stats.norm.sf(z), rtol=1e-12)
    assert pvalues.normal_sf(math.inf) == 0.0 and pvalues.normal_sf(-math.inf) == 1.0
    assert math.isnan(pvalues.normal_sf(math.nan))
    assert isinstance(pvalues.normal_sf(1.0), float)
    assert pvalues.normal_sf(np.zeros((2, 2))).shape == (2, 2)
