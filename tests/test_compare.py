from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import driftcore
from driftcore import Profile, compare

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "data"


def test_real_example_data_drifts_where_expected():
    ref = pq.read_table(EXAMPLE / "reference.parquet")
    cur = pq.read_table(EXAMPLE / "current.parquet")
    report = compare(ref, cur)
    assert report["weather"].drifted and report["temp_max"].drifted
    assert not report["precipitation"].drifted
    assert report["weather"].test == "chi_square"
    assert report.columns[0].drifted  # drifted columns first
    assert "dataset drift" in str(report)
    assert set(report.to_pandas()["column"]) == set(ref.column_names)


def test_large_samples_use_effect_sizes(rng):
    n = 200_000
    ref = {"same": rng.normal(size=n), "shift": rng.normal(size=n), "c": rng.choice(list("abc"), n)}
    cur = {
        "same": rng.normal(0.01, 1, n),
        "shift": rng.normal(0.5, 1, n),
        "c": rng.choice(list("abc"), n, p=[0.6, 0.2, 0.2]),
    }
    r = compare(ref, cur)
    assert r["same"].pvalue < 0.05 and not r["same"].drifted  # tiny p, tiny effect
    assert r["shift"].drifted and r["c"].drifted
    assert r["shift"].metrics["ks"] == pytest.approx(
        driftcore.metrics.ks(ref["shift"], cur["shift"]).statistic
    )


def test_profiles_streamed_match_raw_within_bounds(rng):
    n = 100_000
    ref = {"x": rng.normal(size=n)}
    cur = {"x": rng.normal(0.05, 1, n)}
    raw = compare(ref, cur)["x"]
    sk = compare(Profile.build(iter([ref])), Profile.build(iter([cur])))["x"]
    assert abs(sk.metrics["ks"] - raw.metrics["ks"]) <= sk.error_bounds["ks"]
    assert (
        abs(sk.metrics["wasserstein"] - raw.metrics["wasserstein"])
        <= sk.error_bounds["wasserstein"]
    )
    assert sk.drifted is False  # sketch error alone never triggers a verdict


def test_columns_and_categories_on_one_side(rng):
    ref = {"a": rng.normal(size=100), "only_ref": rng.normal(size=100), "c": ["x"] * 100}
    cur = {
        "a": rng.normal(size=50),
        "only_cur": rng.normal(size=50),
        "c": ["x"] * 40 + ["new"] * 10,
    }
    r = compare(ref, cur)
    assert r["only_ref"].kind == "missing" and r["only_ref"].drifted is None
    assert r["only_cur"].kind == "missing"
    assert r["c"].unseen_categories == ["new"] and r["c"].drifted
    assert compare(ref, cur, columns=["a"]).columns[0].column == "a"
    with pytest.raises(KeyError, match="unknown"):
        compare(ref, cur, columns=["zzz"])


def test_tiny_and_empty_sides(rng):
    r = compare({"a": np.array([1.0, 2.0])}, {"a": np.array([1.5])})
    assert r["a"].test == "ks" and r["a"].drifted is False
    r = compare({"a": np.array([1.0, 2.0])}, {"a": np.array([np.nan])})
    assert r["a"].drifted is None and "no values" in r["a"].rule


def test_corrections(rng):
    ref = {f"c{i}": rng.normal(size=200) for i in range(10)}
    cur = {f"c{i}": rng.normal(size=200) for i in range(10)}
    raw = compare(ref, cur, correction="none")
    bonf = compare(ref, cur, correction="bonferroni")
    holm = compare(ref, cur)
    bh = compare(ref, cur, correction="bh")
    for name in ref:
        assert raw[name].pvalue == holm[name].pvalue == raw[name].pvalue_adjusted
        assert bonf[name].pvalue_adjusted >= holm[name].pvalue_adjusted >= bh[name].pvalue_adjusted
        assert bh[name].pvalue_adjusted >= raw[name].pvalue
    with pytest.raises(ValueError, match="correction"):
        compare(ref, cur, correction="fdr")


