"""CPU/GPU parity. Marked ``gpu``: skipped where no CUDA device is usable."""

import numpy as np
import pytest

import driftcore

pytestmark = pytest.mark.gpu


@pytest.fixture
def cp():
    return pytest.importorskip("cupy")


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.int64])
@pytest.mark.parametrize("bins", [64, 4096])
def test_histogram_counts_bit_identical(cp, rng, dtype, bins):
    x = (rng.normal(size=1_000_003) * 30).astype(dtype)
    if x.dtype.kind == "f":
        x[::101] = np.nan
        x[::103] = np.inf
    for edges in (
        np.linspace(-50, 50, bins + 1),
        np.unique(np.quantile(rng.standard_cauchy(100_000), np.linspace(0, 1, bins + 1))),
    ):
        cpu, gpu = driftcore.Histogram(edges), driftcore.Histogram(edges)
        cpu.update(x)
        gpu.update(cp.asarray(x))
        assert cpu == gpu


def test_adversarial_values_on_edges(cp):
    edges = np.linspace(-1.0, 1.0, 65)
    x = np.concatenate([edges, np.nextafter(edges, 2), np.nextafter(edges, -2), [np.nan, -np.inf]])
    cpu, gpu = driftcore.Histogram(edges), driftcore.Histogram(edges)
    cpu.update(x)
    gpu.update(cp.asarray(x))
    assert cpu == gpu


def test_category_counts_identical(cp, rng):
    pytest.importorskip("pyarrow")  # the host side counts with Arrow
    codes = rng.integers(0, 50, 100_000)
    cpu, gpu = driftcore.CategoryCounts(), driftcore.CategoryCounts()
    cpu.update(codes)
    gpu.update(cp.asarray(codes))
    assert cpu == gpu


def test_sketch_and_profile_merge_across_devices(cp, rng):
    x = rng.normal(size=2_000_000)
    a, b = driftcore.QuantileSketch(), driftcore.QuantileSketch()
    a.update(x[:1_000_000])
    b.update(cp.asarray(x[1_000_000:]))
    a.merge(b)
    s = np.sort(x)
    pts = s[np.linspace(0, s.size - 1, 999).astype(int)]
    exact = np.searchsorted(s, pts, side="right") / s.size
    assert np.max(np.abs(a.cdf(pts) - exact)) <= a.rank_error
    cpu = driftcore.Profile.build(iter([{"x": x}]))
    gpu = driftcore.Profile.build(iter([{"x": cp.asarray(x)}]))
    assert cpu["x"].moments.count == gpu["x"].moments.count
    assert gpu["x"].mean == pytest.approx(cpu["x"].mean, rel=1e-9)


def test_metrics_within_tolerance(cp, rng):
    pytest.importorskip("scipy")  # p-values
    a, b = rng.normal(size=200_000), rng.normal(0.1, 1, 150_000)
    cpu = driftcore.metrics.ks(a, b)
    gpu = driftcore.metrics.ks(cp.asarray(a), cp.asarray(b))
    assert gpu.statistic == cpu.statistic
    w_cpu = driftcore.metrics.wasserstein(a, b).distance
    w_gpu = driftcore.metrics.wasserstein(cp.asarray(a), cp.asarray(b)).distance
    assert w_gpu == pytest.approx(w_cpu, rel=1e-9)


def test_mixed_devices_refused(cp):
    h = driftcore.Histogram(bins=4, range=(0, 1), weighted=True)
    with pytest.raises(TypeError, match="mixed"):
        h.update(cp.ones(3), np.ones(3))


def test_value_grid_and_profile_bit_identical(cp, rng):
    # The grid's device path counts cells with cupy; the exact sums copy to the host.
    x = rng.normal(size=1_000_003)
    x[::97] = np.nan
    x[::89] = -0.0
    cpu, gpu = driftcore.ValueGrid(), driftcore.ValueGrid()
    for chunk in np.array_split(x, 7):
        cpu.update(chunk)
        gpu.update(cp.asarray(chunk))
    assert cpu == gpu
    table = {"x": x, "f": x.astype(np.float32)}
    on_cpu = driftcore.Profile.build(table, device="cpu")
    on_gpu = driftcore.Profile.build({k: cp.asarray(v) for k, v in table.items()}, device="gpu")
    assert on_cpu.fingerprint() == on_gpu.fingerprint()
