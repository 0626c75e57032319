"""StreamingMMD: approximation error against the exact biased MMD^2, merge laws,
serialization (with a golden file) and bad input."""

from pathlib import Path

import numpy as np
import pytest

import driftcore
from driftcore.streaming_mmd import frequencies

GOLDEN = Path(__file__).parent / "data" / "golden" / "streaming_mmd.v1.bin"


def golden_state():
    rng = np.random.default_rng(42)
    s = driftcore.StreamingMMD(1.5, kernel="laplacian", n_features=16, seed=3)
    s.update(x=rng.normal(size=(50, 3)), y=rng.normal(0.5, 1, size=(40, 3)))
    return s


def stream(rng, kernel="rbf", n_features=1024, seed=0, shift=0.3):
    x, y = rng.normal(size=(800, 4)), rng.normal(shift, 1, size=(700, 4))
    s = driftcore.StreamingMMD(2.0, kernel=kernel, n_features=n_features, seed=seed)
    s.update(x=x, y=y)
    return s, x, y


@pytest.mark.parametrize("kernel", ["rbf", "laplacian"])
def test_error_against_the_exact_biased_statistic(rng, kernel):
    exact = None
    errors = {}
    for f in (64, 4096):
        errs = []
        for seed in range(6):
            s, x, y = stream(np.random.default_rng(1), kernel, f, seed)
            if exact is None:
                exact = driftcore.mmd2(x, y, kernel=kernel, bandwidth=2.0, estimator="biased")
            r = s.result()
            err = abs(r.mmd2 - exact)
            assert err <= r.error_bound  # Hoeffding, 99%
            assert err <= 5 * r.stderr + 1e-12  # the reported standard error is honest
            errs.append(err)
        errors[f] = np.mean(errs)
    # Error ~ 1/sqrt(F): 64x the features, about 8x smaller (allow 3x).
    assert errors[4096] * 3 < errors[64]


def test_frequencies_follow_the_kernels_spectrum():
    # E cos(w . u) over the frequencies equals k(u, 0) for a fixed u.
    u = np.array([0.7, -0.4, 1.1])
    r = np.linalg.norm(u)
    for kernel, k in (("rbf", np.exp(-(r**2) / 2)), ("laplacian", np.exp(-r))):
        w = frequencies(kernel, 1.0, 200_000, 3, seed=9)
        assert abs(np.cos(u @ w).mean() - k) < 0.01


def test_chunks_and_merges_give_the_same_state(rng):
    x, y = rng.normal(size=(3000, 3)), rng.normal(size=(2000, 3))
    whole = driftcore.StreamingMMD(1.0, n_features=64)
    whole.update(x=x, y=y)
    parts = [driftcore.StreamingMMD(1.0, n_features=64) for _ in range(3)]
    parts[0].update(x=x[:1000])
    parts[1].update(x=x[1000:], y=y[:500])
    parts[2].update(y=y[500:])
    merged = parts[0].copy().merge(parts[1]).merge(parts[2])
    assert merged.n == whole.n and merged.d == whole.d
    assert np.allclose(merged._sums, whole._sums, rtol=1e-12, atol=1e-9)
    assert merged.result().mmd2 == pytest.approx(whole.result().mmd2, rel=1e-9, abs=1e-15)
    a, b = parts[0].copy().merge(parts[1]), parts[1].copy().merge(parts[0])
    assert a == b  # commutative
    empty = driftcore.StreamingMMD(1.0, n_features=64)
    assert empty.copy().merge(parts[1]) == parts[1]  # the empty state is neutral


def test_serialization_round_trip_and_golden_file(rng):
    s, _, _ = stream(rng, n_features=32)
    blob = s.to_bytes()
    assert driftcore.StreamingMMD.from_bytes(blob) == s
    assert driftcore.StreamingMMD.from_bytes(blob).to_bytes() == blob
    # Version-1 bytes keep loading; a fresh state agrees to float rounding (cos/sin
    # come from numpy, whose last bits may differ between machines).
    data = GOLDEN.read_bytes()
    loaded, fresh = driftcore.StreamingMMD.from_bytes(data), golden_state()
    assert loaded.to_bytes() == data
    assert loaded._settings() == fresh._settings() and loaded.n == fresh.n == [50, 40]
    assert np.allclose(loaded._sums, fresh._sums, rtol=1e-5, atol=1e-5)


def test_corrupt_or_foreign_bytes_are_refused(rng):
    blob = bytearray(golden_state().to_bytes())
    blob[40] ^= 1
    with pytest.raises(ValueError, match="checksum"):
        driftcore.StreamingMMD.from_bytes(bytes(blob))
    with pytest.raises(ValueError, match="expected 'RFFM'"):
        driftcore.StreamingMMD.from_bytes(driftcore.QuantileSketch().to_bytes())


