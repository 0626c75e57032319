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
