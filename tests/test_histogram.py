import numpy as np
import pytest

import driftcore
from driftcore import Histogram


def numpy_slots(x, edges):
    x = np.asarray(x, dtype=np.float64)
    finite = x[~np.isnan(x)]
    inside = np.histogram(finite[(finite >= edges[0]) & (finite <= edges[-1])], edges)[0]
    return np.concatenate(
        [[np.sum(finite < edges[0])], inside, [np.sum(finite > edges[-1])], [np.isnan(x).sum()]]
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32, np.uint8, np.int16])
def test_uniform_matches_numpy(rng, dtype):
    x = (rng.normal(size=100_003) * 40).astype(dtype)
    h = Histogram(bins=64, range=(-100.0, 100.0))
    h.update(x)
    assert h._h.uniform
    np.testing.assert_array_equal(h.slots, numpy_slots(x, np.linspace(-100, 100, 65)))


def test_values_on_edges_follow_numpy(rng):
    edges = np.linspace(-3.0, 7.0, 41)
    x = np.concatenate([edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf)])
    for e in (edges, np.sort(rng.uniform(-3, 7, 41))):
        h = Histogram(e)
        h.update(x)
        np.testing.assert_array_equal(h.slots, numpy_slots(x, e))


def test_quantile_edges_match_numpy_and_heavy_tails(rng):
    x = rng.standard_cauchy(200_000)
    edges = np.unique(np.quantile(x, np.linspace(0, 1, 65)))
    h = Histogram(edges)
    h.update(x)
    assert not h._h.uniform
    np.testing.assert_array_equal(h.slots, numpy_slots(x, edges))


def test_nan_inf_underflow_overflow_counted_apart():
    h = Histogram(bins=2, range=(0, 2))
    h.update(np.array([np.nan, np.inf, -np.inf, -1.0, 3.0, 0.0, 2.0, 1e308, -1e308]))
    assert (h.underflow, h.overflow, h.nan) == (3, 3, 1)
    assert h.counts.tolist() == [1, 1]
    assert h.total == 9


def test_counts_independent_of_chunking_threads_and_merge_order(rng):
    # Large enough for three workers (a thread per 2^20 values at most).
    x = rng.normal(size=3 * 2**20 + 12_345)
    edges = np.quantile(x, np.linspace(0, 1, 17))
    whole = Histogram(edges)
    whole.update(x, threads=1)
    for threads in (1, 2, 3, 8):
        h = Histogram(edges)
        h.update(x, threads=threads)
        assert h == whole
    parts = [Histogram(edges) for _ in range(3)]
    for p, chunk in zip(parts, np.array_split(x, 3)):
        p.update(chunk)
    ab_c = parts[0].copy().merge(parts[1]).merge(parts[2])
    c_ba = parts[2].copy().merge(parts[1]).merge(parts[0])
    assert ab_c == whole == c_ba


def test_weights(rng):
    x = rng.uniform(0, 1, 10_000)
    w = rng.uniform(0, 2, 10_000)
    h = Histogram(bins=10, range=(0, 1), weighted=True)
    h.update(x, w)
    ref = np.histogram(x, bins=10, range=(0, 1), weights=w)[0]
    np.testing.assert_allclose(h.weights, ref, rtol=1e-12)
    assert h.counts.sum() == 10_000


def test_empty_and_one_value():
    h = Histogram(bins=3, range=(0, 3))
    h.update(np.array([], dtype=np.float64))
    assert h.total == 0
    h.update(np.array([1.5]))
    assert h.counts.tolist() == [0, 1, 0]


def test_non_contiguous_input_is_copied(rng):
    x = rng.normal(size=1000)
    h1, h2 = Histogram(bins=8, range=(-2, 2)), Histogram(bins=8, range=(-2, 2))
    h1.update(x[::2])
    h2.update(np.ascontiguousarray(x[::2]))
    assert h1 == h2


