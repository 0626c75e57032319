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
    # The grid, counts, extremes and exact sums all come from the device kernels.
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


# --- more of the histogram's device paths ---------------------------------------------


@pytest.mark.parametrize("uniform", [True, False])
def test_weighted_histogram_parity(cp, rng, uniform):
    x = rng.normal(size=500_001)
    w = rng.random(500_001)
    edges = np.linspace(-3, 3, 65) if uniform else np.unique(np.quantile(x, np.linspace(0, 1, 65)))
    cpu = driftcore.Histogram(edges, weighted=True)
    gpu = driftcore.Histogram(edges, weighted=True)
    cpu.update(x, w)
    gpu.update(cp.asarray(x), cp.asarray(w))
    np.testing.assert_array_equal(cpu.counts, gpu.counts)  # integer counts: exact
    # Weight sums are float atomics on the device: order-dependent in the last bits.
    np.testing.assert_allclose(gpu.weights, cpu.weights, rtol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_refused_on_the_device(cp, bad):
    h = driftcore.Histogram(bins=4, range=(0, 1), weighted=True)
    h.update(cp.asarray([0.1, 0.9]), cp.asarray([1.0, 2.0]))
    before = h.to_bytes()
    with pytest.raises(ValueError, match="finite"):
        h.update(cp.asarray([0.5, 0.6]), cp.asarray([1.0, bad]))
    assert h.to_bytes() == before


@pytest.mark.parametrize("bins", [8190, 20_000, 200_000])
def test_many_bins_take_the_global_counter_path(cp, rng, bins):
    x = rng.normal(size=2_000_000) * 100
    for edges in (np.linspace(-400, 400, bins + 1), np.sort(rng.uniform(-400, 400, bins + 1))):
        edges = np.unique(edges)
        cpu, gpu = driftcore.Histogram(edges), driftcore.Histogram(edges)
        cpu.update(x)
        gpu.update(cp.asarray(x))
        assert cpu == gpu


@pytest.mark.parametrize(
    "dtype", [np.uint8, np.int8, np.int16, np.uint16, np.uint32, np.uint64, np.float16]
)
def test_every_input_dtype(cp, rng, dtype):
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if info is None:
        x = (rng.normal(size=300_001) * 100).astype(dtype)
    else:
        x = rng.integers(info.min, info.max, size=300_001, dtype=dtype, endpoint=True)
    lo, hi = (float(x.min()), float(x.max()) + 1.0) if info is not None else (-500.0, 500.0)
    for edges in (
        np.linspace(lo, hi, 129),
        np.unique(np.quantile(x.astype(float), np.linspace(0, 1, 65))),
    ):
        cpu, gpu = driftcore.Histogram(edges), driftcore.Histogram(edges)
        cpu.update(x)
        gpu.update(cp.asarray(x))
        assert cpu == gpu


def test_no_values_change_nothing(cp):
    h = driftcore.Histogram(bins=8, range=(0, 1))
    h.update(cp.zeros(0))
    h.update(cp.zeros(0, dtype=cp.int32))
    assert h == driftcore.Histogram(bins=8, range=(0, 1))


@pytest.mark.slow
def test_more_than_2_to_the_31_values(cp):
    n = (1 << 31) + 4099  # 2 GiB of uint8: 64-bit indexing in the kernel and the launch
    x = cp.tile(cp.arange(256, dtype=cp.uint8), n // 256 + 1)[:n]  # value i % 256 at i
    h = driftcore.Histogram(np.arange(257.0))
    h.update(x)
    want = np.full(256, n // 256) + (np.arange(256) < n % 256)
    np.testing.assert_array_equal(h.counts, want)
    assert h.total == n
    del x


def test_views_with_strides_and_offsets(cp, rng):
    x = cp.asarray(rng.normal(size=900_000))
    edges = np.linspace(-3, 3, 33)
    for view in (x[::3], x[5:], x[7::2], x[::-1]):
        cpu, gpu = driftcore.Histogram(edges), driftcore.Histogram(edges)
        cpu.update(view.get())
        gpu.update(view)
        assert cpu == gpu


def test_a_non_default_stream(cp, rng):
    x = rng.normal(size=1_000_000)
    edges = np.linspace(-3, 3, 65)
    cpu = driftcore.Histogram(edges)
    cpu.update(x)
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        d = cp.asarray(x)
        gpu = driftcore.Histogram(edges)
        gpu.update(d)  # enqueued on `stream`; update returns when its counts are in
        grid = driftcore.ValueGrid()
        grid.update(d)
    assert cpu == gpu
    on_cpu = driftcore.ValueGrid()
    on_cpu.update(x)
    assert grid == on_cpu


def test_metrics_with_infinities_on_the_device(cp):
    a = np.array([1.0, 2.0, np.inf, -np.inf, np.nan])
    for b in (a.copy(), np.array([1.0, 2.0, 3.0, -np.inf]), np.array([np.inf, 0.0])):
        cpu = driftcore.metrics.wasserstein(a, b).distance
        gpu = driftcore.metrics.wasserstein(cp.asarray(a), cp.asarray(b)).distance
        assert gpu == cpu or gpu == pytest.approx(cpu, rel=1e-12)
        assert (
            driftcore.metrics.ks(cp.asarray(a), cp.asarray(b)).statistic
            == driftcore.metrics.ks(a, b).statistic
        )


def test_ks_with_ties_on_the_device(cp, rng):
    a, b = rng.integers(0, 20, 100_000), rng.integers(0, 21, 80_000)
    cpu = driftcore.metrics.ks(a, b)
    gpu = driftcore.metrics.ks(cp.asarray(a), cp.asarray(b))
    assert gpu.statistic == cpu.statistic and gpu.pvalue == cpu.pvalue


def test_a_device_profile_copies_no_column_to_the_host(cp, rng, monkeypatch):
    # Every device-to-host copy cupy makes goes through ndarray.get (asnumpy calls it):
    # none may carry a column. The kernels bring back only binade sums and grid cells.
    x = cp.asarray(rng.normal(size=4_000_000).astype(np.float32))
    sizes = []
    get = cp.ndarray.get

    def counted(self, *args, **kwargs):
        sizes.append(self.size)
        return get(self, *args, **kwargs)

    monkeypatch.setattr(cp.ndarray, "get", counted)
    prof = driftcore.Profile.build({"x": x}, device="gpu")
    assert prof.columns["x"].moments.count == x.size
    assert max(sizes, default=0) < 100_000, sizes


def test_profile_of_float32_with_missing_values(cp, rng):
    x = rng.normal(size=700_001).astype(np.float32)
    x[::13] = np.nan
    cpu = driftcore.Profile.build({"x": x}, device="cpu")
    gpu = driftcore.Profile.build({"x": cp.asarray(x)}, device="gpu")
    assert cpu.fingerprint() == gpu.fingerprint()


def test_histogram_throughput_is_printed(cp, rng, capsys):
    import time

    x = cp.asarray(rng.normal(size=100_000_000).astype(np.float32))
    h = driftcore.Histogram(np.linspace(-5, 5, 65))
    h.update(x[:1000])  # warm up: the module, the lookup tables
    cp.cuda.get_current_stream().synchronize()
    t0 = time.perf_counter()
    h.update(x)
    seconds = time.perf_counter() - t0
    with capsys.disabled():
        print(f"\nhistogram of 1e8 float32 on the device: {x.size / seconds / 1e9:.2f} G values/s")
    assert h.total == x.size + 1000