def test_mismatched_kinds_are_refused():
    with pytest.raises(TypeError, match="numeric in the reference"):
        compare({"a": np.ones(3)}, {"a": ["x", "y", "z"]})


def test_raw_and_profile_paths_agree_while_grids_hold_one_value_a_cell(rng):
    ref = {"x": rng.normal(size=3000), "c": rng.choice(list("abcd"), 3000)}
    cur = {"x": rng.normal(0.2, 1, 2500), "c": rng.choice(list("abcd"), 2500)}
    raw = compare(ref, cur)
    ref_p = Profile.build(ref)
    prof = compare(ref_p, Profile.build(cur, reference=ref_p))
    for name in ("x", "c"):
        for key, value in raw[name].metrics.items():
            assert prof[name].metrics[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key
        assert prof[name].pvalue == pytest.approx(raw[name].pvalue, rel=1e-9)
        assert prof[name].drifted == raw[name].drifted


@pytest.mark.parametrize("path", ["raw", "profile"])
def test_a_stray_infinity_neither_forces_nor_hides_drift(rng, path):
    # Wasserstein in compare is over the finite values: one inf must not make an
    # unchanged column "drifted" (infinite distance) nor a shifted one "stable"
    # (infinite sketch error bound).
    ref = rng.normal(size=20_000)
    ref[[3, 7]] = [np.inf, -np.inf]

    def verdict(cur):
        if path == "raw":
            return driftcore.compare({"x": ref}, {"x": cur})["x"]
        r = driftcore.Profile.build({"x": ref})
        return driftcore.compare(r, driftcore.Profile.build({"x": cur}, reference=r))["x"]

    same = verdict(rng.normal(size=20_000))
    assert not same.drifted
    assert np.isfinite(same.metrics["wasserstein"])
    assert np.isfinite(same.error_bounds.get("wasserstein", 0.0))
    finite = ref[np.isfinite(ref)]
    shifted_values = rng.normal(0.3, 1, 20_000)
    shifted = verdict(shifted_values)
    assert shifted.drifted and shifted.metrics["psi"] < 0.2  # found by Wasserstein
    exact = driftcore.metrics.wasserstein(finite, shifted_values).distance
    tol = 1e-9 * exact if path == "raw" else shifted.error_bounds["wasserstein"]
    assert abs(shifted.metrics["wasserstein"] - exact) <= tol


def test_dates_times_durations_and_decimals_are_numbers(rng, tmp_path):
    import datetime
    import decimal

    import pyarrow as pa

    from driftcore.cli import main

    def table(days, n):
        start = np.datetime64("2024-01-01")
        stamps = start + rng.integers(0, days, n).astype("timedelta64[D]")
        return pa.table(
            {
                "signup": pa.array(stamps.astype("datetime64[us]")),
                "day": pa.array(stamps.astype("datetime64[D]")),
                "wait": pa.array(rng.integers(0, 3600, n).astype("timedelta64[s]")),
                "price": pa.array(
                    [decimal.Decimal(f"{v:.2f}") for v in rng.uniform(1, 100, n)],
                    pa.decimal128(8, 2),
                ),
                "at": pa.array([datetime.time(int(h)) for h in rng.integers(0, 24, n)]),
            }
        )

    ref, same, later = table(300, 2000), table(300, 2000), table(600, 2000)
    r = compare(ref, same)
    assert {c.kind for c in r.columns} == {"numeric"} and not r.dataset_drift
    moved = compare(ref, later)
    assert moved["signup"].drifted and moved["day"].drifted and not moved["price"].drifted
    nulls = ref.set_column(0, "signup", pa.array([None] * 2000, pa.timestamp("us")))
    assert compare(nulls, ref)["signup"].missing_reference == 2000
    pq.write_table(ref, tmp_path / "r.parquet")
    pq.write_table(later, tmp_path / "c.parquet")
    assert main(["check", str(tmp_path / "r.parquet"), str(tmp_path / "c.parquet"), "-q"]) == 1
    pq.write_table(same, tmp_path / "s.parquet")
    assert main(["check", str(tmp_path / "r.parquet"), str(tmp_path / "s.parquet"), "-q"]) == 0


@pytest.mark.parametrize("path", ["raw", "profile"])
def test_one_huge_outlier_per_side_does_not_hide_a_shift(rng, path):
    n = 100_000
    ref, cur = rng.normal(size=n), rng.normal(0.2, 1, n)
    ref[5], cur[9] = 1e10, 1e10
    if path == "raw":
        r = compare({"x": ref}, {"x": cur})["x"]
    else:
        rp = Profile.build({"x": ref})
        r = compare(rp, Profile.build({"x": cur}, reference=rp))["x"]
    assert r.drifted and r.metrics["wasserstein_normed"] == pytest.approx(0.2, abs=0.03)
    assert r.metrics["scale_reference"] == pytest.approx(1.0, abs=0.05)
    plain = compare({"x": rng.normal(size=n)}, {"x": rng.normal(0.2, 1, n)})["x"]
    assert plain.metrics["scale_reference"] == pytest.approx(1.0, abs=0.02)  # the std itself


EDGE_CASES = {
    "empty": (np.array([]), np.array([]), None),
    "all NaN": (np.full(50, np.nan), np.arange(50.0), None),
    "constant": (np.ones(100), np.ones(80), False),
    "constant, moved": (np.ones(100), np.full(80, 2.0), True),
    "one row": (np.array([1.0]), np.array([2.0]), False),
    "infinities": (
        np.array([np.inf, -np.inf, 1.0, 2.0] * 30),
        np.array([np.inf, 1.5, 2.5] * 30),
        True,
    ),
    "only infinities": (np.full(20, np.inf), np.full(20, -np.inf), True),
    "near the float64 limit": (
        np.array([-1.7e308, 1.7e308, 0.0] * 20),
        np.array([1.0, 2.0, 3.0] * 20),
        True,
    ),
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
@pytest.mark.parametrize("path", ["raw", "profile"])
def test_edge_cases_give_a_verdict_or_none_without_errors(name, path):
    import warnings

    a, b, want = EDGE_CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if path == "raw":
            r = compare({"x": a}, {"x": b})["x"]
        else:
            rp = Profile.build({"x": a})
            r = compare(rp, Profile.build({"x": b}, reference=rp))["x"]
    assert r.drifted is want
    assert r.pvalue is None or 0.0 <= r.pvalue <= 1.0


def test_polars_frames_and_series_are_tables(rng):
    pl = pytest.importorskip("polars")
    x, c = rng.normal(size=3000), rng.choice(["a", "b", None], 3000)
    frame = pl.DataFrame({"x": x, "c": c, "d": pl.Series(rng.integers(0, 9, 3000)).cast(pl.Int16)})
    moved = pl.DataFrame({"x": x + 1.0, "c": c, "d": frame["d"]})
    r = compare(frame, moved)
    assert r["x"].drifted and not r["c"].drifted and r["c"].missing_reference == (c == None).sum()
    assert compare({"x": frame["x"]}, {"x": moved["x"]})["x"].drifted
    prof = Profile.build(frame)
    assert prof["x"].count == 3000 and prof["c"].counts.nulls == r["c"].missing_reference
    assert compare(prof, Profile.build(moved, reference=prof))["x"].drifted
    with pytest.raises(TypeError, match="collect"):
        compare(frame.lazy(), moved)


def test_robust_scale_of_a_sorted_sample_equals_the_weighted_rule(rng):
    from driftcore.compare import _robust_scale

    for n in (10, 999, 1000, 5000, 100_000):
        x = np.sort(np.concatenate([rng.normal(size=n), [1e10, -np.inf, np.inf]]))
        std = float(np.std(x[np.isfinite(x)]))
        assert _robust_scale(std, x, None) == _robust_scale(std, x, np.ones(x.size))