def test_serialization_round_trip_and_corruption(rng):
    h = Histogram(np.array([0.0, 1.0, 5.0, 9.0]), weighted=True)
    h.update(rng.uniform(-1, 10, 1000), rng.uniform(0, 1, 1000))
    data = h.to_bytes()
    assert Histogram.from_bytes(data) == h
    with pytest.raises(ValueError, match="truncated"):
        Histogram.from_bytes(data[:-5])
    flipped = bytearray(data)
    flipped[40] ^= 0xFF
    with pytest.raises(ValueError, match="checksum"):
        Histogram.from_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="magic"):
        Histogram.from_bytes(b"XXXX" + data[4:])
    with pytest.raises(ValueError, match="QSKT"):
        driftcore.QuantileSketch.from_bytes(data)


@pytest.mark.parametrize(
    "edges, message",
    [
        ([1.0], "at least 2"),
        ([0.0, 0.0, 1.0], "strictly increasing"),
        ([0.0, np.inf], "finite"),
        ([2.0, 1.0], "strictly increasing"),
        ([[0.0, 1.0]], "1-D"),
    ],
)
def test_bad_edges(edges, message):
    with pytest.raises(ValueError, match=message):
        Histogram(edges)


def test_bad_updates_leave_state_unchanged(rng):
    h = Histogram(bins=4, range=(0, 1))
    h.update(rng.uniform(size=100))
    before = h.copy()
    with pytest.raises(ValueError, match="1-D"):
        h.update(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="dtype"):
        h.update(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="dtype"):
        h.update(np.array([True, False]))
    with pytest.raises(ValueError, match="unweighted"):
        h.update(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="threads"):
        h.update(np.ones(3), threads=0)
    hw = Histogram(bins=4, range=(0, 1), weighted=True)
    with pytest.raises(ValueError, match="entries"):
        hw.update(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="finite"):
        hw.update(np.ones(2), np.array([1.0, np.nan]))
    assert h == before


def test_merge_refuses_other_edges_or_kind():
    a = Histogram(bins=4, range=(0, 1))
    with pytest.raises(ValueError, match="different edges"):
        a.merge(Histogram(bins=5, range=(0, 1)))
    with pytest.raises(ValueError, match="weighted"):
        a.merge(Histogram(bins=4, range=(0, 1), weighted=True))
    with pytest.raises(TypeError):
        a.merge("nope")


def test_gpu_request_without_gpu_is_a_clear_error():
    if driftcore.gpu_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="GPU|CUDA|cuda"):
        Histogram(bins=2, range=(0, 1)).update(np.ones(3), device="gpu")
    with pytest.raises(ValueError, match="device"):
        Histogram(bins=2, range=(0, 1)).update(np.ones(3), device="tpu")


def test_adversarial_edges_match_numpy(rng):
    cases = [
        np.array([-1e308, -1.0, 0.0, 1e-300, 1.0, 1e308]),  # range overflows float64
        np.cumsum(np.r_[0.0, np.full(40, 1e-12), [1e6]]),  # tiny bins then one huge
        np.array([1.0, np.nextafter(1.0, 2), np.nextafter(np.nextafter(1.0, 2), 2), 2.0]),
        np.unique(rng.lognormal(0, 5, 300)),
        np.linspace(-5, 5, 4097),
    ]
    for edges in cases:
        pts = np.concatenate(
            [
                edges,
                np.nextafter(edges, np.inf),
                np.nextafter(edges, -np.inf),
                rng.uniform(edges[0], edges[-1], 20_000)
                if np.isfinite(float(edges[-1]) - float(edges[0]))
                else rng.normal(size=20_000) * 1e300,
            ]
        )
        h = Histogram(edges)
        h.update(pts)
        np.testing.assert_array_equal(h.slots, numpy_slots(pts, edges))


def test_property_random_edges_and_values():
    hyp = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")
    floats = st.floats(-1e6, 1e6, allow_nan=False, width=64)

    @hyp.settings(max_examples=200, deadline=None)
    @hyp.given(
        st.lists(floats, min_size=2, max_size=40, unique=True),
        st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=200),
    )
    def check(edges, values):
        e = np.sort(np.array(edges))
        x = np.array(values, dtype=np.float64)
        h = Histogram(e)
        h.update(x)
        np.testing.assert_array_equal(h.slots, numpy_slots(x, e))

    check()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("bins", [3, 64, 4096])
