"""driftcore.exact_row_leakage: exact-row leakage between a training and an evaluation
table, checked against a brute-force Python reference."""

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import driftcore
from driftcore import RowLeakage, exact_row_leakage
from driftcore import exact_rows as er

NAN = float("nan")


def pairs(r: RowLeakage) -> list[tuple[int, int]]:
    return list(zip(r.eval_index.tolist(), r.train_index.tolist()))


# --- the brute-force reference --------------------------------------------------------


def canon(v):
    """Python's == on numbers is exact across int and float; NaN and null are made
    hashable, bools kept apart from 1 and 0."""
    if v is None:
        return ("null",)
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, float) and math.isnan(v):
        return ("nan",)
    return v


def reference(train: dict, ev: dict, cols: list[str]) -> list[tuple[int, int]]:
    n_train = len(next(iter(train.values())))
    first: dict = {}
    for i in range(n_train):
        first.setdefault(tuple(canon(train[c][i]) for c in cols), i)
    n_eval = len(next(iter(ev.values())))
    out = []
    for i in range(n_eval):
        key = tuple(canon(ev[c][i]) for c in cols)
        if key in first:
            out.append((i, first[key]))
    return out


FLOATS = [0.0, -0.0, 1.0, 1.5, NAN, None, 2.0**53, math.inf, -math.inf, 1e300]
INTS = [0, 1, 2, -5, 2**53, 2**53 + 1, None, 2**62]
STRINGS = ["", "a", "é", "e\u0301", None, "日本", "A"]


