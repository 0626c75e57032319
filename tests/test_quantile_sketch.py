import numpy as np
import pytest

from driftcore import QuantileSketch


def max_rank_error(sketch, x):
    """Largest |estimated - exact| normalized rank over 999 evenly spaced points."""
    s = np.sort(x[~np.isnan(x)])
    points = s[np.linspace(0, s.size - 1, 999).astype(np.int64)]
    exact = np.searchsorted(s, points, side="right") / s.size
    return np.max(np.abs(sketch.cdf(points) - exact))


def datasets(rng, n):
    base = rng.normal(size=n)
    return {
        "random": base,
        "sorted": np.sort(base),
        "reversed": np.sort(base)[::-1].copy(),
        "heavy_tailed": rng.standard_cauchy(n) * 1e6,
        "duplicated": rng.integers(0, 7, n).astype(np.float64),
        "lognormal": rng.lognormal(0, 3, n),
    }


@pytest.mark.parametrize("k", [200, 400])
def test_rank_error_bound_holds(rng, k):
    for name, x in datasets(rng, 300_000).items():
        s = QuantileSketch(k)
        for chunk in np.array_split(x, 7):
            s.update(chunk)
        assert s.n == x.size
        err = max_rank_error(s, x)
        assert err <= s.rank_error, (name, err, s.rank_error)
        assert s.min == x.min() and s.max == x.max()


def test_constant_column_is_exact():
    s = QuantileSketch()
    s.update(np.full(100_000, 3.25))
    assert s.quantiles([0, 0.3, 1]).tolist() == [3.25] * 3
    assert s.cdf([3.25, 3.0]).tolist() == [1.0, 0.0]
    assert s.quantile_edges(10).tolist() == [3.25, np.nextafter(3.25, np.inf)]


def test_exact_while_small(rng):
    x = rng.normal(size=4000)
    s = QuantileSketch()
    s.update(x)
    assert s.exact and s.rank_error == 0
    q = np.linspace(0.01, 0.99, 50)
    expected = np.sort(x)[np.ceil(q * x.size).astype(int) - 1]
    np.testing.assert_array_equal(s.quantiles(q), expected)


def test_merge_keeps_the_bound(rng):
    x = rng.exponential(size=400_000)
    parts = []
    for chunk in np.array_split(x, 5):
        p = QuantileSketch(seed=3)
        p.update(chunk)
        parts.append(p)
    merged = parts[0]
    for p in parts[1:]:
        merged.merge(p)
    assert merged.n == x.size
    assert max_rank_error(merged, x) <= merged.rank_error


def test_nan_counted_apart_and_inf_kept():
    s = QuantileSketch()
    s.update(np.array([1.0, np.nan, np.inf, -np.inf, 2.0]))
    assert s.n == 4 and s.nan == 1
    assert s.min == -np.inf and s.max == np.inf


def test_deterministic_for_a_seed(rng):
    x = rng.normal(size=100_000)
    a, b, c = QuantileSketch(seed=7), QuantileSketch(seed=7), QuantileSketch(seed=8)
    for s in (a, b, c):
        s.update(x)
    assert a == b
    assert a != c


def test_serialization_round_trip_and_corruption(rng):
    s = QuantileSketch(k=64, seed=5)
    s.update(rng.normal(size=50_000))
    data = s.to_bytes()
    t = QuantileSketch.from_bytes(data)
    assert t == s
    np.testing.assert_array_equal(t.quantiles([0.1, 0.5]), s.quantiles([0.1, 0.5]))
    with pytest.raises(ValueError):
        QuantileSketch.from_bytes(data[:30])
    bad = bytearray(data)
    bad[60] ^= 1
    with pytest.raises(ValueError, match="checksum"):
        QuantileSketch.from_bytes(bytes(bad))


def test_bad_input():
    with pytest.raises(ValueError, match="k must be"):
        QuantileSketch(k=2)
    s = QuantileSketch()
    with pytest.raises(ValueError, match="\\[0, 1\\]"):
        s.quantiles([1.5])
    with pytest.raises(ValueError, match="1-D"):
        s.update(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="different k"):
        s.merge(QuantileSketch(k=100))
    with pytest.raises(ValueError, match="empty"):
        s.quantile_edges(4)
    assert np.isnan(s.quantiles([0.5])[0])


def test_bound_holds_when_the_bottom_levels_sample(rng):
    # 3e6 values: deep enough that incoming values are sampled 1 in 2^s before sorting.
    x = rng.standard_t(2, size=3_000_000)
    for data in (x, np.sort(x), np.sort(x)[::-1].copy()):
        s = QuantileSketch(k=200, seed=1)
        for chunk in np.array_split(data, 3):
            s.update(chunk)
        assert s.n == data.size
        assert max_rank_error(s, data) <= s.rank_error


def _streams(rng):
    normal = rng.normal(size=300_000)
    ties = rng.integers(-3, 4, 300_000).astype(np.float64)
    signed_zeros = np.where(rng.random(50_000) < 0.5, -0.0, 0.0)
    signed_zeros[::97] = rng.normal(size=signed_zeros[::97].size)
    spiky = rng.standard_cauchy(120_000)
    spiky[::53] = np.inf
    spiky[::59] = -np.inf
    spiky[::61] = np.nan
    # Batches whose min (then max) is a zero of both signs: the scan must keep the one
    # that came first, as the portable loop does.
    zero_floor = np.abs(rng.normal(size=40_000))
    zero_floor[rng.integers(0, zero_floor.size, 300)] = 0.0
    zero_floor[rng.integers(0, zero_floor.size, 300)] = -0.0
    zero_floor[5000] = -0.0  # a batch whose first zero is negative
    return [
        normal,
        normal.astype(np.float32),
        ties,
        signed_zeros,
        spiky,
        np.full(9000, 2.5),
        zero_floor,
        -zero_floor,
        zero_floor.astype(np.float32),
    ]


@pytest.mark.parametrize("k", [8, 64, 400])
def test_vectorized_and_portable_paths_give_the_same_sketch(rng, portable, k):
    # Where the CPU has AVX-512, each batch is scanned for NaN, min and max 32 values a
    # step, and the level-0 buffer and the sampled picks are sorted by a vectorized merge
    # sort (else a plain loop and a radix sort): the sketches must be byte-identical,
    # through compactions, sampling, ties, signed zeros and infinities.
    for x in _streams(rng):
        fast = QuantileSketch(k, seed=5)
        for chunk in np.array_split(x, 7):
            fast.update(chunk)
        with portable():
            slow = QuantileSketch(k, seed=5)
            for chunk in np.array_split(x, 7):
                slow.update(chunk)
        assert fast.to_bytes() == slow.to_bytes()


def test_compaction_offset_is_splitmix64_of_seed_count_and_chunk():
    # The GPU path's choice of picks, made by the C++ core (numpy definition here).
    def splitmix64(x: int) -> int:
        m = (1 << 64) - 1
        x = (x + 0x9E3779B97F4A7C15) & m
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & m
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & m
        return x ^ (x >> 31)

    from driftcore import _core

    s = _core.QuantileSketch(200, 12345)
    s.update(np.arange(1000.0))
    for count, level in ((10_000, 3), (2**33 + 7, 20), (5, 0)):
        want = splitmix64(12345 ^ 1000 ^ count) % (1 << level)
        assert s.compaction_offset(count, level) == want