def test_arbitrary_edges_all_dtypes_match_numpy(rng, dtype, bins):
    x = (rng.standard_t(3, size=200_001) * 10).astype(dtype)
    edges = np.unique(np.quantile(x.astype(np.float64), np.linspace(0.01, 0.99, bins + 1)))
    h = Histogram(edges)
    h.update(x)
    np.testing.assert_array_equal(h.slots, numpy_slots(x, edges))


def test_property_equal_bins_near_every_edge(rng):
    # Equal bins take a fast path that trusts the guessed bin away from edges; values
    # within a few ulps of every edge, offsets far from zero and wide ranges must all
    # still land in numpy's bins.
    hyp = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")

    @hyp.settings(max_examples=150, deadline=None)
    @hyp.given(
        st.floats(-1e9, 1e9), st.floats(1e-6, 1e9), st.integers(1, 500), st.integers(0, 2**32 - 1)
    )
    def check(lo, width, bins, seed):
        hi = lo + width
        if not hi > lo:
            return
        edges = np.linspace(lo, hi, bins + 1)
        if np.any(np.diff(edges) <= 0):
            return
        r = np.random.default_rng(seed)
        near = np.concatenate([edges + k * np.spacing(edges) for k in range(-3, 4)])
        x = np.concatenate([near, r.uniform(lo, hi, 2000)])
        r.shuffle(x)
        h = Histogram(bins=bins, range=(lo, hi))
        h.update(x)
        np.testing.assert_array_equal(h.slots, numpy_slots(x, edges))

    check()


@pytest.mark.slow
@pytest.mark.parametrize("bins", [50, 100])  # pair-table counting, and plain counting
def test_counts_past_two_billion_values_in_one_worker(bins):
    # One worker's 32-bit count cells are flushed to 64-bit totals every 2^31 values;
    # 2^31 + 12,345 values in one thread go through one flush mid-stream, which must
    # neither lose nor double any count.
    n = 2**31 + 12_345
    x = np.resize(np.arange(200, dtype=np.uint8), n)  # 0..199 repeated
    h = Histogram(bins=bins, range=(0, 200))
    h.update(x, threads=1)
    per_value = np.full(200, n // 200, dtype=np.int64)
    per_value[: n % 200] += 1
    expected = per_value.reshape(bins, -1).sum(axis=1)
    np.testing.assert_array_equal(h.counts, expected)
    assert h.total == n and h.underflow == h.overflow == h.nan == 0


def test_vectorized_and_portable_binning_agree(rng, portable):
    x = rng.normal(size=100_003) * 3
    x[::31] = np.nan
    x[::37] = np.inf
    cases = [
        (np.linspace(-4, 4, 65), x),
        (np.linspace(-4, 4, 65), x.astype(np.float32)),
        (np.quantile(x[np.isfinite(x)], np.linspace(0, 1, 17)), x),
    ]
    for edges, values in cases:
        fast = Histogram(edges)
        fast.update(values)
        with portable():
            slow = Histogram(edges)
            slow.update(values)
        assert fast == slow


def test_empty_copy_bins_like_a_fresh_histogram():
    rng = np.random.default_rng(3)
    edges = np.unique(np.quantile(rng.normal(size=50_000), np.linspace(0, 1, 1001)))
    used = driftcore.Histogram(edges)
    used.update(rng.normal(size=300_000))  # large enough to refine the lookup table
    empty = used.empty_copy()
    assert empty.total == 0 and np.array_equal(empty.edges, edges)
    x = np.concatenate([rng.normal(size=20_000), edges, [np.nan, -np.inf, np.inf]])
    fresh = driftcore.Histogram(edges)
    empty.update(x)
    fresh.update(x)
    assert empty == fresh
    w = driftcore.Histogram([0.0, 1.0, 3.0], weighted=True)
    w.update(np.array([0.5]), np.array([2.0]))
    we = w.empty_copy()
    assert we.weighted and we.total == 0 and not we.weights.any()
