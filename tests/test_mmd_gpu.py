"""MMD on the GPU against the CPU kernels. Marked ``gpu``: skipped where no CUDA device
is usable. (Written without a GPU at hand: unverified until run on one.)"""

import math

import numpy as np
import pytest

import driftcore

pytestmark = pytest.mark.gpu


@pytest.fixture
def cp():
    return pytest.importorskip("cupy")


@pytest.mark.parametrize("kernel", ["rbf", "laplacian"])
@pytest.mark.parametrize("estimator", ["unbiased", "biased"])
@pytest.mark.parametrize("shape", [(2000, 1800, 32), (100, 37, 5), (129, 64, 70)])
def test_same_statistic_and_pvalue(cp, rng, kernel, estimator, shape):
    n, m, d = shape
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = rng.normal(0.2, 1.0, size=(m, d)).astype(np.float32)
    cpu = driftcore.mmd_test(x, y, kernel=kernel, estimator=estimator, n_permutations=100, seed=4)
    gpu = driftcore.mmd_test(
        cp.asarray(x), cp.asarray(y), kernel=kernel, estimator=estimator, n_permutations=100, seed=4
    )
    assert gpu.device == "gpu" and cpu.device == "cpu"
    assert gpu.bandwidth == cpu.bandwidth  # the median is computed on the host
    assert math.isclose(gpu.mmd2, cpu.mmd2, rel_tol=1e-5)
    assert np.allclose(gpu.permuted, cpu.permuted, rtol=1e-5, atol=1e-7)
    assert gpu.pvalue == cpu.pvalue


def test_null_statistic_and_several_bandwidths(cp, rng):
    x = rng.normal(size=(3000, 16)).astype(np.float32)
    y = rng.normal(size=(3000, 16)).astype(np.float32)
    kw = {"bandwidth": 3.0, "scales": (0.5, 1.0, 2.0), "n_permutations": 200, "seed": 9}
    cpu = driftcore.mmd_test(x, y, **kw)
    gpu = driftcore.mmd_test(x, y, device="gpu", **kw)
    assert math.isclose(gpu.mmd2, cpu.mmd2, rel_tol=1e-5, abs_tol=1e-9)
    assert gpu.pvalue == cpu.pvalue


def test_gpu_results_are_deterministic(cp, rng):
    x = cp.asarray(rng.normal(size=(1000, 8)))
    y = cp.asarray(rng.normal(size=(900, 8)))
    a = driftcore.mmd_test(x, y, seed=1)
    b = driftcore.mmd_test(x, y, seed=1)
    assert a.mmd2 == b.mmd2 and np.array_equal(a.permuted, b.permuted)


def test_streaming_update_on_the_gpu_matches_the_cpu(cp, rng):
    x, y = rng.normal(size=(5000, 6)), rng.normal(0.3, 1, size=(4000, 6))
    cpu = driftcore.StreamingMMD(2.0, n_features=256)
    gpu = driftcore.StreamingMMD(2.0, n_features=256)
    cpu.update(x=x, y=y)
    gpu.update(x=cp.asarray(x), y=cp.asarray(y))
    assert gpu.n == cpu.n
    assert np.allclose(gpu._sums, cpu._sums, rtol=1e-9, atol=1e-8)
    assert math.isclose(gpu.result().mmd2, cpu.result().mmd2, rel_tol=1e-6)


@pytest.mark.parametrize("kernel", ["rbf", "laplacian"])
@pytest.mark.parametrize("estimator", ["unbiased", "biased"])
def test_mmd2_on_the_device(cp, rng, kernel, estimator):
    x = rng.normal(size=(700, 9)).astype(np.float32)
    y = rng.normal(0.3, 1.0, size=(500, 9)).astype(np.float32)
    cpu = driftcore.mmd2(x, y, kernel=kernel, estimator=estimator, bandwidth=2.0)
    gpu = driftcore.mmd2(
        cp.asarray(x), cp.asarray(y), kernel=kernel, estimator=estimator, bandwidth=2.0
    )
    assert math.isclose(gpu, cpu, rel_tol=1e-5)


