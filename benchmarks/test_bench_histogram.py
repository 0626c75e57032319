"""Histograms of float64 values: driftcore against numpy, fast-histogram and
boost-histogram, single-threaded, with every answer checked against numpy.histogram.

Groups:

* ``hist-uniform-64``: 64 equal bins over (-5, 5).
* ``hist-quantile-64``: 64 bins between 65 quantile edges of a 1e6 subsample.
* ``hist-threads``: driftcore with 2 threads (the baseline) and 1 thread, so the
  ratio of the 1-thread row is the speedup of 2 threads.

Each timed call builds a new histogram and fills it, for every implementation.
"""

from __future__ import annotations

import numpy as np
import pytest

import driftcore

# The same values as conftest.HIST_BINS / HIST_RANGE (checked by the hist_spec fixture).
HIST_BINS = 64
HIST_RANGE = (-5.0, 5.0)
LO, HI = HIST_RANGE


@pytest.fixture(autouse=True)
def _same_spec_as_conftest(hist_spec):
    assert hist_spec == (HIST_BINS, HIST_RANGE)


def _driftcore_uniform(x: np.ndarray, threads: int) -> driftcore.Histogram:
    h = driftcore.Histogram(bins=HIST_BINS, range=HIST_RANGE)
    h.update(x, threads=threads)
    return h


def _check_driftcore_uniform(h: driftcore.Histogram, x: np.ndarray, expected: np.ndarray) -> None:
    assert h.counts.dtype == np.uint64
    np.testing.assert_array_equal(h.counts, expected)
    assert h.nan == 0
    assert h.underflow == int(np.count_nonzero(x < LO))
    assert h.overflow == int(np.count_nonzero(x > HI))
    assert h.total == x.size


# --- hist-uniform-64 -----------------------------------------------------------------------


@pytest.mark.benchmark(group="hist-uniform-64")
def test_uniform_driftcore(measure, hist_values, hist_uniform_expected):
    h = measure(
        "hist",
        _driftcore_uniform,
        hist_values,
        1,
        impl="driftcore (1 thread)",
        baseline=True,
        items=hist_values.size,
    )
    _check_driftcore_uniform(h, hist_values, hist_uniform_expected)


@pytest.mark.benchmark(group="hist-uniform-64")
def test_uniform_numpy(measure, hist_values, hist_uniform_expected):
    counts, _ = measure(
        "hist",
        np.histogram,
        hist_values,
        HIST_BINS,
        HIST_RANGE,
        impl="numpy.histogram",
        items=hist_values.size,
    )
    np.testing.assert_array_equal(counts, hist_uniform_expected)


@pytest.mark.benchmark(group="hist-uniform-64")
def test_uniform_fast_histogram(measure, hist_values, hist_uniform_expected):
    fh = pytest.importorskip("fast_histogram")
    counts = measure(
        "hist",
        fh.histogram1d,
        hist_values,
        HIST_BINS,
        HIST_RANGE,
        impl="fast_histogram.histogram1d",
        items=hist_values.size,
    )
    # fast-histogram returns float64 counts.
    np.testing.assert_array_equal(counts.astype(np.int64), hist_uniform_expected)


@pytest.mark.benchmark(group="hist-uniform-64")
def test_uniform_boost_histogram(measure, hist_values, hist_uniform_expected):
    bh = pytest.importorskip("boost_histogram")

    def fill(x: np.ndarray):
        h = bh.Histogram(bh.axis.Regular(HIST_BINS, LO, HI))
        return h.fill(x)  # threads=None: single-threaded

    h = measure("hist", fill, hist_values, impl="boost_histogram Regular", items=hist_values.size)
    np.testing.assert_array_equal(h.values(), hist_uniform_expected)


# --- hist-quantile-64 ----------------------------------------------------------------------


@pytest.mark.benchmark(group="hist-quantile-64")
def test_quantile_driftcore(measure, hist_values, quantile_edges, quantile_expected):
    def fill(x: np.ndarray) -> driftcore.Histogram:
        h = driftcore.Histogram(quantile_edges)
        h.update(x, threads=1)
        return h

    h = measure(
        "hist",
        fill,
        hist_values,
        impl="driftcore (1 thread)",
        baseline=True,
        items=hist_values.size,
    )
    np.testing.assert_array_equal(h.counts, quantile_expected)
    assert h.underflow == int(np.count_nonzero(hist_values < quantile_edges[0]))
    assert h.overflow == int(np.count_nonzero(hist_values > quantile_edges[-1]))
    assert h.total == hist_values.size


@pytest.mark.benchmark(group="hist-quantile-64")
def test_quantile_numpy(measure, hist_values, quantile_edges, quantile_expected):
    counts, _ = measure(
        "hist",
        np.histogram,
        hist_values,
        quantile_edges,
        impl="numpy.histogram",
        items=hist_values.size,
    )
    np.testing.assert_array_equal(counts, quantile_expected)


@pytest.mark.benchmark(group="hist-quantile-64")
def test_quantile_boost_histogram(measure, hist_values, quantile_edges, quantile_expected):
    bh = pytest.importorskip("boost_histogram")

    def fill(x: np.ndarray):
        h = bh.Histogram(bh.axis.Variable(quantile_edges))
        return h.fill(x)

    h = measure("hist", fill, hist_values, impl="boost_histogram Variable", items=hist_values.size)
    got = h.values()
    # boost-histogram's last bin is half-open like the others: a value equal to the last
    # edge (the subsample's maximum, which is in the data) goes to its overflow, where
    # numpy closes the last bin. Everything else must agree.
    at_top = int(np.count_nonzero(hist_values == quantile_edges[-1]))
    np.testing.assert_array_equal(got[:-1], quantile_expected[:-1])
    assert int(got[-1]) + at_top == int(quantile_expected[-1])


# --- hist-threads --------------------------------------------------------------------------


@pytest.mark.benchmark(group="hist-threads")
@pytest.mark.parametrize("threads", [2, 1])
def test_threads_driftcore(measure, hist_values, hist_uniform_expected, threads):
    h = measure(
        "hist",
        _driftcore_uniform,
        hist_values,
        threads,
        impl=f"driftcore ({threads} thread{'s' if threads > 1 else ''})",
        baseline=threads == 2,
        items=hist_values.size,
        threads=threads,
    )
    _check_driftcore_uniform(h, hist_values, hist_uniform_expected)
