"""The GPU MMD kernel's arithmetic, replayed on the CPU (``mmd_permutation_sums_replay``:
its float32 distances and kernel values, its float64 sums, in its order), against the
CPU kernel in float64. This is how the device's precision is tested without a device:
the statistic is a small difference of large sums, so the type and order of each sum
matter. The cases and tolerances are those of ``tests/test_mmd_gpu.py``; with float32
tile sums three of them failed here, as they would have on the device."""

from __future__ import annotations

import math

import numpy as np
import pytest

from driftcore import _core
from driftcore.mmd import _bandwidths, _statistics

GRID = 132 * 2  # blocks: an H100's 132 SMs, two resident blocks each


def _replay(x, y, kernel, estimator, permutations, seed, *, bandwidth="median", scales=(1.0,)):
    """(CPU statistics, replayed device statistics), as mmd_test computes them."""
    n, m = len(x), len(y)
    bws, _ = _bandwidths(x, y, bandwidth, scales, kernel, None)
    masks = _core.mmd_permutation_masks(n, m, permutations, seed, 1)
    z32 = np.concatenate([x, y]).astype(np.float32)  # what the device path computes on
    ncols = permutations + 1
    cpu = _core.mmd_permutation_sums(z32.astype(np.float64), kernel, bws, masks, ncols, 1)
    gpu = _core.mmd_permutation_sums_replay(z32, kernel, bws, masks, ncols, GRID)
    return _statistics(*cpu, n, m, estimator), _statistics(*gpu, n, m, estimator)


def _pvalue(stats):
    return (1 + np.count_nonzero(stats[1:] >= stats[0])) / len(stats)


# test_mmd_gpu.py::test_same_statistic_and_pvalue's cases (its large shape once: 2 s).
PARITY = [("rbf", "unbiased", (2000, 1800, 32))] + [
    (k, e, s)
    for k in ("rbf", "laplacian")
    for e in ("unbiased", "biased")
    for s in ((100, 37, 5), (129, 64, 70))
]


@pytest.mark.parametrize(("kernel", "estimator", "shape"), PARITY)
def test_the_device_parity_cases_pass_on_the_replay(rng, kernel, estimator, shape):
    # Its data and its assertions.
    n, m, d = shape
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = rng.normal(0.2, 1.0, size=(m, d)).astype(np.float32)
    cpu, gpu = _replay(x, y, kernel, estimator, 100, 4)
    assert math.isclose(gpu[0], cpu[0], rel_tol=1e-5)
    assert np.allclose(gpu[1:], cpu[1:], rtol=1e-5, atol=1e-7)
    assert _pvalue(gpu) == _pvalue(cpu)


@pytest.mark.slow
def test_the_device_null_case_passes_on_the_replay(rng):
    # test_mmd_gpu.py::test_null_statistic_and_several_bandwidths: both samples from
    # one distribution, so the statistic is near 0 among its permuted values.
    x = rng.normal(size=(3000, 16)).astype(np.float32)
    y = rng.normal(size=(3000, 16)).astype(np.float32)
    cpu, gpu = _replay(x, y, "rbf", "unbiased", 200, 9, bandwidth=3.0, scales=(0.5, 1.0, 2.0))
    assert math.isclose(gpu[0], cpu[0], rel_tol=1e-5, abs_tol=1e-9)
    assert _pvalue(gpu) == _pvalue(cpu)


def test_the_replay_does_not_depend_on_the_grid_beyond_rounding(rng):
    x, y = rng.normal(size=(150, 4)), rng.normal(size=(140, 4))
    masks = _core.mmd_permutation_masks(150, 140, 63, 1, 1)
    z = np.concatenate([x, y]).astype(np.float32)
    stats = [
        _statistics(
            *_core.mmd_permutation_sums_replay(z, "rbf", [1.5], masks, 64, g), 150, 140, "unbiased"
        )
        for g in (1, 3, 132)
    ]
    for s in stats[1:]:
        np.testing.assert_allclose(s, stats[0], rtol=1e-12, atol=1e-15)


def test_all_1024_columns_of_one_launch(rng):
    x, y = rng.normal(size=(70, 3)), rng.normal(size=(60, 3))
    cpu, gpu = _replay(x, y, "laplacian", "biased", 1023, 5, bandwidth=[1.0, 2.0])
    assert np.allclose(gpu, cpu, rtol=1e-5, atol=1e-7)


def test_bad_arguments_are_refused(rng):
    z = rng.normal(size=(10, 2)).astype(np.float32)
    masks = _core.mmd_permutation_masks(5, 5, 3, 0, 1)
    with pytest.raises(ValueError, match="block"):
        _core.mmd_permutation_sums_replay(z, "rbf", [1.0], masks, 4, 0)
    with pytest.raises(ValueError, match="bandwidths"):
        _core.mmd_permutation_sums_replay(z, "rbf", [1.0] * 9, masks, 4, 1)
    with pytest.raises(ValueError, match="shape"):
        _core.mmd_permutation_sums_replay(z[:9], "rbf", [1.0], masks, 4, 1)