def test_incompatible_states_do_not_merge(rng):
    a = driftcore.StreamingMMD(1.0, n_features=8)
    a.update(x=rng.normal(size=(5, 2)))
    for other, name in (
        (driftcore.StreamingMMD(2.0, n_features=8), "bandwidth"),
        (driftcore.StreamingMMD(1.0, n_features=9), "n_features"),
        (driftcore.StreamingMMD(1.0, n_features=8, seed=1), "seed"),
        (driftcore.StreamingMMD(1.0, n_features=8, kernel="laplacian"), "kernel"),
    ):
        with pytest.raises(ValueError, match=name):
            a.merge(other)
    b = driftcore.StreamingMMD(1.0, n_features=8)
    b.update(y=rng.normal(size=(5, 3)))
    with pytest.raises(ValueError, match="different d"):
        a.merge(b)


def test_bad_input(rng):
    s = driftcore.StreamingMMD(1.0)
    s.update(x=rng.normal(size=(4, 2)))
    with pytest.raises(ValueError, match="3 features, this state has 2"):
        s.update(y=rng.normal(size=(4, 3)))
    with pytest.raises(ValueError, match="2-D"):
        s.update(y=np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        s.update(y=np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="both sides"):
        s.result()
    with pytest.raises(ValueError, match="positive"):
        driftcore.StreamingMMD(0.0)
    with pytest.raises(ValueError, match="n_features"):
        driftcore.StreamingMMD(1.0, n_features=0)
    with pytest.raises(ValueError, match="kernel"):
        driftcore.StreamingMMD(1.0, kernel="poly")


@pytest.mark.parametrize("n_features", [1, 32, 65, 300])
def test_feature_sums_equal_numpy_and_ignore_threads(rng, n_features):
    from driftcore import _core

    x = rng.normal(size=(3001, 7)) * 3
    w = frequencies("laplacian", 0.5, n_features, 7, seed=1)
    proj = x @ w
    sums = []
    for threads in (1, 2):
        c, s = np.zeros(n_features), np.zeros(n_features)
        _core.rff_accumulate(x, w, c, s, threads)
        assert np.allclose(c, np.cos(proj).sum(0), rtol=0, atol=1e-11)
        assert np.allclose(s, np.sin(proj).sum(0), rtol=0, atol=1e-11)
        sums.append((c, s))
    assert all(np.array_equal(a, b) for a, b in zip(sums[0], sums[1]))
    _core.set_simd(False)  # the portable copy, chosen by the one switch
    try:
        c, s = np.zeros(n_features), np.zeros(n_features)
        _core.rff_accumulate(x, w, c, s, 1)
    finally:
        _core.set_simd(True)
    # Without fused multiply-adds its range reduction keeps fewer bits.
    assert np.allclose(c, np.cos(proj).sum(0), rtol=0, atol=1e-10)
    assert np.allclose(s, np.sin(proj).sum(0), rtol=0, atol=1e-10)
    # Large angles: the range reduction stays accurate.
    t = np.array([[1e5 + 0.3, -7e5, 3.0, -2.5, 1e-300, 0.0]])
    c, s = np.zeros(6), np.zeros(6)
    _core.rff_accumulate(np.ones((1, 1)), t, c, s)
    assert np.allclose(c, np.cos(t[0]), rtol=0, atol=1e-15)
    assert np.allclose(s, np.sin(t[0]), rtol=0, atol=1e-15)


def test_a_failed_update_changes_nothing():
    rng = np.random.default_rng(5)
    s = driftcore.StreamingMMD(n_features=64, bandwidth=1.0, seed=1)
    s.update(rng.normal(size=(100, 3)), rng.normal(size=(100, 3)))
    before = s.to_bytes()
    bad_y = rng.normal(size=(50, 3))
    bad_y[7, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        s.update(rng.normal(size=(50, 3)), bad_y)
    with pytest.raises(ValueError, match="features"):
        s.update(rng.normal(size=(50, 3)), rng.normal(size=(50, 4)))
    assert s.to_bytes() == before
    fresh = driftcore.StreamingMMD(n_features=64, bandwidth=1.0, seed=1)
    with pytest.raises(ValueError, match="features"):
        fresh.update(rng.normal(size=(5, 2)), rng.normal(size=(5, 3)))
    assert fresh.d == 0 and list(fresh.n) == [0, 0]


def test_uniform_draws_are_the_documented_hash():
    # The frequencies come from the C++ core's draws; their definition in numpy.
    from driftcore.streaming_mmd import _uniform

    def mix(x):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))

    for seed, stream in ((0, 0), (7, 3), (2**64 - 1, 1), (-5, 2)):
        with np.errstate(over="ignore"):
            base = mix(np.array([(seed * 0x9E3779B97F4A7C15 + stream) % 2**64], np.uint64))
            h = mix(base + np.arange(1000, dtype=np.uint64) * np.uint64(0xD1B54A32D192ED03))
        want = ((h >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
        np.testing.assert_array_equal(_uniform(seed, stream, 1000), want)
    from driftcore import _core

    assert _core.rff_uniforms(1, 2, 0).size == 0
    with pytest.raises(TypeError):
        _core.rff_uniforms(1, 2, -1)
