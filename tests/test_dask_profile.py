"""driftcore.dask profiles and comparisons on a LocalCluster of worker processes equal
the single-process results: profiles to the byte."""

import math

import numpy as np
import pytest

dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")
pytest.importorskip("distributed")

import driftcore
import driftcore.dask as dcd
from driftcore.profile import NumericColumn


def _frame(rng, n, shift=0.0):
    x = rng.normal(shift, 1.0, n)
    x[rng.random(n) < 0.01] = np.nan
    x[:3] = [np.inf, -np.inf, np.nan]
    return pd.DataFrame(
        {
            "x": x,
            "i": rng.integers(-50, 50, n),
            "c": rng.choice(["a", "b", "c", None], n, p=[0.5, 0.3, 0.15, 0.05]),
        }
    )


def _assert_counts_equal(a, b):
    assert list(a.columns) == list(b.columns)
    for name, ca in a.columns.items():
        cb = b.columns[name]
        assert ca.kind == cb.kind
        if isinstance(ca, NumericColumn):
            ma, mb = ca.moments, cb.moments
            assert (ma.count, ma.nan, ma.pos_inf, ma.neg_inf) == (
                mb.count,
                mb.nan,
                mb.pos_inf,
                mb.neg_inf,
            )
            assert (ma.min, ma.max, ca.nulls) == (mb.min, mb.max, cb.nulls)
            assert math.isclose(ma.mean, mb.mean, rel_tol=1e-9, abs_tol=1e-12)
            assert math.isclose(ma.m2, mb.m2, rel_tol=1e-9)
            assert ca.grid == cb.grid
        else:
            assert ca.counts == cb.counts


@pytest.mark.parametrize(
    "n, npartitions, split_every", [(3000, 1, 8), (3000, 5, 8), (200_000, 7, 3), (200_000, 16, 8)]
)
def test_profile_equals_single_process(dask_client, rng, n, npartitions, split_every):
    # Counts, value grids and exact sums merge exactly: the same bytes whatever the
    # partitioning and tree.
    df = _frame(rng, n)
    got = dcd.profile(dd.from_pandas(df, npartitions=npartitions), split_every=split_every)
    want = driftcore.Profile.build(df)
    _assert_counts_equal(got, want)
    assert got.to_bytes() == want.to_bytes() and got.fingerprint() == want.fingerprint()


def test_current_profile_with_a_reference_equals_single_process(dask_client, rng):
    ref, cur = _frame(rng, 50_000), _frame(rng, 40_000, shift=0.3)
    ref_prof = driftcore.Profile.build(ref)
    got = dcd.profile(dd.from_pandas(cur, npartitions=4), reference=ref_prof)
    _assert_counts_equal(got, driftcore.Profile.build(cur, reference=ref_prof))


def test_compare_equals_single_process(dask_client, rng):
    ref, cur = _frame(rng, 3000), _frame(rng, 3000, shift=0.4)
    got = dcd.compare(dd.from_pandas(ref, npartitions=3), dd.from_pandas(cur, npartitions=2))
    ref_prof = driftcore.Profile.build(ref)
    want = driftcore.compare(ref_prof, driftcore.Profile.build(cur, reference=ref_prof))
    assert [c.column for c in got.columns] == [c.column for c in want.columns]
    for g in got.columns:
        w = want[g.column]
        assert (g.drifted, g.n_reference, g.n_current, g.missing_reference) == (
            w.drifted,
            w.n_reference,
            w.n_current,
            w.missing_reference,
        )
        for key, value in w.metrics.items():
            assert math.isclose(g.metrics[key], value, rel_tol=1e-9, abs_tol=1e-12), key
    assert got["x"].drifted and not got["c"].drifted


def test_compare_counts_declared_categories_as_single_process(dask_client, rng):
    ref, cur = _frame(rng, 3000), _frame(rng, 3000)
    got = dcd.compare(
        dd.from_pandas(ref, npartitions=3), dd.from_pandas(cur, npartitions=2), categorical=["i"]
    )
    want = driftcore.compare(ref, cur, categorical=["i"])
    assert got["i"].kind == want["i"].kind == "categorical"
    assert got["i"].pvalue == pytest.approx(want["i"].pvalue, rel=1e-12)
    assert got["i"].pvalue_adjusted == pytest.approx(want["i"].pvalue_adjusted, rel=1e-12)


def test_compare_large_within_error_bounds(dask_client, rng):
    ref, cur = _frame(rng, 100_000), _frame(rng, 80_000, shift=0.3)
    ref["x"] = ref["x"].replace([np.inf, -np.inf], np.nan)
    cur["x"] = cur["x"].replace([np.inf, -np.inf], np.nan)
    got = dcd.compare(
        dd.from_pandas(ref, npartitions=4), dd.from_pandas(cur, npartitions=3), columns=["x", "i"]
    )
    exact = driftcore.compare(ref, cur, columns=["x", "i"])  # raw tables: exact metrics
    for name in ("x", "i"):
        g, e = got[name], exact[name]
        assert (g.n_reference, g.n_current) == (e.n_reference, e.n_current)
        for metric in ("ks", "wasserstein"):
            bound = g.error_bounds.get(metric, 0.0)
            assert abs(g.metrics[metric] - e.metrics[metric]) <= bound + 1e-12, (name, metric)
        assert g.drifted == e.drifted == (name == "x")


