"""Exact-row leakage: ``driftcore.exact_row_leakage`` against a pandas inner merge on
the same tables (1e6 training rows x 1e5 evaluation rows, 5 columns: 2 float64,
2 int64, 1 string; 2e4 x 2e3 in quick mode).

Half of the evaluation rows are copies of random training rows, half are drawn afresh
(a few of those collide with training rows by chance: ``f0`` is rounded to two
decimals and ``i0`` has 100 values). The pandas baseline is
``ev.merge(train.drop_duplicates(), how="inner")`` with both positions carried along
and sorted by evaluation position; ``drop_duplicates`` keeps the first occurrence, so it
reports the same smallest training row. Every implementation's answer is checked
against the others: the same leaked evaluation rows with the same training rows.

Group ``exact-rows``; the rounds are those of ``compare`` (a table-level call).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import driftcore

QUICK = os.environ.get("DRIFTCORE_BENCH_QUICK", "").strip() == "1"
N_TRAIN, N_EVAL = (20_000, 2_000) if QUICK else (1_000_000, 100_000)
VOCAB = 5_000
COLUMNS = ["f0", "f1", "i0", "i1", "s"]
SEED = 20_251_127


def _table(rng: np.random.Generator, n: int, vocab: np.ndarray):
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(
        {
            "f0": np.round(rng.standard_normal(n), 2),
            "f1": rng.random(n),
            "i0": rng.integers(0, 100, n),
            "i1": rng.integers(0, 10**12, n),
            "s": vocab[rng.integers(0, vocab.size, n)],
        }
    )


@pytest.fixture(scope="module")
def frames():
    """(train, eval) pandas DataFrames; ``s`` is an object column of str."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng([SEED, 20])
    vocab = np.array([f"item-{i:05d}-é" for i in range(VOCAB)], dtype=object)
    train = _table(rng, N_TRAIN, vocab)
    copied = train.iloc[rng.integers(0, N_TRAIN, N_EVAL // 2)]
    fresh = _table(rng, N_EVAL - N_EVAL // 2, vocab)
    ev = pd.concat([copied, fresh]).sample(frac=1.0, random_state=1)
    return train, ev.reset_index(drop=True)


@pytest.fixture(scope="module")
def tables(frames):
    pa = pytest.importorskip("pyarrow")
    train, ev = frames
    return (
        pa.Table.from_pandas(train, preserve_index=False),
        pa.Table.from_pandas(ev, preserve_index=False),
    )


@pytest.fixture(scope="module")
def expected(frames):
    """(eval positions, train positions) from the pandas baseline, computed untimed."""
    return _pandas_leakage(*frames)


def _pandas_leakage(train, ev):
    first = train.drop_duplicates().reset_index(names="train_index")
    joined = ev.reset_index(names="eval_index").merge(first, on=COLUMNS, how="inner")
    joined = joined.sort_values("eval_index")
    return joined["eval_index"].to_numpy(), joined["train_index"].to_numpy()


def _check(result, expected) -> None:
    eval_index, train_index = expected
    assert result.n_eval == N_EVAL and result.n_train == N_TRAIN
    assert result.columns == COLUMNS
    assert N_EVAL // 2 <= result.n_leaked < 0.6 * N_EVAL
    np.testing.assert_array_equal(result.eval_index, eval_index)
    np.testing.assert_array_equal(result.train_index, train_index)


def _items() -> int:
    return (N_TRAIN + N_EVAL) * len(COLUMNS)


@pytest.mark.benchmark(group="exact-rows")
def test_exact_rows_driftcore_pandas(measure, frames, expected):
    train, ev = frames
    result = measure(
        "compare",
        lambda: driftcore.exact_row_leakage(train, ev),
        impl="driftcore.exact_row_leakage (pandas in)",
        baseline=True,
        items=_items(),
        train_rows=N_TRAIN,
        eval_rows=N_EVAL,
    )
    _check(result, expected)


@pytest.mark.benchmark(group="exact-rows")
def test_exact_rows_driftcore_arrow(measure, tables, expected):
    train, ev = tables
    result = measure(
        "compare",
        lambda: driftcore.exact_row_leakage(train, ev),
        impl="driftcore.exact_row_leakage (Arrow in)",
        items=_items(),
        train_rows=N_TRAIN,
        eval_rows=N_EVAL,
    )
    _check(result, expected)


@pytest.mark.benchmark(group="exact-rows")
def test_exact_rows_driftcore_streamed(measure, tables, expected):
    train, ev = tables
    batches = train.to_batches(max_chunksize=65_536)
    result = measure(
        "compare",
        lambda: driftcore.exact_row_leakage(iter(batches), ev),
        impl="driftcore.exact_row_leakage (Arrow, 64Ki-row batches)",
        items=_items(),
        train_rows=N_TRAIN,
        eval_rows=N_EVAL,
    )
    _check(result, expected)


@pytest.mark.benchmark(group="exact-rows")
def test_exact_rows_pandas_merge(measure, frames, expected):
    train, ev = frames
    got = measure(
        "compare",
        lambda: _pandas_leakage(train, ev),
        impl="pandas drop_duplicates + inner merge",
        items=_items(),
        train_rows=N_TRAIN,
        eval_rows=N_EVAL,
    )
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
