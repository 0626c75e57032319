import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import driftcore
from driftcore import Profile


def table(rng, n):
    x = rng.normal(size=n)
    x[::97] = np.nan
    return {"x": x, "i": rng.integers(0, 100, n), "c": rng.choice(["a", "b", "c"], n)}


def test_profile_of_dict_pandas_and_arrow_agree(rng):
    data = table(rng, 5000)
    p1 = Profile.build(data)
    df = pd.DataFrame(data)
    df["x"] = df["x"].astype(float)
    p2 = Profile.build(pa.Table.from_pydict(data))
    assert p1["x"].moments.count == p2["x"].moments.count == np.isfinite(data["x"]).sum()
    assert p1["x"].missing == p2["x"].missing == np.isnan(data["x"]).sum()
    assert p1["c"].counts == p2["c"].counts
    p3 = Profile.build(df)  # pandas NaN becomes a null
    assert p3["x"].missing == p1["x"].missing
    assert p3["x"].mean == pytest.approx(np.nanmean(data["x"]), rel=1e-12)


def test_dict_of_pandas_series_profiles_as_the_frame(rng):
    # A Series in a dict is read as the DataFrame's column is: pandas nulls (NaN, pd.NA,
    # None) are missing values, extension and object dtypes go through Arrow.
    df = pd.DataFrame(table(rng, 3000))
    df["n"] = pd.array(rng.integers(0, 9, 3000), dtype="Int64")
    df.loc[::7, "n"] = pd.NA
    df["o"] = pd.Series(rng.choice(["u", "v"], 3000), dtype=object)
    df.loc[::5, "o"] = None
    from_frame = Profile.build(df)
    from_series = Profile.build({name: df[name] for name in df.columns})
    assert from_series == from_frame
    assert from_series["n"].missing == 429 and from_series["o"].counts == from_frame["o"].counts
    with pytest.raises(ValueError, match="different lengths"):
        Profile.build({"x": df["x"], "i": df["i"][:10]})


def test_merge_of_halves_equals_whole(rng):
    data = table(rng, 20_000)
    ref = Profile.build(data)
    halves = [{k: v[:10_000] for k, v in data.items()}, {k: v[10_000:] for k, v in data.items()}]
    a = Profile.build(iter([halves[0]]), reference=ref)
    b = Profile.build(iter([halves[1]]), reference=ref)
    whole = Profile.build(iter([data]), reference=ref)
    a.merge(b)
    for name in ("x", "i"):
        ma, mw = a[name].moments, whole[name].moments
        assert (ma.count, ma.nan, ma.min, ma.max) == (mw.count, mw.nan, mw.min, mw.max)
        assert ma.mean == pytest.approx(mw.mean, rel=1e-12)
        assert ma.m2 == pytest.approx(mw.m2, rel=1e-12)
        assert a[name].grid == whole[name].grid
    assert a["c"].counts == whole["c"].counts
    x = data["x"][~np.isnan(data["x"])]
    med = a["x"].grid.quantiles([0.5])[0]
    _lo, _hi, counts = a["x"].grid.cells()
    assert abs(np.mean(x <= med) - 0.5) <= counts.max() / counts.sum()  # one cell


def test_chunked_build_matches_and_serializes(rng):
    data = table(rng, 9000)
    batches = pa.Table.from_pydict(data).to_batches(max_chunksize=1000)
    p = Profile.build(batches)
    assert p["i"].count == 9000
    q = Profile.from_bytes(p.to_bytes())
    assert q == p
    with pytest.raises(ValueError):
        Profile.from_bytes(p.to_bytes()[:-3])
    bad = bytearray(p.to_bytes())
    bad[30] ^= 0x10
    with pytest.raises(ValueError):
        Profile.from_bytes(bytes(bad))


def test_edge_columns():
    p = Profile.build(
        {
            "nan": np.full(3, np.nan),
            "inf": np.array([np.inf, 1.0, -np.inf]),
            "nulls": np.array([None, None, None], dtype=object),
        }
    )
    assert p["nan"].count == 0 and p["nan"].missing == 3 and p["nan"].grid.total == 0
    assert p["inf"].min == -np.inf and p["inf"].max == np.inf and p["inf"].mean == 1.0
    assert p["nulls"].missing == 3
    assert Profile.build({"one": np.array([2.0])})["one"].variance == 0.0


