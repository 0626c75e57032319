"""The decision rule tested as statistics: family-wise false alarms under no drift,
valid (or conservative) p-values, power on planted shifts, and its corner cases."""

import math

import numpy as np
import pytest
from scipy import stats

import driftcore
from driftcore import Profile, compare, metrics
from driftcore.verdict import Rules, adjust_pvalues, decide

# --- the correction ---------------------------------------------------------------------------


def _holm_reference(p):
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def _bh_reference(p):
    m = len(p)
    return [
        min(
            1.0,
            min(m * p[j] / sum(p[k] <= p[j] for k in range(m)) for j in range(m) if p[j] >= p[i]),
        )
        for i in range(m)
    ]


@pytest.mark.parametrize("m", [1, 2, 7, 40])
def test_adjustments_match_their_definitions(rng, m):
    for _ in range(20):
        p = rng.uniform(size=m) ** 3
        p[rng.integers(m)] = p[0]  # ties
        assert np.allclose(adjust_pvalues(p, "holm"), _holm_reference(list(p)), rtol=1e-12)
        assert np.allclose(adjust_pvalues(p, "bh"), _bh_reference(list(p)), rtol=1e-12)
        assert np.allclose(adjust_pvalues(p, "bonferroni"), np.minimum(p * m, 1))
        assert np.array_equal(adjust_pvalues(p, "none"), p)


def test_adjustment_refuses_bad_input():
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        adjust_pvalues([0.1, np.nan], "holm")
    with pytest.raises(ValueError, match="correction"):
        adjust_pvalues([0.1], "fdr")
    with pytest.raises(ValueError, match="alpha"):
        Rules(alpha=0)
    with pytest.raises(ValueError, match="drift_share"):
        Rules(drift_share=1.5)
    with pytest.raises(ValueError, match="test 'mmd'"):
        decide([], Rules(), {"mmd": 1.5})


# --- false alarms under no drift ------------------------------------------------------------


def _correlated(rng, n, k, rho=0.8):
    z = rng.normal(size=(n, 1))
    return math.sqrt(rho) * z + math.sqrt(1 - rho) * rng.normal(size=(n, k))


@pytest.mark.parametrize("correction", ["holm", "bh"])
def test_family_wise_false_alarms_stay_below_alpha_with_correlated_columns(rng, correction):
    # 25 correlated columns, no drift: the chance that *any* column is called drifted
    # is at most alpha (one-sided binomial bound on 300 runs).
    runs, alarms = 300, 0
    for _ in range(runs):
        x, y = _correlated(rng, 200, 25), _correlated(rng, 200, 25)
        ref = {f"c{i}": x[:, i] for i in range(25)}
        cur = {f"c{i}": y[:, i] for i in range(25)}
        alarms += compare(ref, cur, correction=correction, threads=1).dataset_drift
    assert stats.binomtest(alarms, runs, 0.05, alternative="greater").pvalue > 0.01, alarms


def test_without_correction_false_alarms_grow_with_columns(rng):
    runs, alarms = 100, 0
    for _ in range(runs):
        ref = {f"c{i}": rng.normal(size=300) for i in range(30)}
        cur = {f"c{i}": rng.normal(size=300) for i in range(30)}
        alarms += compare(
            ref, cur, correction="none", wasserstein_threshold=0, threads=1
        ).dataset_drift
    assert alarms > 50  # 1 - 0.95^30 = 0.79: why the family is corrected


def test_many_sparse_levels_are_not_drift(rng):
    # ~200 levels with ~8 rows each a side: raw PSI and JS are large from noise alone.
    levels = np.array([f"country-{i:03d}" for i in range(200)])
    calls = 0
    for _ in range(40):
        r = compare({"c": rng.choice(levels, 1600)}, {"c": rng.choice(levels, 1600)})["c"]
        assert r.metrics["js_distance"] > 0.1 or r.metrics["psi"] > 0.15  # the old alarm
        assert r.metrics["psi_debiased"] < r.metrics["psi"]
        calls += bool(r.drifted)
    assert calls <= 6


# --- p-values: valid under no drift ----------------------------------------------------------