@pytest.mark.parametrize("permutations", [10, 63, 1023, 1500])
def test_permutation_columns_below_at_and_beyond_one_launch(cp, rng, permutations):
    # 11 and 64 columns (under one mask word), 1,024 (one launch), 1,501 (two launches).
    x = rng.normal(size=(300, 4)).astype(np.float32)
    y = rng.normal(0.2, 1.0, size=(250, 4)).astype(np.float32)
    kw = {"n_permutations": permutations, "seed": 2, "bandwidth": 1.5}
    cpu = driftcore.mmd_test(x, y, **kw)
    gpu = driftcore.mmd_test(cp.asarray(x), cp.asarray(y), **kw)
    assert len(gpu.permuted) == permutations
    assert np.allclose(gpu.permuted, cpu.permuted, rtol=1e-5, atol=1e-7)
    assert gpu.pvalue == cpu.pvalue


def test_eight_bandwidths_and_laplacian_scales(cp, rng):
    x = rng.normal(size=(400, 6)).astype(np.float32)
    y = rng.normal(size=(380, 6)).astype(np.float32) * 1.2
    for kernel, bws in (("rbf", [0.25 * 2**k for k in range(8)]), ("laplacian", [0.5, 1.0, 4.0])):
        cpu = driftcore.mmd_test(x, y, kernel=kernel, bandwidth=bws, seed=3)
        gpu = driftcore.mmd_test(cp.asarray(x), cp.asarray(y), kernel=kernel, bandwidth=bws, seed=3)
        assert math.isclose(gpu.mmd2, cpu.mmd2, rel_tol=1e-5)
        assert gpu.pvalue == cpu.pvalue


def test_very_many_dimensions(cp, rng):
    x = rng.normal(size=(200, 3000)).astype(np.float32)
    y = rng.normal(0.05, 1.0, size=(150, 3000)).astype(np.float32)
    cpu = driftcore.mmd_test(x, y, seed=1)
    gpu = driftcore.mmd_test(cp.asarray(x), cp.asarray(y), seed=1)
    assert math.isclose(gpu.mmd2, cpu.mmd2, rel_tol=1e-5)
    assert gpu.pvalue == cpu.pvalue


def test_linear_estimator_runs_on_the_device(cp, rng):
    x, y = rng.normal(size=(20_000, 5)), rng.normal(0.1, 1.0, size=(20_000, 5))
    cpu = driftcore.mmd_test(x, y, estimator="linear", bandwidth=2.0)
    gpu = driftcore.mmd_test(cp.asarray(x), cp.asarray(y), estimator="linear", bandwidth=2.0)
    assert gpu.device == "gpu" and cpu.device == "cpu"
    assert math.isclose(gpu.mmd2, cpu.mmd2, rel_tol=1e-9)
    assert gpu.pvalue == pytest.approx(cpu.pvalue, rel=1e-6)


def test_a_non_default_stream(cp, rng):
    x = rng.normal(size=(500, 7)).astype(np.float32)
    y = rng.normal(size=(450, 7)).astype(np.float32)
    cpu = driftcore.mmd_test(x, y, seed=5)
    with cp.cuda.Stream(non_blocking=True):
        gpu = driftcore.mmd_test(cp.asarray(x), cp.asarray(y), seed=5)
    assert np.allclose(gpu.permuted, cpu.permuted, rtol=1e-5, atol=1e-7)


def test_permutation_test_time_is_printed(cp, rng, capsys):
    import time

    x = cp.asarray(rng.normal(size=(50_000, 64)).astype(np.float32))
    y = cp.asarray(rng.normal(size=(50_000, 64)).astype(np.float32))
    driftcore.mmd_test(x[:500], y[:500], n_permutations=10)
    t0 = time.perf_counter()
    r = driftcore.mmd_test(x, y, n_permutations=100, bandwidth=8.0)
    seconds = time.perf_counter() - t0
    pairs = (x.shape[0] + y.shape[0]) ** 2 / 2
    with capsys.disabled():
        print(
            f"\nMMD n = m = 50,000, d = 64, 100 permutations: {seconds:.2f} s "
            f"({pairs * (3 * 64 + 2 * 101) / seconds / 1e12:.1f} TFLOP/s)"
        )
    assert 0.0 <= r.pvalue <= 1.0
