"""MMD two-sample test against a direct float64 numpy computation, alibi-detect,
calibration under the null, edge cases and bad input."""

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import driftcore
from driftcore import _core
from driftcore import mmd as mmd_module

DATA = Path(__file__).resolve().parents[1] / "examples" / "data"


# --- the float64 numpy reference ------------------------------------------------------------


def kernel_matrix(z, kernel, bws):
    d2 = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    r = d2 if kernel == "rbf" else np.sqrt(d2)
    if kernel == "rbf":
        return np.mean([np.exp(-r / (2 * b * b)) for b in bws], axis=0)
    return np.mean([np.exp(-r / b) for b in bws], axis=0)


def ref_mmd2(x, y, kernel="rbf", bws=(1.0,), estimator="unbiased", in_x=None, K=None):
    """MMD^2 from the full kernel matrix; ``in_x`` marks the x side of the pooled rows."""
    z = np.concatenate([x, y]).astype(np.float64)
    K = kernel_matrix(z, kernel, bws) if K is None else K
    s = np.arange(len(z)) < len(x) if in_x is None else in_x
    kxx, kyy, kxy = K[s][:, s], K[~s][:, ~s], K[s][:, ~s]
    n, m = len(kxx), len(kyy)
    if estimator == "biased":
        return kxx.mean() + kyy.mean() - 2 * kxy.mean()
    return (
        (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
        + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        - 2 * kxy.mean()
    )


def mask_columns(n, m, P, seed):
    masks = _core.mmd_permutation_masks(n, m, P, seed, 0)
    bits = (masks[:, :, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)
    return bits.reshape(n + m, -1)[:, : P + 1].astype(bool)


def close(a, b, rel=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-15)


def weather():
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    cols = ["precipitation", "temp_max", "temp_min", "wind"]
    ref = pd.read_parquet(DATA / "reference.parquet")[cols].to_numpy(np.float64)
    cur = pd.read_parquet(DATA / "current.parquet")[cols].to_numpy(np.float64)
    mu, sd = ref.mean(0), ref.std(0)
    return (ref - mu) / sd, (cur - mu) / sd


# --- the statistic ---------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", ["rbf", "laplacian"])
@pytest.mark.parametrize("estimator", ["unbiased", "biased"])
@pytest.mark.parametrize("shape", [(150, 130, 5), (64, 64, 3), (65, 200, 1), (3, 2, 7)])
def test_statistic_equals_numpy(rng, kernel, estimator, shape):
    n, m, d = shape
    x, y = rng.normal(size=(n, d)), rng.normal(0.3, 1.2, size=(m, d))
    got = driftcore.mmd2(x, y, kernel=kernel, bandwidth=1.7, estimator=estimator)
    assert close(got, ref_mmd2(x, y, kernel, [1.7], estimator))


def test_every_permuted_statistic_equals_numpy(rng):
    n, m, P, seed = 90, 110, 9, 7
    x, y = rng.normal(size=(n, 4)), rng.normal(0.2, 1.0, size=(m, 4))
    r = driftcore.mmd_test(x, y, bandwidth=2.0, n_permutations=P, seed=seed)
    cols = mask_columns(n, m, P, seed)
    assert (cols.sum(axis=0) == n).all() and cols[:n, 0].all()
    assert close(r.mmd2, ref_mmd2(x, y, "rbf", [2.0]))
    z = np.concatenate([x, y])
    for p in range(1, P + 1):
        expected = ref_mmd2(z[cols[:, p]], z[~cols[:, p]], "rbf", [2.0])
        assert close(r.permuted[p - 1], expected)
        assert close(r.permuted[p - 1], ref_mmd2(x, y, "rbf", [2.0], in_x=cols[:, p]))


def test_real_data_seattle_weather():
    ref, cur = weather()
    r = driftcore.mmd_test(ref, cur, n_permutations=200, seed=3)
    assert r.bandwidth_method == "median-exact"
    z = np.concatenate([ref, cur])
    d2 = ((z[:, None] - z[None]) ** 2).sum(-1)[np.triu_indices(len(z), 1)]
    assert close(r.bandwidth, math.sqrt(np.median(d2) / 2))
    assert close(r.mmd2, ref_mmd2(ref, cur, "rbf", [r.bandwidth]))
    # The p-value from numpy statistics on the same splits.
    cols = mask_columns(len(ref), len(cur), 200, 3)
    K = kernel_matrix(z, "rbf", [r.bandwidth])
    perm = [ref_mmd2(ref, cur, in_x=cols[:, p], K=K) for p in range(1, 201)]
    assert r.pvalue == (1 + sum(p >= r.mmd2 for p in perm)) / 201
    # 2015 was warmer: both temperature columns drift (see README), so does the whole.
    assert r.drifted


def test_several_bandwidths_average_the_kernels(rng):
    x, y = rng.normal(size=(70, 3)), rng.normal(0.5, 1, size=(80, 3))
    got = driftcore.mmd2(x, y, bandwidth=[0.5, 1.0, 4.0])
    assert close(got, ref_mmd2(x, y, "rbf", [0.5, 1.0, 4.0]))
    r = driftcore.mmd_test(x, y, bandwidth=2.0, scales=(0.5, 1, 2), n_permutations=10)
    assert r.bandwidth == (1.0, 2.0, 4.0) and r.bandwidth_method == "given"
    assert close(r.mmd2, ref_mmd2(x, y, "rbf", [1.0, 2.0, 4.0]))


def test_float32_input_is_computed_in_float64(rng):
    x = rng.normal(size=(50, 6)).astype(np.float32)
    y = rng.normal(size=(40, 6)).astype(np.float32)
    assert driftcore.mmd2(x, y, bandwidth=1.0) == driftcore.mmd2(
        x.astype(np.float64), y.astype(np.float64), bandwidth=1.0
    )
    assert driftcore.mmd2(x.astype(np.int64), y.astype(np.int64), bandwidth=3.0) == pytest.approx(
        ref_mmd2(x.astype(np.int64), y.astype(np.int64), "rbf", [3.0]), rel=1e-9
    )


def test_linear_time_estimator(rng):
    x, y = rng.normal(size=(1001, 3)), rng.normal(0.4, 1, size=(1200, 3))
    r = driftcore.mmd_test(x, y, bandwidth=1.5, estimator="linear")
    k = lambda a, b: np.exp(-((a - b) ** 2).sum(1) / (2 * 1.5**2))
    x1, x2, y1, y2 = x[0:1000:2], x[1:1000:2], y[0:1000:2], y[1:1000:2]
    h = k(x1, x2) + k(y1, y2) - k(x1, y2) - k(x2, y1)
    assert close(r.mmd2, h.mean())
    from scipy.stats import norm

    assert close(r.pvalue, norm.sf(h.mean() / (h.std(ddof=1) / math.sqrt(500))))
    assert r.drifted and r.n_permutations == 0 and r.permuted.size == 0
    assert driftcore.mmd2(x, y, bandwidth=1.5, estimator="linear") == r.mmd2


# --- bandwidth -------------------------------------------------------------------------------


@pytest.mark.parametrize("N", [2, 3, 4, 100, 101, 3001])
@pytest.mark.parametrize("histogram_only", [False, True])
def test_median_is_exact(rng, N, histogram_only):
    z = rng.normal(size=(N, 3)) * rng.uniform(0.1, 10, size=3)
    med, mean = _core.mmd_median_sq_distance(z, 0, histogram_only)
    d2 = ((z[:, None] - z[None]) ** 2).sum(-1)[np.triu_indices(N, 1)]
    assert close(med, np.median(d2), 1e-14)  # distances may differ from numpy by an ulp (FMA)
    assert close(mean, d2.mean(), 1e-12)


@pytest.mark.parametrize("histogram_only", [False, True])
def test_median_with_many_ties_is_exact(rng, histogram_only):
    # Binary rows: few distinct distances, so the median ties with most pairs.
    z = (rng.random(size=(3001, 6)) < 0.3).astype(np.float64)
    med, _ = _core.mmd_median_sq_distance(z, 0, histogram_only)
    d2 = ((z[:, None] - z[None]) ** 2).sum(-1)[np.triu_indices(len(z), 1)]
    assert med == np.median(d2)


def test_median_subsample_above_the_limit(rng, monkeypatch):
    monkeypatch.setattr(mmd_module, "MEDIAN_EXACT_MAX", 50)
    x, y = rng.normal(size=(80, 2)), rng.normal(size=(70, 2))
    r = driftcore.mmd_test(x, y, n_permutations=5)
    assert r.bandwidth_method == "median-subsample(n=50)"
    z = np.concatenate([x, y])[(np.arange(50) * 150) // 50]
    d2 = ((z[:, None] - z[None]) ** 2).sum(-1)[np.triu_indices(50, 1)]
    assert close(r.bandwidth, math.sqrt(np.median(d2) / 2))


def test_laplacian_median_is_the_median_distance(rng):
    x = rng.normal(size=(31, 2))
    bw, method = mmd_module.median_bandwidth(x, kernel="laplacian")
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))[np.triu_indices(31, 1)]
    assert close(bw, np.median(d)) and method == "median-exact"


# --- the test ----------------------------------------------------------------------------------


def test_pvalue_threshold_and_verdict_are_consistent(rng):
    for shift in (0.0, 0.15, 1.0):
        x, y = rng.normal(size=(60, 2)), rng.normal(shift, 1, size=(60, 2))
        r = driftcore.mmd_test(x, y, n_permutations=99, alpha=0.1)
        assert r.pvalue == (1 + np.count_nonzero(r.permuted >= r.mmd2)) / 100
        assert 0 < r.pvalue <= 1
        assert r.drifted == (r.pvalue <= 0.1) == (r.mmd2 > r.threshold)
        assert r.threshold == np.sort(r.permuted)[::-1][9]
    r = driftcore.mmd_test(x, y, n_permutations=10, alpha=0.05)  # too few for 5%
    assert r.threshold == math.inf and not r.drifted and r.pvalue >= 1 / 11


def test_same_seed_same_answer_whatever_the_threads(rng):
    x, y = rng.normal(size=(300, 8)), rng.normal(0.05, 1, size=(250, 8))
    one = driftcore.mmd_test(x, y, n_permutations=50, seed=11, threads=1)
    two = driftcore.mmd_test(x, y, n_permutations=50, seed=11, threads=2)
    assert one.mmd2 == two.mmd2 and one.bandwidth == two.bandwidth
    assert np.array_equal(one.permuted, two.permuted) and one.pvalue == two.pvalue
    other = driftcore.mmd_test(x, y, n_permutations=50, seed=12, threads=2)
    assert other.mmd2 == one.mmd2 and not np.array_equal(other.permuted, one.permuted)
    m1, _ = _core.mmd_median_sq_distance(np.concatenate([x, y]), 1)
    m2, _ = _core.mmd_median_sq_distance(np.concatenate([x, y]), 2)
    assert m1 == m2


def test_portable_and_vectorized_kernels_agree(rng, portable):
    # The one switch reaches the MMD tiles: the portable copy runs and gives the
    # vectorized statistics to the last few bits, and the same permutation p-value.
    x, y = rng.normal(size=(300, 6)), rng.normal(0.1, 1, size=(260, 6))
    fast = driftcore.mmd_test(x, y, n_permutations=100, seed=3)
    with portable():
        slow = driftcore.mmd_test(x, y, n_permutations=100, seed=3)
    assert slow.bandwidth == fast.bandwidth and slow.pvalue == fast.pvalue
    assert np.allclose(slow.permuted, fast.permuted, rtol=1e-12, atol=1e-15)
    assert slow.mmd2 == pytest.approx(fast.mmd2, rel=1e-12)


def test_permutation_masks_are_fixed_by_the_seed():
    a = _core.mmd_permutation_masks(500, 300, 130, 99, 1)
    assert np.array_equal(a, _core.mmd_permutation_masks(500, 300, 130, 99, 2))
    cols = mask_columns(500, 300, 130, 99)
    assert (cols.sum(0) == 500).all()
    # Splits look uniform: each point lands on the x side about 5/8 of the time.
    share = cols[:, 1:].mean(1)
    assert abs(share.mean() - 0.625) < 1e-12 and share.std() < 0.08


@pytest.mark.slow
def test_calibration_under_the_null():
    rng = np.random.default_rng(5)
    reps, rejections = 1000, 0
    for rep in range(reps):
        x, y = rng.normal(size=(40, 2)), rng.normal(size=(40, 2))
        rejections += driftcore.mmd_test(x, y, n_permutations=100, seed=rep).pvalue <= 0.05
    assert 0.03 <= rejections / reps <= 0.07
    lin = [
        driftcore.mmd_test(
            rng.normal(size=(400, 2)), rng.normal(size=(400, 2)), bandwidth=1.0, estimator="linear"
        ).drifted
        for _ in range(1000)
    ]
    assert 0.03 <= np.mean(lin) <= 0.07


def test_power_on_a_mean_shift():
    rng = np.random.default_rng(6)
    hits = [
        driftcore.mmd_test(
            rng.normal(size=(100, 5)), rng.normal(0.5, 1, size=(100, 5)), n_permutations=100, seed=s
        ).drifted
        for s in range(40)
    ]
    assert np.mean(hits) >= 0.95


# --- edge cases ------------------------------------------------------------------------------


def test_identical_samples(rng):
    x = rng.normal(size=(40, 3))
    r = driftcore.mmd_test(x, x.copy(), n_permutations=100)
    assert close(r.mmd2, ref_mmd2(x, x, "rbf", [r.bandwidth]))
    assert r.mmd2 < 0 and r.pvalue > 0.5 and not r.drifted
    assert abs(driftcore.mmd2(x, x, bandwidth=1.0, estimator="biased")) < 1e-15


def test_all_points_equal():
    x = np.ones((10, 3))
    r = driftcore.mmd_test(x, np.ones((12, 3)), n_permutations=20)
    assert r.bandwidth_method == "median-exact+unit-fallback" and r.bandwidth == 1.0
    assert r.mmd2 == 0.0 and r.pvalue == 1.0 and not r.drifted


def test_mostly_duplicates_fall_back_to_the_mean(rng):
    x = np.zeros((30, 2))
    x[:3] = rng.normal(size=(3, 2))
    bw, method = mmd_module.median_bandwidth(x)
    d2 = ((x[:, None] - x[None]) ** 2).sum(-1)[np.triu_indices(30, 1)]
    assert method == "median-exact+mean-fallback" and close(bw, math.sqrt(d2.mean() / 2))


def test_two_points_a_side_and_d_1(rng):
    x, y = rng.normal(size=(2, 1)), rng.normal(size=(2, 1))
    r = driftcore.mmd_test(x, y, n_permutations=10)
    assert close(r.mmd2, ref_mmd2(x, y, "rbf", [r.bandwidth]))


def test_huge_d(rng):
    x, y = rng.normal(size=(9, 20_000)), rng.normal(0.01, 1, size=(7, 20_000))
    got = driftcore.mmd2(x, y, bandwidth=150.0, kernel="laplacian")
    assert close(got, ref_mmd2(x, y, "laplacian", [150.0]))


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "error", "match"),
    [
        (np.ones((5, 2)), np.ones((5, 3)), {}, ValueError, "same number of features"),
        (np.ones(5), np.ones((5, 1)), {}, ValueError, "x must be a 2-D array"),
        (np.ones((5, 1)), np.ones((5, 1, 1)), {}, ValueError, "y must be a 2-D array"),
        (np.ones((1, 2)), np.ones((5, 2)), {}, ValueError, "x needs at least 2 rows"),
        (np.ones((5, 2)), np.ones((0, 2)), {}, ValueError, "y needs at least 2 rows"),
        (np.ones((5, 0)), np.ones((5, 0)), {}, ValueError, "no features"),
        (np.array([[1.0], [np.nan]]), np.ones((5, 1)), {}, ValueError, "x contains NaN"),
        (
            np.ones((5, 1)),
            np.array([[1.0], [2.0], [np.inf]]),
            {},
            ValueError,
            r"y contains NaN or infinite values \(first in row 2\)",
        ),
        (np.ones((5, 1), bool), np.ones((5, 1)), {}, TypeError, "float or integer"),
        (np.ones((5, 1)), np.ones((5, 1)), {"bandwidth": 0.0}, ValueError, "positive"),
        (np.ones((5, 1)), np.ones((5, 1)), {"bandwidth": -1.0}, ValueError, "positive"),
        (np.ones((5, 1)), np.ones((5, 1)), {"bandwidth": [1.0, np.nan]}, ValueError, "positive"),
        (np.ones((5, 1)), np.ones((5, 1)), {"bandwidth": "mean"}, ValueError, "'median'"),
        (np.ones((5, 1)), np.ones((5, 1)), {"scales": (0.0,)}, ValueError, "scales"),
        (np.ones((5, 1)), np.ones((5, 1)), {"n_permutations": 0}, ValueError, "n_permutations"),
        (np.ones((5, 1)), np.ones((5, 1)), {"n_permutations": 2.5}, TypeError, "n_permutations"),
        (np.ones((5, 1)), np.ones((5, 1)), {"kernel": "poly"}, ValueError, "kernel"),
        (np.ones((5, 1)), np.ones((5, 1)), {"estimator": "mle"}, ValueError, "estimator"),
        (np.ones((5, 1)), np.ones((5, 1)), {"alpha": 1.5}, ValueError, "alpha"),
        (np.ones((5, 1)), np.ones((5, 1)), {"seed": -1}, ValueError, "seed"),
        (np.ones((5, 1)), np.ones((5, 1)), {"threads": 0}, ValueError, "threads"),
    ],
)
def test_bad_input_names_the_problem(x, y, kwargs, error, match):
    with pytest.raises(error, match=match):
        driftcore.mmd_test(x, y, **kwargs)