@pytest.mark.parametrize("n", [40, 3000, 20_000])
def test_exact_ks_and_chi_square_pvalues_are_uniform_under_no_drift(rng, n):
    ks_p, chi_p = [], []
    for _ in range(300):
        ks_p.append(compare({"x": rng.normal(size=n)}, {"x": rng.normal(size=n)})["x"].pvalue)
        a = rng.choice(list("abcdef"), n, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1])
        b = rng.choice(list("abcdef"), n, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1])
        chi_p.append(compare({"c": a}, {"c": b})["c"].pvalue)
    # KS is discrete at small n (conservative), so test the size, not exact uniformity
    for p in (np.array(ks_p), np.array(chi_p)):
        for alpha in (0.01, 0.05, 0.2):
            assert (
                stats.binomtest(
                    int((p <= alpha).sum()), p.size, alpha, alternative="greater"
                ).pvalue
                > 0.005
            )
    assert stats.kstest(chi_p, "uniform").pvalue > 1e-3


def test_profile_pvalues_are_conservative_and_never_below_the_exact_ones(rng):
    # 20,000 values a side: the sketches have compacted, the fine bins decide.
    small = 0
    for seed in range(60):
        x, y = rng.normal(size=20_000), rng.normal(0.0, 1, 20_000)
        raw = compare({"x": x}, {"x": y})["x"]
        rp = Profile.build({"x": x})
        prof = compare(rp, Profile.build({"x": y}, reference=rp))["x"]
        assert prof.conservative and not raw.conservative
        assert prof.pvalue >= raw.pvalue * (1 - 1e-9)
        assert prof.metrics["ks"] <= raw.metrics["ks"] + 1e-12
        assert raw.metrics["ks"] <= prof.metrics["ks"] + prof.error_bounds["ks"] + 1e-12
        assert (
            abs(prof.metrics["wasserstein"] - raw.metrics["wasserstein"])
            <= prof.error_bounds["wasserstein"]
        )
        small += prof.pvalue <= 0.05
    assert small <= 6


def test_sketch_only_pvalues_hold_their_level(rng):
    # Profiles built independently (no shared bins): KS from the two sketches, at the
    # lower end of the sketch's error bound.
    pvalues = []
    for _ in range(40):
        x, y = rng.normal(size=50_000), rng.normal(size=50_000)
        pvalues.append(
            compare(Profile.build(iter([{"x": x}])), Profile.build(iter([{"x": y}])))["x"].pvalue
        )
    assert sum(p <= 0.05 for p in pvalues) <= 5


def test_ks_between_two_sketches_is_conservative_at_large_n(rng):
    # 200,000 values a side: the estimated statistic alone (as if exact) gave
    # P(p <= 0.05) of 0.6-0.8 under no drift; taken at its lower bound it holds.
    small = 0
    for seed in range(30):
        a, b = driftcore.QuantileSketch(seed=seed), driftcore.QuantileSketch(seed=seed + 99)
        a.update(rng.normal(size=200_000))
        b.update(rng.normal(size=200_000))
        r = metrics.ks(a, b)
        assert r.error_bound > 0
        assert r.pvalue == metrics.ks_pvalue(max(r.statistic - r.error_bound, 0), a.n, b.n)
        small += r.pvalue <= 0.05
    assert small <= 3


# --- power ----------------------------------------------------------------------------------------


def test_half_sd_shift_of_one_column_in_thirty_is_found_at_500_rows(rng):
    found = 0
    for _ in range(30):
        x, y = _correlated(rng, 500, 30, 0.5), _correlated(rng, 500, 30, 0.5)
        y[:, 7] += 0.5
        r = compare(
            {f"c{i}": x[:, i] for i in range(30)}, {f"c{i}": y[:, i] for i in range(30)}, threads=1
        )
        found += r.dataset_drift and r["c7"].drifted
    assert found >= 27


def test_small_shift_through_saved_profiles_at_1e5_rows(rng):
    n = 100_000
    for shift in (0.2, 0.15):
        rp = Profile.build({"x": rng.normal(size=n)})
        cur = Profile.build({"x": rng.normal(shift, 1, n)}, reference=rp)
        back = Profile.from_bytes(rp.to_bytes())
        r = compare(back, Profile.from_bytes(cur.to_bytes()))["x"]
        assert r.drifted and r.conservative
        assert r.metrics["wasserstein_normed"] == pytest.approx(shift, abs=0.02)
        assert r.error_bounds["wasserstein_normed"] < 0.08


