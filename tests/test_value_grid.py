"""ValueGrid: exact counts on a canonical grid, the same bytes for any order, and
KS / Wasserstein bounds that hold against scipy."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from scipy import stats

import driftcore
from driftcore import _wire
from driftcore.value_grid import ValueGrid, ks_bounds, wasserstein

N = 400_000


def _order_keys(x: np.ndarray) -> np.ndarray:
    u = (np.asarray(x, dtype=np.float64) + 0.0).view(np.uint64)
    return np.where(u >> np.uint64(63) == 1, ~u, u | np.uint64(1 << 63))


def _brute(x: np.ndarray, cap: int) -> tuple[int, np.ndarray, np.ndarray]:
    """The grid's definition, by brute force: the smallest shift at which the finite
    values occupy at most ``cap`` cells, and the cells' keys and counts there."""
    x = np.asarray(x, dtype=np.float64)
    k = np.sort(_order_keys(x[np.isfinite(x)]))
    for s in range(64):
        keys, counts = np.unique(k >> np.uint64(s), return_counts=True)
        if keys.size <= cap:
            return s, keys, counts
    raise AssertionError("unreachable")


def _data(name: str, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return {
        "normal": lambda: rng.normal(size=n),
        "lognormal": lambda: rng.lognormal(0, 2, n),
        "timestamps": lambda: 1.7e9 + rng.normal(0, 100, n),
        "poisson": lambda: rng.poisson(3, n).astype(np.float64),
        "mixed": lambda: np.concatenate(
            [
                rng.normal(size=n - 12),
                [
                    1e300,
                    -1e300,
                    5e-324,
                    -5e-324,
                    0.0,
                    -0.0,
                    np.nan,
                    np.inf,
                    -np.inf,
                    2.5,
                    2.5,
                    -7.0,
                ],
            ]
        ),
    }[name]()


DISTS = ["normal", "lognormal", "timestamps", "poisson", "mixed"]


@pytest.mark.parametrize("name", DISTS)
@pytest.mark.parametrize("cap", [16, 1000, 4096])
def test_cells_are_the_definition(name, cap):
    x = _data(name, 60_000)
    g = ValueGrid(cap)
    g.update(x)
    shift, keys, counts = _brute(x, cap)
    assert g.shift == shift
    assert np.array_equal(g.counts, counts)
    assert np.array_equal(g._g.keys, keys)
    assert g.total == np.isfinite(x).sum()
    lo, hi, c = g.cells()
    # cells in order, apart (the one ending at -0.0 and the one from +0.0 touch)
    assert np.all(lo <= hi) and np.all((hi[:-1] < lo[1:]) | ((hi[:-1] == 0) & (lo[1:] == 0)))
    # every finite value lies in its cell
    fx = np.sort(x[np.isfinite(x)])
    starts = np.searchsorted(fx, lo, "left")
    # a cell ending at -0.0 holds no zero (both zeros count as +0.0)
    ends = np.searchsorted(fx, np.where((hi == 0) & np.signbit(hi), -5e-324, hi), "right")
    assert np.array_equal(ends - starts, c)


@pytest.mark.parametrize("name", DISTS)
def test_same_bytes_for_any_order_chunking_threads_and_merge_tree(name):
    rng = np.random.default_rng(1)
    x = _data(name, 200_000)
    whole = ValueGrid()
    whole.update(x, threads=1)
    ref = whole.to_bytes()
    for threads in (2, 8):
        g = ValueGrid()
        g.update(x, threads=threads)
        assert g.to_bytes() == ref
    shuffled = x[rng.permutation(x.size)]
    for pieces in (16, 1000):
        cuts = np.sort(rng.choice(x.size, pieces - 1, replace=False))
        chunks = np.split(shuffled, cuts)
        folded = ValueGrid()
        for c in chunks:
            folded.update(c)
        assert folded.to_bytes() == ref
        parts = []
        for c in chunks:
            p = ValueGrid()
            p.update(c)
            parts.append(p)
        while len(parts) > 1:  # balanced tree
            parts = [
                parts[i].merge(parts[i + 1]) if i + 1 < len(parts) else parts[i]
                for i in range(0, len(parts), 2)
            ]
        assert parts[0].to_bytes() == ref


def _exact_sums(x: np.ndarray) -> tuple[int, int]:
    """S1 * 2**1074 and S2 * 2**2148 of the finite values, in Python integers."""
    s1 = s2 = 0
    for v in x.astype(np.float64)[np.isfinite(x)].tolist():
        num, den = v.as_integer_ratio()
        s1 += num * (2**1074 // den)
        s2 += num * num * (2**2148 // (den * den))
    return s1, s2


def _digits(d: np.ndarray) -> int:
    return int.from_bytes(d[:-1].astype("<u4").tobytes(), "little") + (
        int(d[-1]) << (32 * (d.size - 1))
    )


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
@pytest.mark.parametrize("spread", ["wide", "normal"])
def test_one_pass_gives_the_grid_counts_extremes_and_exact_sums(dtype, spread):
    # Several blocks of values of both signs, with zeros, subnormals and the extremes
    # of the type among them: spread over many binades (a coarse grid), or normal
    # with the specials counted on a fine grid slot by binade.
    rng = np.random.default_rng(7)
    n = 3 * 2**16 + 123
    scale = np.exp(rng.uniform(-60, 60, n)) if spread == "wide" else 1.0
    if dtype == "int64":
        scale = np.exp(rng.uniform(0, 40, n)) if spread == "wide" else 1e6
        x = (rng.normal(size=n) * scale).astype(np.int64)
        x[:3] = [np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0]
    else:
        info = np.finfo(dtype)
        x = (rng.normal(size=n) * scale).astype(dtype)
        special = [
            float(info.smallest_subnormal),
            -float(info.smallest_subnormal),
            float(info.smallest_normal) / 3,
            -float(info.smallest_normal) / 7,
            0.0,
            -0.0,
            np.nan,
            np.inf,
            -np.inf,
        ]
        if spread == "wide":
            special += [float(info.max), -float(info.max)]
        at = rng.choice(n, len(special) * 50, replace=False)
        x[at] = np.tile(np.array(special, dtype=dtype), 50)
    s1, s2 = _exact_sums(x)
    f = x[np.isfinite(x)] if x.dtype.kind == "f" else x
    cap = 1000 if spread == "wide" else 4096
    shift, keys, counts = _brute(x, cap)
    for threads in (1, 2, 8):
        g = ValueGrid(cap)
        m, d1, d2 = g._update_summarized(x, threads)
        assert (g.shift, g._g.keys.tolist(), g.counts.tolist()) == (
            shift,
            keys.tolist(),
            counts.tolist(),
        )
        assert (_digits(d1), _digits(d2)) == (s1, s2)
        assert m.count == f.size
        assert (m.nan, m.pos_inf, m.neg_inf) == ((50, 50, 50) if x.dtype.kind == "f" else (0, 0, 0))
        assert (m.min, m.max) == (float(f.min()), float(f.max()))


def test_values_not_counted_and_types():
    g = ValueGrid()
    g.update(np.array([np.nan, np.inf, -np.inf]))
    assert g.total == 0 and g.counts.size == 0
    g.update(np.array([-0.0, 0.0]))
    assert g.total == 2 and g.counts.tolist() == [2]
    a, b = ValueGrid(), ValueGrid()
    a.update(np.arange(-5, 5, dtype=np.int32))
    b.update(np.arange(-5, 5).astype(np.float32))
    assert a == b and a.total == 10 and a.shift == 0


def test_quantiles_within_one_cell():
    x = _data("lognormal", N)
    g = ValueGrid()
    g.update(x)
    q = np.linspace(0, 1, 101)
    got = g.quantiles(q)
    want = np.quantile(x, q)
    lo, hi, _ = g.cells()
    cell = np.searchsorted(hi, want, "left")  # the cell holding the exact quantile
    assert np.all(got >= lo[np.maximum(cell - 1, 0)]) and np.all(
        got <= hi[np.minimum(cell + 1, hi.size - 1)]
    )
    assert np.isnan(ValueGrid().quantiles([0.5])[0])
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        g.quantiles([1.5])


@pytest.mark.parametrize("name", ["normal", "lognormal", "timestamps", "poisson"])
@pytest.mark.parametrize("shift_sd", [0.0, 0.02, 0.3])
def test_ks_and_wasserstein_bounds_hold(name, shift_sd):
    x = _data(name, N, seed=2)
    y = _data(name, N, seed=3)
    y = y + shift_sd * np.std(x)
    a, b = ValueGrid(), ValueGrid()
    a.update(x)
    b.update(y)
    lower, upper = ks_bounds(a, b)
    exact = stats.ks_2samp(x, y).statistic
    assert lower - 1e-12 <= exact <= upper + 1e-12
    if shift_sd <= 0.02:  # the stated accuracy at 4e5 values a side, where it matters
        assert upper - lower <= 0.01
    w, bound = wasserstein(a, b, min(x.min(), y.min()), max(x.max(), y.max()))
    w_exact = stats.wasserstein_distance(x, y)
    assert abs(w - w_exact) <= bound + 1e-9 * max(1.0, abs(w_exact))
    if shift_sd <= 0.02:
        assert bound / np.std(x) < 0.02


def test_exact_at_shift_zero():
    rng = np.random.default_rng(4)
    x, y = rng.integers(0, 30, 5000), rng.integers(2, 33, 4000)
    a, b = ValueGrid(), ValueGrid()
    a.update(x)
    b.update(y)
    assert a.shift == b.shift == 0
    lower, upper = ks_bounds(a, b)
    assert lower == upper == pytest.approx(stats.ks_2samp(x, y).statistic, abs=1e-12)
    w, bound = wasserstein(a, b, 0, 32)
    assert bound == 0 and w == pytest.approx(stats.wasserstein_distance(x, y), rel=1e-12)


def test_aligned_partition():
    a, b = ValueGrid(16), ValueGrid(16)
    a.update(np.array([-3.0, -1.0, 1.0, 1.0, 100.0]))
    b.update(np.linspace(-2, 2, 1000))
    edges, ca, cb = a.aligned(b)
    assert edges.size == ca.size + 1 and np.all(np.diff(edges) >= 0)
    assert ca.sum() == 5 and cb.sum() == 1000


def _payload(g: ValueGrid) -> bytes:
    return _wire.unframe(g.to_bytes(), b"VGRD")


def _fields(p: bytes) -> tuple[int, int, int, list[int], list[int]]:
    cap, shift, total, nk = struct.unpack_from("<IiQQ", p)
    keys = list(struct.unpack_from(f"<{nk}Q", p, 24))
    (nc,) = struct.unpack_from("<Q", p, 24 + 8 * nk)
    counts = list(struct.unpack_from(f"<{nc}Q", p, 32 + 8 * nk))
    return cap, shift, total, keys, counts


def _pack(cap: int, shift: int, total: int, keys: list[int], counts: list[int]) -> bytes:
    body = struct.pack("<IiQQ", cap, shift, total, len(keys)) + struct.pack(f"<{len(keys)}Q", *keys)
    body += struct.pack("<Q", len(counts)) + struct.pack(f"<{len(counts)}Q", *counts)
    return _wire.frame(b"VGRD", body)


def test_round_trip_and_hostile_payloads():
    g = ValueGrid(64)
    g.update(np.array([1.0, 2.0, 2.0, 5.0]))
    assert ValueGrid.from_bytes(g.to_bytes()) == g
    cap, shift, total, keys, counts = _fields(_payload(g))
    assert ValueGrid.from_bytes(_pack(cap, shift, total, keys, counts)) == g
    bad = [
        (_pack(cap, shift, total, keys[::-1], counts), "strictly increasing"),
        (_pack(cap, shift, total, keys, [0, 1, 3]), "counts 0 values"),
        (_pack(cap, shift, total + 1, keys, counts), "not the sum"),
        (_pack(cap, 64, total, keys, counts), "shift 64"),
        (_pack(cap, -1, total, keys, counts), "shift -1"),
        (_pack(8, shift, total, keys, counts), "max_cells"),
        (_pack(2**21, shift, total, keys, counts), "max_cells"),
        (_pack(cap, shift, total, [keys[0], keys[1], 2**64 - 1], counts), "no finite value"),
        (_pack(cap, shift, 2**64 - 1, keys, [2**63, 2**63, 1]), "overflow"),
        (_pack(cap, shift, total, keys, counts)[:-9] + b"\0" * 4, "CRC|truncated|length"),
    ]
    for data, match in bad:
        with pytest.raises(ValueError, match=match):
            ValueGrid.from_bytes(data)


def test_bad_calls_leave_the_grid_unchanged():
    g = ValueGrid(64)
    g.update(np.arange(10.0))
    before = g.to_bytes()
    with pytest.raises(ValueError):
        g.update(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="different max_cells"):
        g.merge(ValueGrid(128))
    with pytest.raises(TypeError):
        g.merge(np.arange(3.0))  # type: ignore[arg-type]
    assert g.to_bytes() == before
    for cap in (15, 2**20 + 1):
        with pytest.raises(ValueError, match="max_cells"):
            ValueGrid(cap)
    assert driftcore.ValueGrid is ValueGrid


def test_pickle_and_copy():
    import pickle

    g = ValueGrid()
    g.update(_data("normal", 1000))
    assert pickle.loads(pickle.dumps(g)) == g
    c = g.copy()
    c.update(np.array([1.0]))
    assert c.total == g.total + 1


def test_cells_at_the_ends_of_the_line_stay_finite():
    g = ValueGrid(16)
    g.update(
        np.concatenate([np.geomspace(1e-300, 1.7e308, 40), -np.geomspace(1e-300, 1.7e308, 40)])
    )
    lo, hi, _ = g.cells()
    assert g.shift > 52 and np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))
    assert lo[0] == -np.finfo(float).max and hi[-1] == np.finfo(float).max
    e, _a, _b = g.aligned(g)
    assert np.all(np.isfinite(e)) and np.all(np.diff(e) >= 0)
    q = g.quantiles([0.0, 1.0])
    assert np.all(np.isfinite(q))


def test_bad_edges_and_mismatched_grids_are_refused():
    g = ValueGrid()
    g.update(np.arange(10.0))
    for edges in ([1.0], [2.0, 1.0], [0.0, np.nan], [[0.0, 1.0]], [0.0, np.inf]):
        with pytest.raises(ValueError, match="edges"):
            g.histogram(edges)
    other = ValueGrid(64)
    other.update(np.arange(10.0))
    with pytest.raises(ValueError, match="max_cells"):
        g.aligned(other)
    with pytest.raises(ValueError, match="max_cells"):
        ks_bounds(g, other)
    for shift in (-1, 64):
        with pytest.raises(ValueError, match="shift"):
            driftcore._core.grid_cell_bounds(np.zeros(1, np.uint64), shift)


def test_power_sums_refuse_bad_arrays():
    from driftcore import _core

    with pytest.raises(ValueError):
        _core.power_sums(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="unsupported dtype"):
        _core.power_sums(np.array(["a"]))
