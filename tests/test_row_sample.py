"""The streaming row sample: its keys against a numpy twin of their definition, the
AVX-512 and portable kernels, the cut, and samples that do not depend on batching."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from driftcore import RowSample, _core

GAMMA = np.uint64(0x9E3779B97F4A7C15)


def twin_keys(base: int, start: int, n: int) -> np.ndarray:
    """Key of rows start .. start + n - 1 as 53-bit integers (row_sample.hpp)."""
    with np.errstate(over="ignore"):
        x = np.uint64(base) + (np.arange(start, start + n, dtype=np.uint64) + np.uint64(1)) * GAMMA
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x >> np.uint64(11)


@pytest.mark.parametrize(
    "start, n", [(0, 0), (0, 1), (0, 7), (3, 8), (2**40 + 5, 1003), (10**6, 65_537)]
)
@pytest.mark.parametrize("cut", [0.0, 1e-3, 0.25, 1.0])
def test_keys_match_their_definition_on_both_paths(portable, start, n, cut):
    base = _core.sample_base(7, 2)
    k = twin_keys(base, start, n)
    want = np.flatnonzero(k < np.uint64(np.ceil(cut * 2.0**53)))
    rows, keys = _core.sample_keys_below(base, start, n, cut)
    assert rows.dtype == np.int64 and keys.dtype == np.float64
    np.testing.assert_array_equal(rows, want)
    np.testing.assert_array_equal(keys, k[want].astype(np.float64) * 2.0**-53)
    with portable():
        r2, k2 = _core.sample_keys_below(base, start, n, cut)
    np.testing.assert_array_equal(r2, rows)
    np.testing.assert_array_equal(k2, keys)


def test_cut_edges_and_bad_cut():
    base = _core.sample_base(0, 0)
    assert _core.sample_keys_below(base, 0, 100, -1.0)[0].size == 0
    assert _core.sample_keys_below(base, 0, 100, 5.0)[0].size == 100
    with pytest.raises(ValueError, match="NaN"):
        _core.sample_keys_below(base, 0, 100, float("nan"))
    with pytest.raises(TypeError):  # seeds, streams and rows are unsigned 64-bit
        _core.sample_base(-1, 0)
    with pytest.raises(TypeError):
        _core.sample_keys_below(base, -5, 100, 0.5)


def test_keys_are_uniform_and_streams_differ():
    _, keys = _core.sample_keys_below(_core.sample_base(0, 1), 0, 200_000, 1.0)
    assert stats.kstest(keys, "uniform").pvalue > 1e-3
    _, other = _core.sample_keys_below(_core.sample_base(0, 2), 0, 200_000, 1.0)
    assert abs(np.corrcoef(keys, other)[0, 1]) < 0.01
    _, seed1 = _core.sample_keys_below(_core.sample_base(1, 1), 0, 200_000, 1.0)
    assert not np.array_equal(keys, seed1)


def _batches(n: int, sizes: list[int]):
    start = 0
    for size in sizes:
        yield pa.record_batch({"i": np.arange(start, min(n, start + size))})
        start += size


@pytest.mark.parametrize("expected_rows", [None, 50_000])
def test_sample_does_not_depend_on_batching_or_parts(expected_rows):
    n, size = 50_000, 300
    whole = RowSample(size, seed=3, stream=1, expected_rows=expected_rows)
    whole.update(pa.record_batch({"i": np.arange(n)}))
    want = whole.table()["i"].to_numpy()
    assert want.size == size and np.unique(want).size == size
    small = RowSample(size, seed=3, stream=1, expected_rows=expected_rows)
    for b in _batches(n, [1, 999, 7, 20_000, 29_000, 10**6]):
        small.update(b)
    np.testing.assert_array_equal(small.table()["i"].to_numpy(), want)
    parts = []
    for lo, hi in ((0, 12_345), (12_345, 12_346), (12_346, n)):
        r = RowSample(size, seed=3, stream=1, expected_rows=expected_rows, start=lo)
        r.update(pa.record_batch({"i": np.arange(lo, hi)}))
        parts.append(r)
    merged = parts[2].merge(parts[0]).merge(parts[1])  # any merge order
    np.testing.assert_array_equal(merged.table()["i"].to_numpy(), want)
    assert merged.seen == n


def test_sample_is_uniform_over_rows():
    # 2,000 independent seeds, one row each: every decile of the rows about equally often.
    n = 10_000
    picks = []
    for seed in range(2000):
        r = RowSample(1, seed=seed, expected_rows=n)
        r.update(pa.record_batch({"i": np.arange(n)}))
        picks.append(r.table()["i"][0].as_py())
    counts = np.bincount(np.asarray(picks) * 10 // n, minlength=10)
    assert stats.chisquare(counts).pvalue > 1e-3


def test_a_sample_of_some_rows_keyed_by_their_place_in_the_stream():
    # The rows a filter kept, offered with their stream row numbers: the sample of the
    # kept rows does not depend on how the stream was cut.
    n = 40_000
    kept = np.flatnonzero(np.random.default_rng(5).random(n) < 0.1)
    whole = RowSample(50, seed=2)
    whole.update(pa.record_batch({"i": kept}), rows=kept)
    parts = []
    for lo, hi in ((0, 9_999), (9_999, 10_000), (10_000, n)):
        sel = kept[(kept >= lo) & (kept < hi)]
        p = RowSample(50, seed=2)
        p.update(pa.record_batch({"i": sel}), rows=sel)
        parts.append(p)
    merged = parts[2].merge(parts[0]).merge(parts[1])
    np.testing.assert_array_equal(merged.table()["i"].to_numpy(), whole.table()["i"].to_numpy())
    # The keys are the stream's: a kept row has the key it has among all the rows.
    full = RowSample(n, seed=2)
    full.update(pa.record_batch({"i": np.arange(n)}))
    order = full.table()["i"].to_numpy()
    kept_set = set(kept.tolist())
    first_kept = [r for r in order if r in kept_set][:50]
    np.testing.assert_array_equal(whole.table()["i"].to_numpy(), first_kept)
    with pytest.raises(ValueError, match="row numbers"):
        whole.update(pa.record_batch({"i": [1, 2]}), rows=np.array([1]))