def test_multiplicative_shift_of_a_skewed_column_through_profiles(rng):
    n = 100_000
    income = rng.lognormal(10, 0.6, n)
    rp = Profile.build({"income": income})
    cur = Profile.build({"income": rng.lognormal(10, 0.6, n) * 1.12}, reference=rp)
    r = compare(rp, cur)["income"]
    raw = compare({"income": income}, {"income": rng.lognormal(10, 0.6, n) * 1.12})["income"]
    assert r.drifted and raw.drifted
    assert r.error_bounds["wasserstein_normed"] < 0.08


# --- discrete columns and categories ---------------------------------------------------------


def test_discrete_numeric_columns_are_compared_value_by_value(rng):
    ref = {"x": rng.choice([0, 0.4, 0.8, 1.2, 1.6, 2.0], 600)}
    cur = {"x": rng.choice([0.0, 1.0, 2.0], 600)}
    raw = compare(ref, cur)["x"]
    assert raw.by_value and raw.test == "chi_square" and raw.drifted
    assert raw.unseen_categories == [1.0]
    as_cats = metrics.js_distance(
        [str(v) for v in ref["x"]], [str(v) for v in cur["x"]], categorical=True
    )
    assert raw.metrics["js_distance"] == pytest.approx(as_cats, rel=1e-12)
    rp = Profile.build(ref)
    prof = compare(rp, Profile.build(cur, reference=rp))["x"]
    assert prof.by_value and prof.metrics == pytest.approx(raw.metrics, rel=1e-12)
    # Ratings 1-5 under no drift: no alarm, compared by value.
    r = compare({"r": rng.integers(1, 6, 5000)}, {"r": rng.integers(1, 6, 5000)})["r"]
    assert r.by_value and not r.drifted


def test_value_counts_in_profiles_merge_and_survive_serialization(rng):
    parts = [{"r": rng.integers(1, 6, 3000).astype(float)} for _ in range(4)]
    whole = Profile.build(iter(parts))
    merged = Profile.build(iter(parts[:2])).merge(Profile.build(iter(parts[2:])))
    assert whole["r"].values == merged["r"].values
    assert sum(whole["r"].values.values()) == 12_000
    assert Profile.from_bytes(whole.to_bytes())["r"].values == whole["r"].values
    cont = Profile.build({"x": rng.normal(size=5000)})  # more values than grid cells
    assert cont["x"].values is None


def test_integer_codes_can_be_declared_categorical(rng):
    ref = {"zip3": rng.integers(100, 400, 3000), "x": rng.normal(size=3000)}
    cur = {"zip3": rng.integers(100, 400, 3000), "x": rng.normal(size=3000)}
    r = compare(ref, cur, categorical=["zip3"])
    assert r["zip3"].kind == "categorical" and r["zip3"].test == "chi_square"
    rp = Profile.build(ref, categorical=["zip3"])
    cp = Profile.build(cur, reference=rp)
    assert cp["zip3"].kind == "categorical"
    assert compare(rp, cp)["zip3"].pvalue == pytest.approx(r["zip3"].pvalue, rel=1e-9)
    with pytest.raises(TypeError, match="non-integer"):
        compare({"x": np.array([0.5, 1.0])}, {"x": np.array([1.0])}, categorical=["x"])


# --- the family includes extra tests -----------------------------------------------------------


def test_an_extra_test_joins_the_family(rng):
    ref = {f"c{i}": rng.normal(size=400) for i in range(4)}
    cur = {f"c{i}": rng.normal(size=400) for i in range(4)}
    r = compare(ref, cur, tests={"mmd": 0.001})
    out = r.tests["mmd"]
    assert out.rejected and r.dataset_drift
    assert out.pvalue_adjusted == pytest.approx(0.005)  # smallest of 5 under Holm
    assert not compare(ref, cur, tests={"mmd": 0.02}).tests["mmd"].rejected
    assert "mmd test" in str(r)


# --- corner cases ------------------------------------------------------------------------------


