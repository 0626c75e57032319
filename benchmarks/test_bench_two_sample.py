"""Exact two-sample statistics on raw float64 arrays: driftcore against scipy.

Groups ``ks`` (``driftcore.metrics.ks`` vs ``scipy.stats.ks_2samp``), ``ks-tiny-shift``
(the same at 1e6 a side with a 0.01-sd shift, where the p-value needs the Kolmogorov
distribution's slow branch in scipy) and ``wasserstein``
(``driftcore.metrics.wasserstein`` vs ``scipy.stats.wasserstein_distance``),
driftcore with threads=1. The KS statistic must
equal scipy's exactly (p-values to 1e-9 relative), the Wasserstein distance to 1e-9
relative. scipy's answers are computed once per session, untimed.
"""

from __future__ import annotations

import math

import pytest
from scipy import stats

import driftcore


@pytest.fixture(scope="module")
def scipy_answers(two_sample_values):
    a, b = two_sample_values
    ks = stats.ks_2samp(a, b)
    return {
        "ks": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
        "wasserstein": float(stats.wasserstein_distance(a, b)),
    }


def _items(two_sample_values) -> int:
    a, b = two_sample_values
    return a.size + b.size


# --- ks ------------------------------------------------------------------------------------


@pytest.mark.benchmark(group="ks")
def test_ks_driftcore(measure, two_sample_values, scipy_answers):
    a, b = two_sample_values
    r = measure(
        "two_sample",
        lambda: driftcore.metrics.ks(a, b, threads=1),
        impl="driftcore.metrics.ks (1 thread)",
        baseline=True,
        items=_items(two_sample_values),
    )
    assert r.statistic == scipy_answers["ks"]
    assert r.error_bound == 0.0
    assert math.isclose(r.pvalue, scipy_answers["ks_pvalue"], rel_tol=1e-9, abs_tol=0.0)


@pytest.mark.benchmark(group="ks")
def test_ks_scipy(measure, two_sample_values, scipy_answers):
    a, b = two_sample_values
    r = measure(
        "two_sample",
        stats.ks_2samp,
        a,
        b,
        impl="scipy.stats.ks_2samp",
        items=_items(two_sample_values),
    )
    assert r.statistic == scipy_answers["ks"]


# --- wasserstein ---------------------------------------------------------------------------


@pytest.mark.benchmark(group="wasserstein")
def test_wasserstein_driftcore(measure, two_sample_values, scipy_answers):
    a, b = two_sample_values
    r = measure(
        "two_sample",
        lambda: driftcore.metrics.wasserstein(a, b, threads=1),
        impl="driftcore.metrics.wasserstein (1 thread)",
        baseline=True,
        items=_items(two_sample_values),
    )
    assert math.isclose(r.distance, scipy_answers["wasserstein"], rel_tol=1e-9, abs_tol=0.0)
    assert r.error_bound == 0.0


@pytest.mark.benchmark(group="wasserstein")
def test_wasserstein_scipy(measure, two_sample_values, scipy_answers):
    a, b = two_sample_values
    d = measure(
        "two_sample",
        stats.wasserstein_distance,
        a,
        b,
        impl="scipy.stats.wasserstein_distance",
        items=_items(two_sample_values),
    )
    assert d == scipy_answers["wasserstein"]


# --- ks, the everyday case ------------------------------------------------------------------


@pytest.fixture(scope="module")
def scipy_tiny(tiny_shift_values):
    r = stats.ks_2samp(*tiny_shift_values)
    return float(r.statistic), float(r.pvalue)


@pytest.mark.benchmark(group="ks-tiny-shift")
def test_ks_tiny_shift_driftcore(measure, tiny_shift_values, scipy_tiny):
    a, b = tiny_shift_values
    r = measure(
        "two_sample",
        lambda: driftcore.metrics.ks(a, b, threads=1),
        impl="driftcore.metrics.ks (1 thread)",
        baseline=True,
        items=a.size + b.size,
    )
    assert r.statistic == scipy_tiny[0]
    assert math.isclose(r.pvalue, scipy_tiny[1], rel_tol=1e-9, abs_tol=1e-300)


@pytest.mark.benchmark(group="ks-tiny-shift")
def test_ks_tiny_shift_scipy(measure, tiny_shift_values, scipy_tiny):
    a, b = tiny_shift_values
    r = measure(
        "two_sample", stats.ks_2samp, a, b, impl="scipy.stats.ks_2samp", items=a.size + b.size
    )
    assert r.statistic == scipy_tiny[0]
