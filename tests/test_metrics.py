import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

import driftcore
from driftcore import metrics


def ref_props(a, b, smoothing=None):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if smoothing is not None:
        a, b = a + smoothing, b + smoothing
    return a / a.sum(), b / b.sum()


@pytest.mark.parametrize("n1, n2", [(50, 70), (3000, 2000), (20_000, 30_000)])
def test_ks_equals_scipy(rng, n1, n2):
    a, b = rng.normal(size=n1), rng.normal(0.1, 1.2, n2)
    r, s = metrics.ks(a, b), stats.ks_2samp(a, b)
    assert r.statistic == s.statistic
    assert r.pvalue == pytest.approx(s.pvalue, rel=1e-9, abs=1e-300)
    assert r.error_bound == 0


def test_ks_with_ties_and_inf(rng):
    a = np.concatenate([rng.integers(0, 5, 30_000).astype(float), [np.inf, -np.inf]])
    b = rng.integers(0, 6, 25_000).astype(float)
    assert metrics.ks(a, b).statistic == stats.ks_2samp(a, b).statistic


def test_wasserstein_equals_scipy(rng):
    for a, b in [
        (rng.normal(size=10_000), rng.normal(0.3, 2, 7_000)),
        (rng.integers(0, 9, 5000).astype(float), rng.integers(0, 9, 4000).astype(float)),
        (rng.lognormal(0, 2, 3000) * 1e12, rng.lognormal(0, 2, 3000) * 1e12),
    ]:
        w = metrics.wasserstein(a, b)
        assert w.distance == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)
        assert w.normed == pytest.approx(w.distance / np.std(a), rel=1e-9)


def test_two_sample_thread_count_does_not_change_results(rng):
    a, b = rng.normal(size=200_000), rng.normal(0.01, 1, 150_000)
    r1 = (metrics.ks(a, b, threads=1), metrics.wasserstein(a, b, threads=1))
    r2 = (metrics.ks(a, b, threads=2), metrics.wasserstein(a, b, threads=2))
    assert r1 == r2


def test_ks_and_wasserstein_from_sketches_within_bound(rng):
    a, b = rng.normal(size=300_000), rng.normal(0.05, 1.1, 200_000)
    sa, sb = driftcore.QuantileSketch(), driftcore.QuantileSketch()
    sa.update(a)
    sb.update(b)
    exact_ks = stats.ks_2samp(a, b).statistic
    est = metrics.ks(sa, sb)
    assert est.error_bound > 0
    assert abs(est.statistic - exact_ks) <= est.error_bound
    w = metrics.wasserstein(sa, sb)
    assert abs(w.distance - stats.wasserstein_distance(a, b)) <= w.error_bound


def test_binned_metrics_against_float64_references(rng):
    a = rng.integers(0, 50, 8)
    b = rng.integers(0, 50, 8)
    a[3] = 0
    p, q = ref_props(a, b)
    ps, qs = ref_props(a, b, 0.5)
    cats = [str(i) for i in range(8)]
    ref = np.repeat(cats, a)
    cur = np.repeat(cats, b)
    kw = {"categorical": True}
    assert metrics.psi(ref, cur, **kw) == pytest.approx(
        np.sum((qs - ps) * np.log(qs / ps)), rel=1e-12
    )
    assert metrics.kl_divergence(ref, cur, **kw) == pytest.approx(stats.entropy(ps, qs), rel=1e-12)
    assert metrics.js_distance(ref, cur, **kw) == pytest.approx(jensenshannon(p, q), rel=1e-9)
    assert metrics.hellinger(ref, cur, **kw) == pytest.approx(
        np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)), rel=1e-9
    )
    assert metrics.total_variation(ref, cur, **kw) == pytest.approx(0.5 * np.abs(p - q).sum())
    assert metrics.linf(ref, cur, **kw) == pytest.approx(np.abs(p - q).max())
    chi = metrics.chi_square(ref, cur, **kw)
    table = np.vstack([a, b])
    table = table[:, table.sum(0) > 0]
    s = stats.chi2_contingency(table, correction=False)
    assert chi.statistic == pytest.approx(s.statistic, rel=1e-12)
    assert chi.pvalue == pytest.approx(s.pvalue, rel=1e-9)


def test_numeric_binned_metrics_use_reference_quantile_bins(rng):
    a, b = rng.normal(size=20_000), rng.normal(0.5, 1, 20_000)
    ca, _cb = metrics.binned_counts(a, b, bins=10)
    assert ca.size == 12  # underflow, 10 bins, overflow
    assert ca[0] == 0 and ca[-1] == 0 and ca.sum() == a.size
    eps = driftcore.QuantileSketch.rank_error_for(400)
    assert np.all(np.abs(ca[1:-1] - 2000) <= 2 * eps * a.size)
    assert metrics.psi(a, b) > 0.2
    assert metrics.psi(a, a) == 0.0