def test_smoothing_zero_and_bad_counts():
    a, b = np.array([0.0, 5, 5, 0]), np.array([0.0, 4, 6, 0])
    assert math.isfinite(metrics.binned_metrics(a, b, smoothing=0)["psi"])
    assert metrics.psi(np.arange(10.0), np.arange(10.0)[::-1], smoothing=0) == 0.0
    with pytest.raises(ValueError, match=">= 0"):
        metrics.chi_square_counts(np.array([5.0, -1.0]), np.array([3.0, 3.0]))
    with pytest.raises(ValueError, match="aligned"):
        metrics.chi_square_counts(np.array([5.0, 1.0]), np.array([3.0]))


def test_debiased_metrics_are_near_zero_under_no_drift_and_follow_real_shifts(rng):
    a = np.bincount(rng.integers(0, 50, 2000), minlength=50)
    b = np.bincount(rng.integers(0, 50, 2000), minlength=50)
    m = metrics.binned_metrics(a, b)
    assert m["psi_debiased"] < 0.03 < m["psi"]
    c = np.bincount(rng.integers(0, 25, 2000), minlength=50)  # half the levels vanish
    assert metrics.binned_metrics(a, c)["psi_debiased"] > 1


# --- missing values ------------------------------------------------------------------------------


def _with_missing(rng, n, share):
    x = rng.normal(size=n)
    x[rng.random(n) < share] = np.nan
    return x


def test_a_missing_value_spike_is_a_finding(rng, tmp_path):
    ref = {"x": _with_missing(rng, 2000, 0.03), "y": rng.normal(size=2000)}
    cur = {"x": _with_missing(rng, 2000, 0.40), "y": rng.normal(size=2000)}
    r = compare(ref, cur)
    assert r["x"].missing_changed and not r["x"].drifted  # the values themselves did not move
    assert r.dataset_drift and r.n_missing_changed == 1
    assert r["y"].missing_changed is None and r["y"].missing_pvalue is None
    assert "missing values" in str(r)
    # Through profiles and the command line alike.
    rp = Profile.build(ref)
    assert compare(rp, Profile.build(cur, reference=rp))["x"].missing_changed
    import pyarrow as pa
    import pyarrow.parquet as pq

    from driftcore.cli import main

    pq.write_table(pa.table(ref), tmp_path / "r.parquet")
    pq.write_table(pa.table(cur), tmp_path / "c.parquet")
    assert (
        main(
            [
                "check",
                str(tmp_path / "r.parquet"),
                str(tmp_path / "c.parquet"),
                "-q",
                "--json",
                str(tmp_path / "o.json"),
            ]
        )
        == 1
    )
    import json

    doc = json.loads((tmp_path / "o.json").read_text())
    assert any("missing values in 'x'" in reason for reason in doc["summary"]["reasons"])


def test_missing_shares_under_no_change_rarely_alarm(rng):
    alarms = 0
    for _ in range(100):
        r = compare(
            {f"c{i}": _with_missing(rng, 500, 0.1) for i in range(5)},
            {f"c{i}": _with_missing(rng, 500, 0.1) for i in range(5)},
        )
        alarms += r.n_missing_changed > 0
    assert alarms <= 6
    small = compare(
        {"x": _with_missing(rng, 100_000, 0.10)}, {"x": _with_missing(rng, 100_000, 0.12)}
    )
    assert small["x"].missing_pvalue_adjusted < 1e-6 and not small["x"].missing_changed


def test_a_test_rejects_at_exactly_alpha():
    # p <= alpha rejects, in the library and the command line alike (one rule).
    assert decide([], Rules(), {"mmd": 0.05})["mmd"].rejected
    assert not decide([], Rules(), {"mmd": 0.0500001})["mmd"].rejected


def test_noise_floor_refuses_bad_counts():
    with pytest.raises(ValueError, match="aligned"):
        metrics.noise_floor(np.array([1.0, 2.0]), np.array([1.0]))
    with pytest.raises(ValueError, match=">= 0"):
        metrics.noise_floor(np.array([1.0, -2.0]), np.array([1.0, 1.0]))
    assert math.isnan(metrics.noise_floor(np.zeros(3), np.ones(3)))