def test_profile_from_a_saved_reference_and_a_profile_side(dask_client, rng):
    ref, cur = _frame(rng, 2000), _frame(rng, 2000)
    ref_prof = dcd.profile(dd.from_pandas(ref, npartitions=2))
    cur_prof = dcd.profile(dd.from_pandas(cur, npartitions=2), reference=ref_prof)
    a = dcd.compare(ref_prof, dd.from_pandas(cur, npartitions=2))
    b = dcd.compare(ref_prof, cur_prof)
    assert repr(a.to_dict()) == repr(b.to_dict())  # repr: NaN metrics compare equal


def test_threaded_scheduler_without_a_client(rng):
    df = _frame(rng, 1000)
    got = dcd.profile(dd.from_pandas(df, npartitions=3), scheduler="sync")
    _assert_counts_equal(got, driftcore.Profile.build(df))


def test_cluster_and_threads_give_the_same_bytes(dask_client, rng):
    # The same states merged in the same order up the same tree, wherever they run.
    df = _frame(rng, 50_000)
    ddf = dd.from_pandas(df, npartitions=11)  # two levels of 8-way merges
    assert dcd.profile(ddf) == dcd.profile(ddf, scheduler="sync")
    assert dcd.profile(ddf["x"]) == dcd.profile(ddf["x"], scheduler="threads")
    empty = dd.from_pandas(
        pd.DataFrame({"x": np.full(100, np.nan), "c": ["a"] * 100}), npartitions=2
    )
    got = dcd.profile(empty)
    assert got == dcd.profile(empty, scheduler="sync") and got["x"].grid.total == 0


def test_bad_input(dask_client, rng):
    ddf = dd.from_pandas(_frame(rng, 100), npartitions=2)
    with pytest.raises(KeyError, match=r"unknown columns \['nope'\]"):
        dcd.profile(ddf, columns=["x", "nope"])
    with pytest.raises(TypeError, match="Dask DataFrame"):
        dcd.profile(_frame(rng, 10))
    with pytest.raises(ValueError, match="bins must be a positive integer"):
        dcd.profile(ddf, bins=0)
    with pytest.raises(ValueError, match="split_every"):
        dcd.profile(ddf, split_every=1)
    with pytest.raises(TypeError, match="unknown keyword"):
        dcd.compare(ddf, ddf, psi=0.3)
    # states with different settings never merge
    a = driftcore.Profile.build({"x": np.arange(5.0)}, max_cells=200)
    with pytest.raises(ValueError, match="different max_cells: 200 != 4096"):
        a.merge(driftcore.Profile.build({"x": np.arange(5.0)}))


def test_read_parquet_feeds_the_same_profile(dask_client, rng, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    parts = [_frame(rng, n) for n in (1500, 10, 2200)]
    for i, part in enumerate(parts):
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), tmp_path / f"p{i}.parquet")
    ddf = dcd.read_parquet(tmp_path, columns=["x", "c"])
    assert ddf.npartitions == 3 and list(ddf.columns) == ["x", "c"]
    whole = pd.concat(parts, ignore_index=True)[["x", "c"]]
    _assert_counts_equal(dcd.profile(ddf), driftcore.Profile.build(whole))
    assert dcd.read_parquet(str(tmp_path / "p*.parquet")).npartitions == 3
    with pytest.raises(FileNotFoundError, match="no Parquet files"):
        dcd.read_parquet(tmp_path / "missing")
    with pytest.raises(KeyError, match="no columns"):
        dcd.read_parquet(tmp_path, columns=["nope"])
    with pytest.raises(TypeError, match="not a string"):
        dcd.read_parquet(tmp_path, columns="xc")


@pytest.mark.parametrize("reader", ["driftcore", "dask"])
def test_partition_work_runs_in_the_read_task(tmp_path, reader):
    # One task a partition (read and profile fused) plus the merges: a task of its own
    # per read doubled the scheduler round trips.
    from driftcore.dask import _graph

    for i in range(5):
        pd.DataFrame({"x": np.arange(100.0) + i}).to_parquet(tmp_path / f"p{i}.parquet")
    ddf = dcd.read_parquet(tmp_path) if reader == "driftcore" else dd.read_parquet(tmp_path)
    tree = _graph.tree_merge(_graph.per_partition(len, ddf["x"]), sum, split_every=4)
    assert len(dict(tree.__dask_graph__())) == 5 + 2 + 1  # 5 partitions, then 2 + 1 merges
    assert tree.compute(scheduler="sync") == 500