def random_tables(rng, n_train, n_eval):
    def draw(pool, n):
        return [pool[i] for i in rng.integers(0, len(pool), n)]

    train = {
        "x": draw(FLOATS, n_train),
        "i": draw(INTS, n_train),
        "s": draw(STRINGS, n_train),
    }
    ev = {
        "s": draw(STRINGS, n_eval),
        "i": draw(INTS, n_eval),
        "x": draw(FLOATS, n_eval),
    }
    # The evaluation "i" is float64: int 2**53 + 1 must not match float 2**53.
    ev["i"] = [None if v is None else float(v) for v in ev["i"]]
    # and copy some training rows into the evaluation table
    for j in rng.integers(0, n_eval, n_eval // 3):
        k = int(rng.integers(0, n_train))
        for c, col in ev.items():
            v = train[c][k]
            col[j] = float(v) if (c == "i" and v is not None) else v
    return train, ev


def as_arrow(table: dict, types: dict) -> pa.Table:
    return pa.table({c: pa.array(v, type=types[c]) for c, v in table.items()})


TRAIN_TYPES = {"x": pa.float64(), "i": pa.int64(), "s": pa.string()}
EVAL_TYPES = {"x": pa.float64(), "i": pa.float64(), "s": pa.large_string()}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force_reference(seed):
    rng = np.random.default_rng(seed)
    train, ev = random_tables(rng, 400, 300)
    expected = reference(train, ev, ["x", "i", "s"])
    assert len(expected) > 100  # many repeats: the test means something
    t, e = as_arrow(train, TRAIN_TYPES), as_arrow(ev, EVAL_TYPES)
    r = exact_row_leakage(t, e)
    assert r.columns == ["x", "i", "s"]  # training order
    assert pairs(r) == expected
    assert r.n_eval == 300 and r.n_train == 400
    assert r.n_eval_distinct == len({tuple(canon(ev[c][i]) for c in r.columns) for i in range(300)})
    # the same through pandas object columns and plain dicts of lists
    assert pairs(exact_row_leakage(train, ev)) == expected
    # streamed in uneven batches, through a RecordBatchReader and a generator
    batches = t.to_batches(max_chunksize=37)
    assert pairs(exact_row_leakage(iter(batches), e)) == expected
    reader = pa.RecordBatchReader.from_batches(t.schema, batches)
    assert pairs(exact_row_leakage(reader, e)) == expected


@settings(max_examples=40, deadline=None)
@given(
    train=st.lists(st.tuples(st.sampled_from(FLOATS), st.sampled_from(STRINGS)), max_size=40),
    ev=st.lists(st.tuples(st.sampled_from(FLOATS), st.sampled_from(STRINGS)), max_size=40),
    chunk=st.integers(1, 10),
)
def test_property_reference_and_streaming(train, ev, chunk):
    tr = {"x": [r[0] for r in train], "s": [r[1] for r in train]}
    e = {"x": [r[0] for r in ev], "s": [r[1] for r in ev]}
    types = {"x": pa.float64(), "s": pa.string()}
    t = as_arrow(tr, types)
    expected = reference(tr, e, ["x", "s"]) if train and ev else []
    r = exact_row_leakage(t, as_arrow(e, types))
    assert pairs(r) == expected
    assert (
        pairs(exact_row_leakage(t.to_batches(max_chunksize=chunk), as_arrow(e, types))) == expected
    )


@pytest.mark.parametrize(
    "fake_hash",
    [
        lambda tag, val: np.zeros(tag.shape[1], np.uint64),  # every row collides
        lambda tag, val: val[0] & np.uint64(3),  # a few buckets of unequal sizes
    ],
    ids=["constant", "four-buckets"],
)
def test_forced_hash_collisions_are_rejected(monkeypatch, fake_hash):
    """With a hash that collides all the time only the exact check decides."""
    rng = np.random.default_rng(7)
    train, ev = random_tables(rng, 120, 90)
    expected = reference(train, ev, ["x", "i", "s"])
    monkeypatch.setattr(er, "_mix_rows", fake_hash)
    r = exact_row_leakage(as_arrow(train, TRAIN_TYPES), as_arrow(ev, EVAL_TYPES))
    assert pairs(r) == expected
    assert r.n_eval_distinct == len({tuple(canon(ev[c][i]) for c in r.columns) for i in range(90)})
    r = exact_row_leakage({"a": [1, 2, 3]}, {"a": [4, 5, 2]})
    assert pairs(r) == [(2, 1)]


# --- canonical form -------------------------------------------------------------------


def test_nan_null_and_signed_zero():
    train = {"x": pa.array([NAN, None, -0.0, 1.0], pa.float64())}
    ev = {"x": pa.array([0.0, None, -NAN, 2.0, NAN], pa.float64())}
    r = exact_row_leakage(train, ev)
    assert pairs(r) == [(0, 2), (1, 1), (2, 0), (4, 0)]
    # null never matches NaN or 0, and NaN never matches null
    assert exact_row_leakage({"x": [None]}, {"x": [NAN, 0.0]}).n_leaked == 0
    assert exact_row_leakage({"x": [NAN]}, {"x": pa.array([None], pa.float64())}).n_leaked == 0
    # a NaN with another payload is still NaN
    other_nan = np.array([0x7FF8000000000123], np.uint64).view(np.float64)
    assert exact_row_leakage({"x": other_nan}, {"x": [NAN]}).n_leaked == 1


def test_int_and_float_columns_compare_by_value():
    r = exact_row_leakage(
        {"a": np.array([1, 2, -3], np.int64)}, {"a": np.array([-3.0, 1.0, 2.5, 0.0])}
    )
    assert pairs(r) == [(0, 2), (1, 0)]
    cases = [  # (train, eval, match?)
        (pa.array([2**53 + 1], pa.int64()), pa.array([2.0**53]), False),
        (pa.array([2**53], pa.int64()), pa.array([2.0**53]), True),
        (pa.array([2**63], pa.uint64()), pa.array([2.0**63]), True),
        (pa.array([2**63], pa.uint64()), pa.array([-(2**63)], pa.int64()), False),
        (pa.array([2**64 - 1], pa.uint64()), pa.array([-1], pa.int64()), False),
        (pa.array([7], pa.uint8()), pa.array([7], pa.int64()), True),
        (pa.array([0.5], pa.float32()), pa.array([0.5], pa.float64()), True),
        (pa.array([0.1], pa.float32()), pa.array([0.1], pa.float64()), False),
        (pa.array([1], pa.float16()), pa.array([1], pa.int16()), True),
        (pa.array([math.inf]), pa.array([math.inf]), True),
        (pa.array([math.inf]), pa.array([-math.inf]), False),
        (pa.array([2.0**70]), pa.array([2.0**70]), True),
        (pa.array([-0.0]), pa.array([0], pa.int32()), True),
    ]
    for train, ev, match in cases:
        r = exact_row_leakage({"a": train}, {"a": ev})
        assert r.n_leaked == int(match), (train, ev)


def test_bools_are_their_own_type():
    r = exact_row_leakage({"b": [True, False, None]}, {"b": [None, True, True]})
    assert pairs(r) == [(0, 2), (1, 0), (2, 0)]
    with pytest.raises(TypeError, match="'b'.*bool"):
        exact_row_leakage({"b": [True, False]}, {"b": [1, 0]})


def test_strings_by_exact_bytes():
    train = {"s": ["", "é", "日本", "a", None]}
    ev = {"s": np.array(["e\u0301", "é", "", "A", "a ", "日本"])}
    r = exact_row_leakage(train, ev)
    assert pairs(r) == [(1, 1), (2, 0), (5, 2)]
    # string, large_string, string_view, dictionary and categorical agree
    forms = [
        pa.array(["x", "y", None], pa.large_string()),
        pa.array(["x", "y", None]).dictionary_encode(),
        pa.chunked_array([["x"], ["y", None]]),
        pd.Series(["x", "y", None], dtype="category"),
        np.array(["x", "y", None], dtype=object),
    ]
    if hasattr(pa, "string_view"):
        forms.append(pa.array(["x", "y", None], pa.string_view()))
    for col in forms:
        r = exact_row_leakage({"s": pa.array(["y", None, "x"])}, {"s": col})
        assert pairs(r) == [(0, 2), (1, 0), (2, 1)], type(col)


def test_binary_by_bytes():
    r = exact_row_leakage(
        {"b": [b"\x00", b"", b"ab"]},
        {"b": np.array([b"ab", b"\x00\x00"], dtype=object)},
    )
    assert pairs(r) == [(0, 2)]
    r = exact_row_leakage({"b": pa.array([b"ab"], pa.binary(2))}, {"b": [b"ab"]})
    assert r.n_leaked == 1
    with pytest.raises(TypeError, match="'b'"):
        exact_row_leakage({"b": [b"ab"]}, {"b": ["ab"]})


def test_timestamps_dates_durations_by_instant():
    s = pa.array([1, 2, None], pa.timestamp("s"))
    ns = pa.array([2_000_000_000, 1_000_000_001, None, 1_000_000_000], pa.timestamp("ns"))
    assert pairs(exact_row_leakage({"t": s}, {"t": ns})) == [(0, 1), (2, 2), (3, 0)]
    d32 = pa.array([dt.date(2024, 1, 1), dt.date(1900, 3, 4)], pa.date32())
    d64 = pa.array([dt.date(1900, 3, 4), dt.date(2024, 1, 2)], pa.date64())
    assert pairs(exact_row_leakage({"d": d32}, {"d": d64})) == [(0, 1)]
    dur = exact_row_leakage(
        {"d": pa.array([1500], pa.duration("ms"))},
        {"d": pa.array([1500000, 1], pa.duration("us"))},
    )
    assert pairs(dur) == [(0, 0)]
    # far-out seconds do not overflow when compared with nanoseconds
    far = pa.array([2**62], pa.timestamp("s"))
    assert exact_row_leakage({"t": far}, {"t": pa.array([0], pa.timestamp("ns"))}).n_leaked == 0
    # time zones: instants compare; naive against zoned is refused
    utc = pa.array([0], pa.timestamp("s", tz="UTC"))
    paris = pa.array([0], pa.timestamp("ms", tz="Europe/Paris"))
    assert exact_row_leakage({"t": utc}, {"t": paris}).n_leaked == 1
    with pytest.raises(TypeError, match="'t'"):
        exact_row_leakage({"t": utc}, {"t": pa.array([0], pa.timestamp("s"))})
    with pytest.raises(TypeError, match="'t'"):
        exact_row_leakage({"t": d32}, {"t": pa.array([0], pa.timestamp("s"))})
    # pandas: NaT is null
    times = pd.to_datetime(["2024-01-01", None, "2024-01-02"])
    r = exact_row_leakage(pd.DataFrame({"t": times}), pd.DataFrame({"t": times[::-1]}))
    assert pairs(r) == [(0, 2), (1, 1), (2, 0)]


def test_pandas_nan_stays_nan_object_missing_is_null():
    train = pd.DataFrame({"x": [NAN, 1.0], "s": ["a", None]})
    ev = pd.DataFrame({"x": [NAN, 1.0, 1.0], "s": ["a", NAN, pd.NA]}, index=[5, 6, 7])
    r = exact_row_leakage(train, ev)
    assert pairs(r) == [(0, 0), (1, 1), (2, 1)]  # positions, not the pandas index
    r = exact_row_leakage(
        pd.DataFrame({"i": pd.array([1, None], "Int64")}),
        pd.DataFrame({"i": [None, 1.0]}, dtype=object),
    )
    assert pairs(r) == [(0, 1), (1, 0)]


# --- shapes of input ------------------------------------------------------------------


def test_empty_tables():
    r = exact_row_leakage({"a": [1, 2]}, {"a": []})
    assert r.n_leaked == 0 and r.n_eval == 0 and r.n_train == 2 and r.rate == 0.0
    assert r.eval_index.dtype == np.int64 and r.train_index.dtype == np.int64
    r = exact_row_leakage(pd.DataFrame({"a": np.zeros(0)}), pd.DataFrame({"a": [1.0]}))
    assert r.n_leaked == 0 and r.n_train == 0 and r.n_eval == 1
    r = exact_row_leakage([], {"a": [1.0]})  # an empty stream
    assert r.n_leaked == 0 and r.n_train == 0 and r.columns == ["a"]
    empty = pa.table({"a": pa.array([], pa.float64())})
    r = exact_row_leakage(empty, empty)
    assert r.n_leaked == 0 and r.rate == 0.0 and r.n_eval_distinct == 0


def test_single_row():
    assert pairs(exact_row_leakage({"a": [1], "b": ["x"]}, {"a": [1.0], "b": ["x"]})) == [(0, 0)]
    assert exact_row_leakage({"a": [1], "b": ["x"]}, {"a": [1], "b": ["y"]}).n_leaked == 0


def test_all_null_columns():
    train = {"n": [None, None, None], "a": [1, 2, 3]}
    ev = {"n": [None, None], "a": [3, 4]}
    assert pairs(exact_row_leakage(train, ev)) == [(0, 2)]
    # an all-null column against a typed one: only the nulls can match
    train = {"n": pa.array(["p", None, "q"]), "a": [1, 2, 3]}
    assert pairs(exact_row_leakage(train, {"n": [None, None], "a": [2, 3]})) == [(0, 1)]
    assert pairs(exact_row_leakage({"n": [None], "a": [2]}, {"n": ["p", None], "a": [2, 2]})) == [
        (1, 0)
    ]


def test_duplicates_on_both_sides():
    train = {"a": [1, 2, 1, 2, 3]}
    ev = {"a": [2, 2, 9, 1, 9, 1]}
    r = exact_row_leakage(train, ev)
    assert pairs(r) == [(0, 1), (1, 1), (3, 0), (5, 0)]  # the smallest training row
    assert r.n_eval_distinct == 3 and r.n_eval_duplicates == 3 and r.n_leaked_distinct == 2
    assert r.rate == pytest.approx(4 / 6)


def test_column_order_and_selection():
    train = pa.table({"a": [1, 2], "b": ["x", "y"], "c": [0.5, 0.5], "only_train": [0, 0]})
    ev = pd.DataFrame({"only_eval": [7, 7], "c": [0.5, 9.0], "b": ["y", "x"], "a": [2, 1]})
    r = exact_row_leakage(train, ev)
    assert r.columns == ["a", "b", "c"] and pairs(r) == [(0, 1)]
    r = exact_row_leakage(train, ev, columns=["b", "a"])
    assert r.columns == ["b", "a"] and pairs(r) == [(0, 1), (1, 0)]
    with pytest.raises(KeyError, match="only_train.*eval_table"):
        exact_row_leakage(train, ev, columns=["a", "only_train"])
    with pytest.raises(KeyError, match="only_eval.*train_table"):
        exact_row_leakage(train, ev, columns=["only_eval"])
    with pytest.raises(ValueError, match="no columns in common"):
        exact_row_leakage({"p": [1]}, {"q": [1]})
    with pytest.raises(ValueError, match="empty"):
        exact_row_leakage(train, ev, columns=[])
    with pytest.raises(TypeError, match="list of column names"):
        exact_row_leakage(train, ev, columns="a")


def test_bad_inputs():
    with pytest.raises(ValueError, match="different lengths"):
        exact_row_leakage({"a": [1, 2], "b": [1]}, {"a": [1]})
    with pytest.raises(ValueError, match="different lengths"):
        exact_row_leakage({"a": [1]}, {"a": np.arange(3), "b": np.arange(2)})
    with pytest.raises(ValueError, match="1-D"):
        exact_row_leakage({"a": np.zeros((2, 2))}, {"a": [1]})
    with pytest.raises(TypeError, match="eval_table must be one table"):
        exact_row_leakage({"a": [1]}, [{"a": [1]}])
    with pytest.raises(TypeError, match="train_table"):
        exact_row_leakage(3, {"a": [1]})
    with pytest.raises(TypeError, match="not a table"):
        exact_row_leakage([{"a": [1]}, 5], {"a": [1]})


@pytest.mark.parametrize(
    "train, ev",
    [
        ({"bad": [[1, 2], [3]]}, {"bad": [[1, 2]]}),  # nested lists
        ({"bad": [{"p": 1}]}, {"bad": [{"p": 1}]}),  # structs
        ({"bad": [Decimal("1.5")]}, {"bad": [Decimal("1.5")]}),  # decimals
        ({"bad": [dt.time(1, 2)]}, {"bad": [dt.time(1, 2)]}),  # times of day
        ({"bad": ["1"]}, {"bad": [1]}),  # string against number
        ({"bad": [1.0]}, {"bad": ["1.0"]}),
        ({"bad": [1, "a"]}, {"bad": [1]}),  # mixed Python objects
    ],
)
def test_unsupported_or_mismatched_types_name_the_column(train, ev):
    with pytest.raises(TypeError, match="'bad'"):
        exact_row_leakage(
            {"ok": [1] * len(train["bad"]), **train}, {"ok": [1] * len(ev["bad"]), **ev}
        )


def test_streamed_batches_equal_one_table(monkeypatch):
    rng = np.random.default_rng(3)
    n = 5000
    train = pa.table(
        {
            "f": rng.integers(0, 4, n).astype(np.float64),
            "i": rng.integers(0, 5, n),
            "s": pa.array(rng.choice(["a", "b", "c", "ü"], n)),
        }
    )
    ev = train.slice(1000, 800).to_pandas().sample(frac=1.0, random_state=1)
    ev.loc[ev.index[:50], "s"] = "not in train"
    one = exact_row_leakage(train, ev)
    assert one.n_leaked == 750
    for size in (1, 999, 5000, 10_000):
        streamed = exact_row_leakage(train.to_batches(max_chunksize=size), ev)
        assert pairs(streamed) == pairs(one) and streamed.n_train == n
    # one table keyed a few rows at a time
    monkeypatch.setattr(er, "_SLICE", 333)
    assert pairs(exact_row_leakage(train, ev)) == pairs(one)
    assert pairs(exact_row_leakage(train.to_batches(max_chunksize=1000), ev)) == pairs(one)
    # batches may be dicts or DataFrames too; train indices count across batches
    parts = [
        {"s": ["z"], "f": [0.0], "i": [0]},
        pd.DataFrame({"i": [1], "f": [2.0], "s": ["y"]}),
    ]
    r = exact_row_leakage(iter(parts), {"i": [1, 0], "f": [2, 0], "s": ["y", "z"]})
    assert r.columns == ["s", "f", "i"] and pairs(r) == [(0, 1), (1, 0)]


def test_stream_errors_in_later_batches():
    # an all-null evaluation column takes the kind of the first training values
    ev = {"a": [1, 2], "s": [None, None]}
    batches = [{"a": [2], "s": ["x"]}, {"a": [2], "s": [None]}, {"a": [2], "s": [3]}]
    with pytest.raises(TypeError, match="'s'.*string values in an earlier training batch.*number"):
        exact_row_leakage(iter(batches), ev)
    assert pairs(exact_row_leakage(iter(batches[:2]), ev)) == [(1, 1)]
    ev = {"a": [1], "s": ["x"]}
    with pytest.raises(KeyError, match="'s'"):
        exact_row_leakage(iter([{"a": [1], "s": ["x"]}, {"a": [2]}]), ev)
    with pytest.raises(TypeError, match="'s'"):
        exact_row_leakage(iter([{"a": [1], "s": ["x"]}, {"a": [2], "s": [2.0]}]), ev)


def test_result_conversions_and_repr():
    r = exact_row_leakage({"a": [1, 2, 3]}, {"a": [3, 0, 1, 1]})
    df = r.to_pandas()
    assert list(df.columns) == ["eval_index", "train_index"]
    assert df.values.tolist() == [[0, 2], [2, 0], [3, 0]]
    t = r.to_arrow()
    assert t.schema.field("eval_index").type == pa.int64()
    assert t.column("train_index").to_pylist() == [2, 0, 0]
    assert repr(r) == "RowLeakage(leaked=3 of 4 eval rows (75.0%), n_train=3, columns=['a'])"
    assert r.n_leaked == 3 and r.rate == 0.75
    assert driftcore.RowLeakage is RowLeakage


def test_pandas_extension_dtypes():
    strings = pd.Series(["a", None, "b"], dtype="string")
    ev = pd.DataFrame({"s": ["b", None, "a"]})
    for dtype in ("string", "string[pyarrow]"):
        train = pd.DataFrame({"s": strings.astype(dtype)})
        assert pairs(exact_row_leakage(train, ev)) == [(0, 2), (1, 1), (2, 0)]
    train = pd.DataFrame({"b": pd.Series([True, None], dtype="boolean")})
    assert pairs(exact_row_leakage(train, {"b": [None, True]})) == [(0, 1), (1, 0)]
    train = pd.DataFrame({"t": pd.to_timedelta([1, 2], unit="s")})
    r = exact_row_leakage(train, {"t": pa.array([2000], pa.duration("ms"))})
    assert pairs(r) == [(0, 1)]
    r = exact_row_leakage({"h": np.array([1.5, NAN], np.float16)}, {"h": [NAN, 1.5]})
    assert pairs(r) == [(0, 1), (1, 0)]
    with pytest.raises(TypeError, match="'z'"):
        exact_row_leakage({"z": np.array([1 + 2j])}, {"z": [1]})
    with pytest.raises(TypeError, match="strings"):
        exact_row_leakage(pd.DataFrame({0: [1]}), pd.DataFrame({0: [1]}))


def test_polars_frames_are_tables_like_pandas_ones():
    pl = pytest.importorskip("polars")
    rng = np.random.default_rng(12)
    train = pl.DataFrame({"x": rng.integers(0, 20, 300), "s": rng.choice(["a", "b"], 300)})
    ev = pl.DataFrame({"x": rng.integers(0, 40, 100), "s": rng.choice(["a", "b"], 100)})
    got = driftcore.exact_row_leakage(train, ev)
    want = driftcore.exact_row_leakage(train.to_pandas(), ev.to_pandas())
    assert got.eval_index.tolist() == want.eval_index.tolist()
    assert got.train_index.tolist() == want.train_index.tolist() and got.n_leaked > 0