def test_core_refuses_bad_calls():
    z = np.ones((4, 2))
    masks = _core.mmd_permutation_masks(2, 2, 3, 0, 0)
    with pytest.raises(ValueError, match="bandwidth"):
        _core.mmd_permutation_sums(z, "rbf", [0.0], masks, 4)
    with pytest.raises(ValueError, match="masks"):
        _core.mmd_permutation_sums(z, "rbf", [1.0], masks, 70)
    with pytest.raises(ValueError, match="kernel"):
        _core.mmd_permutation_sums(z, "cosine", [1.0], masks, 4)
    with pytest.raises(ValueError, match="at least 2"):
        _core.mmd_median_sq_distance(np.ones((1, 2)))


def test_gpu_request_without_cuda_is_explained(rng):
    if driftcore.gpu_available():
        pytest.skip("a GPU is available here")
    with pytest.raises(RuntimeError, match="GPU|CUDA"):
        driftcore.mmd_test(rng.normal(size=(5, 2)), rng.normal(size=(5, 2)), device="gpu")


# --- alibi-detect (optional peer) -------------------------------------------------------------


def test_agrees_with_alibi_detect(rng):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alibi_cd = pytest.importorskip("alibi_detect.cd")
        pytest.importorskip("torch")
        x, y = rng.normal(size=(300, 6)), rng.normal(0.1, 1.1, size=(250, 6))
        ref, cur = weather()
        for a, b in ((x, y), (ref, cur)):
            sigma = mmd_module.median_bandwidth(a, b)[0]
            detector = alibi_cd.MMDDrift(
                a, backend="pytorch", device="cpu", n_permutations=20, sigma=np.array([sigma])
            )
            theirs = detector.predict(b)["data"]["distance"]
            ours = driftcore.mmd2(a, b, bandwidth=sigma)
            assert math.isclose(ours, theirs, rel_tol=1e-5)


def test_many_permutations_span_several_column_chunks(rng):
    # 300 permutations: three chunks of 128 columns in the C++ pass.
    x, y = rng.normal(size=(40, 2)), rng.normal(0.3, 1, size=(50, 2))
    r = driftcore.mmd_test(x, y, bandwidth=1.0, n_permutations=300, seed=5)
    cols = mask_columns(40, 50, 300, 5)
    K = kernel_matrix(np.concatenate([x, y]), "rbf", [1.0])
    for p in (1, 127, 128, 129, 255, 256, 300):
        assert close(r.permuted[p - 1], ref_mmd2(x, y, in_x=cols[:, p], K=K))
    assert close(r.mmd2, ref_mmd2(x, y, K=K))