def test_edge_cases(rng):
    with pytest.raises(ValueError, match="no"):
        metrics.psi(np.array([np.nan, np.nan]), rng.normal(size=10))
    with pytest.raises(ValueError, match="no values"):
        metrics.psi(rng.normal(size=10), np.array([], dtype=float))
    r = metrics.ks(np.array([1.0]), np.array([2.0]))
    assert r.statistic == 1.0
    assert math.isnan(metrics.ks(np.array([np.nan]), np.array([1.0])).statistic)
    const = np.full(1000, 5.0)
    assert metrics.wasserstein(const, const).distance == 0.0
    assert math.isnan(metrics.wasserstein(const, const + 1).normed)  # reference std 0
    assert metrics.psi(const, const) == 0.0
    huge = rng.normal(size=1000) * 1e300
    assert np.isfinite(metrics.ks(huge, huge * 0.5).statistic)
    assert metrics.wasserstein(np.array([0.0, np.inf]), np.array([0.0, 1.0])).distance == np.inf
    assert metrics.chi_square(["a"], ["a"], categorical=True).pvalue == 1.0


def test_bad_input(rng):
    with pytest.raises(ValueError, match="1-D"):
        metrics.ks(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(TypeError, match="dtype"):
        metrics.wasserstein(np.array(["a"]), np.array(["b"]))
    with pytest.raises(TypeError, match="both sides"):
        metrics.ks(driftcore.QuantileSketch(), np.zeros(3))
    h1, h2 = driftcore.Histogram(bins=3, range=(0, 1)), driftcore.Histogram(bins=4, range=(0, 1))
    with pytest.raises(ValueError, match="different edges"):
        metrics.psi(h1, h2)
    with pytest.raises(ValueError, match="smoothing"):
        metrics.psi(["a"], ["b"], categorical=True, smoothing=-1)


def test_real_data_matches_scipy():
    from pathlib import Path

    import pyarrow.parquet as pq

    data = Path(__file__).resolve().parents[1] / "examples" / "data"
    ref = pq.read_table(data / "reference.parquet")
    cur = pq.read_table(data / "current.parquet")
    for name in ("precipitation", "temp_max", "temp_min", "wind"):
        a = ref.column(name).to_numpy()
        b = cur.column(name).to_numpy()
        k, w = metrics.two_sample(a, b)
        s = stats.ks_2samp(a, b)
        assert k.statistic == s.statistic and k.pvalue == pytest.approx(s.pvalue, rel=1e-9)
        assert w.distance == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)


def test_sorted_kernel_refuses_unsorted_or_nan():
    from driftcore import _core

    for bad in (np.array([1.0, np.nan]), np.array([np.nan]), np.array([2.0, 1.0])):
        with pytest.raises(ValueError, match="sorted"):
            _core.two_sample_sorted(bad, np.array([1.0]))


def test_count_vector_helpers_refuse_bad_input():
    with pytest.raises(ValueError, match="aligned"):
        metrics.binned_metrics(np.array([1, 2]), np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="no values"):
        metrics.chi_square_counts(np.zeros(3), np.ones(3))
    s = driftcore.QuantileSketch()
    s.update(np.arange(10.0))
    with pytest.raises(ValueError, match="1-D"):
        s.cdf(np.zeros((2, 2)))


def test_wasserstein_of_huge_finite_values_does_not_overflow(rng):
    big = np.finfo(np.float64).max
    cases = [
        (np.array([-big, big]), np.array([0.0, 1.0])),
        (np.array([-big, 0.0, 1e300]), np.array([1e307, big])),
        (rng.normal(size=50) * 1e306, rng.normal(size=40) * 1e306),
    ]
    for a, b in cases:
        want = stats.wasserstein_distance(a, b)
        got = metrics.wasserstein(a, b).distance
        assert math.isfinite(got) and got == pytest.approx(want, rel=1e-12)
    assert metrics.wasserstein(np.array([-np.inf, 0.0]), np.array([0.0, 1.0])).distance == np.inf


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ([1.0, 2.0, np.inf], [1.0, 2.0, np.inf]),
        ([1.0, 2.0, np.inf], [1.0, 2.0, 3.0]),
        ([-np.inf, 1.0, 2.0], [-np.inf, 1.0, 2.5]),
        ([-np.inf, np.inf], [-np.inf, np.inf]),
        ([np.inf, np.inf], [np.inf]),
        ([-np.inf, 0.0], [np.inf, 0.0]),
        ([np.nan, 1.0, -np.inf], [2.0, np.nan]),
    ],
)
def test_the_device_two_sample_code_follows_the_cpu_kernel_on_infinities(a, b):
    # metrics.two_sample_xp is the GPU path (with cupy); run here with numpy.
    from driftcore.metrics import two_sample_xp

    want = driftcore.metrics._two_sample(np.array(a), np.array(b), 1, "cpu")[:4]
    got = two_sample_xp(np, a, b)
    assert got[2:] == want[2:] and got[0] == pytest.approx(want[0], abs=1e-15)
    assert got[1] == pytest.approx(want[1], rel=1e-12) or (math.isinf(got[1]) and got[1] == want[1])


def test_the_device_two_sample_code_matches_scipy_on_random_data():
    from scipy import stats

    from driftcore.metrics import two_sample_xp

    rng = np.random.default_rng(3)
    a, b = rng.normal(size=3000), rng.standard_t(3, size=2000)
    ks, w, na, nb = two_sample_xp(np, a, b)
    assert (na, nb) == (3000, 2000)
    assert ks == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-15)
    assert w == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-12)