def test_bad_input(rng):
    with pytest.raises(TypeError, match="dict of arrays"):
        Profile.build(42)
    with pytest.raises(ValueError, match="different lengths"):
        Profile.build({"a": np.ones(3), "b": np.ones(4)})
    with pytest.raises(TypeError, match="unsupported"):
        Profile.build({"a": np.array([1 + 2j])})
    p = Profile.build({"a": np.ones(3)})
    before = p.to_bytes()
    with pytest.raises(TypeError, match="was numeric"):
        p.update({"a": np.array(["x", "y", "z"])})
    assert p.to_bytes() == before
    with pytest.raises(ValueError, match="different columns"):
        p.merge(Profile.build({"b": np.ones(3)}))
    with pytest.raises(KeyError, match="no column"):
        p["zzz"]
    assert isinstance(driftcore.build_info()["cuda_compiled"], bool)


def test_moments_of_huge_magnitudes_do_not_overflow(rng):
    x = np.concatenate([np.full(30_000, 1.5e308), np.full(30_000, 1.0e308)])
    rng.shuffle(x)
    p = Profile.build(iter([{"x": x[:20_000]}, {"x": x[20_000:]}]))
    assert p["x"].mean == pytest.approx(1.25e308, rel=1e-12)
    assert p["x"].min == 1.0e308 and p["x"].max == 1.5e308


def test_moments_match_numpy_float64(rng):
    x = rng.normal(1e6, 3.0, 200_003)
    for threads in (1, 2):
        m = driftcore._core.moments(x, threads)
        assert m.mean == pytest.approx(x.mean(), rel=1e-14)
        assert m.m2 / m.count == pytest.approx(x.var(), rel=1e-10)


@pytest.mark.parametrize(
    "dist", ["normal", "lognormal", "timestamps", "poisson", "categorical", "extremes", "zeros"]
)
def test_the_same_bytes_for_any_chunking_threads_and_merge_tree(dist):
    """A profile is a function of the multiset of rows: one table, 16 chunks, ~1,000
    random chunks in shuffled order, threads 1/2/8, left-fold and balanced merges give
    the same bytes, moments included."""
    rng = np.random.default_rng(11)
    n = 400_000
    col = {
        "normal": lambda: rng.normal(size=n),
        "lognormal": lambda: rng.lognormal(0, 2, n),
        "timestamps": lambda: 1.7e9 + rng.normal(0, 100, n),
        "poisson": lambda: rng.poisson(3, n).astype(float),
        "categorical": lambda: rng.choice(["a", "b", "c", "d"], n),
        "extremes": lambda: np.concatenate(
            [rng.normal(size=n - 6) * 1e-300, [1e308, -1e308, 5e-324, np.inf, np.nan, 0.0]]
        ),
        "zeros": lambda: rng.choice([0.0, -0.0, 1.0], n),
    }[dist]()
    table = pa.table({"v": col})
    want = Profile.build(table, threads=1).to_bytes()
    for threads in (2, 8):
        assert Profile.build(table, threads=threads).to_bytes() == want
    assert Profile.build(table.to_batches(max_chunksize=n // 16)).to_bytes() == want
    shuffled = table.take(pa.array(rng.permutation(n)))
    cuts = np.sort(rng.choice(n, 999, replace=False))
    chunks = [shuffled.slice(a, b - a) for a, b in zip(np.r_[0, cuts], np.r_[cuts, n])]
    assert Profile.build(iter(chunks)).to_bytes() == want
    parts = [Profile.build(c) for c in chunks]
    left = Profile()
    left.columns = dict(parts[0].columns)
    for p in parts[1:]:
        left.merge(p)
    assert left.to_bytes() == want
    while len(parts) > 1:
        parts = [
            parts[i].merge(parts[i + 1]) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    assert parts[0].to_bytes() == want


def test_mean_and_m2_are_the_exact_values_correctly_rounded():
    from fractions import Fraction

    rng = np.random.default_rng(12)
    for x in (
        1.7e9 + rng.normal(0, 1e-3, 5000),
        rng.normal(size=3000) * 1e150,
        np.array([1e308, 1e308, -1e308]),
        np.array([2.5]),
    ):
        m = Profile.build({"v": x})["v"].moments
        exact = [Fraction(float(v)) for v in x]
        mean = sum(exact) / len(exact)
        assert m.mean == float(mean)
        m2 = sum((v - mean) ** 2 for v in exact)
        assert m.m2 == (float(m2) if m2 < Fraction(1.7976931348623157e308) else np.inf)


def test_older_layout_is_refused_with_what_to_do():
    import json
    import struct

    from driftcore import _wire

    head = json.dumps({"bins": 10, "k": 400, "seed": 0, "columns": []}).encode()
    old = _wire.frame(b"PROF", struct.pack("<Q", len(head)) + head)
    with pytest.raises(ValueError, match="older layout.*rebuild it"):
        Profile.from_bytes(old)
