"""The moments kernel against a numpy twin of its definition, bit for bit: blocks of
16,384 values; in a block, value i goes to lane i % 32, each lane adds in order, the
lanes combine by a fixed pairwise tree; blocks merge in order by Chan's formula."""

import numpy as np
import pytest

from driftcore import _core

LANES, BLOCK = 32, 1 << 14
FIELDS = ("count", "nan", "pos_inf", "neg_inf", "min", "max", "mean", "m2")


def lane_tree(a):
    a = a.copy()
    w = LANES // 2
    while w >= 1:
        a[:w] = a[:w] + a[w : 2 * w]
        w //= 2
    return float(a[0])


def lane_sum(terms):
    acc = np.zeros(LANES)
    rows = np.zeros(-(-terms.size // LANES) * LANES)
    rows[: terms.size] = terms
    for row in rows.reshape(-1, LANES):  # in order, lane by lane
        acc = acc + row
    return lane_tree(acc)


def block_twin(v):
    f = np.isfinite(v)
    out = {
        "count": int(f.sum()),
        "nan": int(np.isnan(v).sum()),
        "pos_inf": int((v == np.inf).sum()),
        "neg_inf": int((v == -np.inf).sum()),
    }
    if out["count"]:
        mean = lane_sum(np.where(f, v, 0.0)) / out["count"]
        d = np.where(f, v - mean, 0.0)
        out.update(mean=mean, m2=lane_sum(d * d), min=float(v[f].min()), max=float(v[f].max()))
    return out


def merge_twin(a, b):
    for k in ("nan", "pos_inf", "neg_inf"):
        a[k] += b[k]
    if b["count"] == 0:
        return a
    if a["count"] == 0:
        return {**b, "nan": a["nan"], "pos_inf": a["pos_inf"], "neg_inf": a["neg_inf"]}
    na, nb = float(a["count"]), float(b["count"])
    n, delta = na + nb, b["mean"] - a["mean"]
    mean = a["mean"] * (na / n) + b["mean"] * (nb / n)
    a["m2"] = a["m2"] + (b["m2"] + delta * delta * (na * nb / n))
    a.update(
        mean=mean,
        count=a["count"] + b["count"],
        min=min(a["min"], b["min"]),
        max=max(a["max"], b["max"]),
    )
    return a


def twin(x):
    v = x.astype(np.float64)
    total = {"count": 0, "nan": 0, "pos_inf": 0, "neg_inf": 0}
    for b in range(0, v.size, BLOCK):
        total = merge_twin(total, block_twin(v[b : b + BLOCK]))
    return total


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.uint8])
@pytest.mark.parametrize("n", [1, 31, 33, 1000, 3 * BLOCK + 1007])
def test_moments_equal_their_definition_bit_for_bit(rng, dtype, n):
    # float32 and float64 take the AVX-512 loop where the CPU has one; integers the
    # portable loop; both must give the definition's bits.
    if np.dtype(dtype).kind == "f":
        x = (rng.normal(3.0, 2.0, n) * 10.0 ** rng.integers(-3, 4, n)).astype(dtype)
    else:
        x = rng.integers(0, 250, n).astype(dtype) * (1 if dtype == np.uint8 else 10**15)
    if n > 40 and np.dtype(dtype).kind == "f":
        x[rng.choice(n, n // 50 + 1, replace=False)] = np.nan
        x[rng.choice(n, 3, replace=False)] = np.inf
        x[rng.choice(n, 2, replace=False)] = -np.inf
    want = twin(x)
    for threads in (1, 2):
        m = _core.moments(x, threads)
        got = {k: getattr(m, k) for k in want}
        assert got == want


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32])
def test_moments_do_not_depend_on_the_thread_count(rng, dtype):
    # Large enough for three workers (a thread per 2^20 values at most), with a last
    # block cut short.
    x = (rng.normal(5.0, 3.0, 3 * 2**20 + 4321) * 100).astype(dtype)
    one = _core.moments(x, 1)
    for threads in (2, 3, 8):
        m = _core.moments(x, threads)
        assert [getattr(m, k) for k in FIELDS] == [getattr(one, k) for k in FIELDS]


def test_moments_of_a_block_without_finite_values():
    x = np.array([np.nan, np.inf, -np.inf, np.nan] * 9000)
    m = _core.moments(x, 1)
    assert (m.count, m.nan, m.pos_inf, m.neg_inf) == (0, 18000, 9000, 9000)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_vectorized_and_portable_moments_agree(rng, portable, dtype):
    x = rng.standard_cauchy(2 * BLOCK + 333).astype(dtype)
    x[::41] = np.nan
    x[::43] = np.inf
    x[::47] = -0.0
    fast = _core.moments(x, 2)
    with portable():
        slow = _core.moments(x, 2)
    fields = ("count", "nan", "pos_inf", "neg_inf", "min", "max", "mean", "m2")
    assert [getattr(fast, f) for f in fields] == [getattr(slow, f) for f in fields]


def _as_int(d):
    return int.from_bytes(d[:-1].astype("<u4").tobytes(), "little") + (
        int(d[-1]) << (32 * (d.size - 1))
    )


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int32"])
def test_power_sums_are_exact_and_order_free(dtype):
    from fractions import Fraction

    from driftcore import _core

    rng = np.random.default_rng(5)
    if dtype.startswith("float"):
        info = np.finfo(dtype)
        big = rng.uniform(-1, 1, 50) * (float(info.max) / 4)
        x = np.concatenate(
            [
                rng.normal(size=3000),
                big,
                [float(info.smallest_subnormal), -0.0, np.nan, np.inf, -np.inf],
            ]
        )
        x = x.astype(dtype)
    else:
        x = rng.integers(np.iinfo(dtype).min, np.iinfo(dtype).max, 3000, dtype=dtype)
    s1, s2 = _core.power_sums(x, 1)
    finite = [Fraction(float(v)) for v in x.astype(np.float64) if np.isfinite(v)]
    assert _as_int(s1) == sum(finite) * 2**1074
    assert _as_int(s2) == sum(v * v for v in finite) * 2**2148
    for threads in (2, 8):
        t1, t2 = _core.power_sums(x[::-1].copy(), threads)
        assert np.array_equal(t1, s1) and np.array_equal(t2, s2)
