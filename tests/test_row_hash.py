"""The row hash of exact-row leakage: the compiled mixing kernel against its numpy
definition, bit for bit, and hashes pinned so a saved state can never go stale."""

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from driftcore import _core
from driftcore.job.rowhash import RowHasher

U64 = np.uint64
G = U64(0x9E3779B97F4A7C15)
EDGES = np.array([0, 1, 2**63, 2**64 - 1, 0x9E3779B97F4A7C15, 0x6A09E667F3BCC909], U64)


def fmix64(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer in numpy (wrapping uint64 arithmetic): the
    definition the kernels are compared with."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> U64(33))
        x = x * U64(0xFF51AFD7ED558CCD)
        x = x ^ (x >> U64(33))
        x = x * U64(0xC4CEB9FE1A85EC53)
        return x ^ (x >> U64(33))


def mix_reference(bits: list[np.ndarray]) -> np.ndarray:
    """The row hash in numpy over each column's canonical bits: h = m, then
    h = (h ^ fmix64(bits_j + (j + 1) G)) G for each column j, then fmix64(h)."""
    h = np.full(bits[0].size if bits else 0, len(bits), U64)
    with np.errstate(over="ignore"):
        for j, b in enumerate(bits):
            h = (h ^ fmix64(b + U64(j + 1) * G)) * G
    return fmix64(h)


def kernel(bits: list[np.ndarray]) -> np.ndarray:
    h = np.full(bits[0].size if bits else 0, len(bits), U64)
    for j, b in enumerate(bits):
        _core.row_hash_mix(h, b, j)
    _core.row_hash_finish(h)
    return h


def test_finish_is_fmix64():
    x = np.random.default_rng(1).integers(0, 2**64, 10_000, dtype=U64)
    x = np.concatenate([x, EDGES])
    h = x.copy()
    _core.row_hash_finish(h)
    np.testing.assert_array_equal(h, fmix64(x))


@pytest.mark.parametrize("ncols", [1, 2, 10, 40])
def test_mix_matches_numpy_definition(ncols):
    rng = np.random.default_rng(ncols)
    bits = [np.concatenate([rng.integers(0, 2**64, 5_000, dtype=U64), EDGES]) for _ in range(ncols)]
    np.testing.assert_array_equal(kernel(bits), mix_reference(bits))


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda m: st.lists(
            hnp.arrays(U64, 17, elements=st.integers(0, 2**64 - 1)), min_size=m, max_size=m
        )
    )
)
def test_mix_matches_numpy_definition_property(bits):
    np.testing.assert_array_equal(kernel(bits), mix_reference(bits))


def test_empty_rows():
    assert kernel([np.zeros(0, U64)]).size == 0


def test_kernel_refuses_wrong_arrays():
    h = np.zeros(4, U64)
    with pytest.raises(TypeError):
        _core.row_hash_mix(h, np.zeros(4, np.int64), 0)  # no silent cast
    with pytest.raises(TypeError):
        _core.row_hash_mix(np.zeros(4, np.int64), np.zeros(4, U64), 0)
    with pytest.raises(ValueError):
        _core.row_hash_mix(h, np.zeros(3, U64), 0)
    ro = np.zeros(4, U64)
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        _core.row_hash_finish(ro)
    nan = int(rowhash_nan())
    for values, match in (
        (np.zeros(3), "one per row hash"),
        (np.zeros((4, 1)), "1-D"),
        (np.array(["a"] * 4), "unsupported dtype"),
        (np.zeros(8)[::2], "contiguous"),
    ):
        with pytest.raises(ValueError, match=match):
            _core.row_hash_mix_values(h, values, 0, nan)
    with pytest.raises(ValueError):
        _core.row_hash_mix_values(ro, np.zeros(4), 0, nan)
    with pytest.raises(ValueError, match="one per row hash"):
        _core.row_hash_mix_codes(h, np.zeros(1, U64), np.zeros(3, np.int32), 0)
    assert h.tolist() == [0, 0, 0, 0]  # refused calls change nothing


def test_hashes_are_pinned():
    # Values from the numpy implementation; saved states and leak results hold them.
    b = pa.record_batch(
        {
            "x": pa.array([1, 2, None, 0]),
            "f": pa.array([1.5, float("nan"), -0.0, None]),
            "s": pa.array(["a", "", None, "héllo"]),
            "b": pa.array([True, False, None, True]),
        }
    )
    got = RowHasher().hashes(b, ["x", "f", "s", "b"]).tolist()
    assert got == [0x926BB8062A0C1769, 0xB7014041A9A5EFAE, 0xD948BBC4C599BB90, 0x885B3666C67D2DB9]


def test_hashes_equal_numpy_mix_of_columns():
    rng = np.random.default_rng(7)
    n = 3_000
    b = pa.record_batch(
        {
            "a": rng.normal(size=n),
            "i": rng.integers(0, 5, n),
            "s": pa.array(np.array(["p", "q", "r"])[rng.integers(0, 3, n)]),
        }
    )
    h = RowHasher()
    cols = ["a", "i", "s"]
    want = mix_reference([h.column(b.column(c)) for c in cols])
    np.testing.assert_array_equal(h.hashes(b, cols), want)


def test_membership_in_a_hash_set_matches_numpy():
    from driftcore import _core
    from driftcore.job.rowhash import HashSet

    rng = np.random.default_rng(4)
    for n, m in ((0, 5), (5, 0), (1, 1), (1000, 300), (70_000, 200_000)):
        raw = rng.integers(0, 2**64 - 1, m, dtype=np.uint64, endpoint=True)
        hs = HashSet(np.concatenate([raw, raw[: m // 3]]))  # repeats are dropped
        s = np.unique(raw)
        assert np.array_equal(hs.values, s) and len(hs) == s.size
        v = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
        if n and m:
            v[::3] = s[rng.integers(0, s.size, v[::3].size)]
            v[-1] = s[-1]
        want = np.isin(v, s)
        assert np.array_equal(hs.member(v), want)
        assert np.array_equal(hs.member(v[::-1]), want[::-1])  # a strided view
    # Values crowded into one bucket (not uniform hashes) are found all the same.
    crowded = np.arange(10_000, dtype=np.uint64) * np.uint64(3)
    hs = HashSet(crowded, distinct_ascending=True)
    q = np.arange(30_000, dtype=np.uint64)
    assert np.array_equal(hs.member(q), q % 3 == 0)
    edge = np.array([0, 2**64 - 1, 5], np.uint64)
    assert HashSet(np.array([0, 2**64 - 1], np.uint64)).member(edge).tolist() == [True, True, False]
    with pytest.raises(TypeError):
        _core.sorted_member(np.arange(3.0), np.zeros(1, np.uint64), np.zeros(2, np.uint64))
    with pytest.raises(ValueError, match="strictly ascending"):
        HashSet(np.array([3, 1], np.uint64), distinct_ascending=True)
    with pytest.raises(ValueError, match="2\\^bits"):
        _core.sorted_member(edge, edge, np.zeros(4, np.uint64))
    # Starts that do not fit the set give wrong answers, never a read outside it.
    bad = np.full(5, 2**63, np.uint64)
    assert _core.sorted_member(edge, np.array([1, 2], np.uint64), bad).tolist() == [0, 0, 0]


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(U64, st.integers(0, 300), elements=st.integers(0, 2**64 - 1)),
    hnp.arrays(U64, st.integers(0, 300), elements=st.integers(0, 2**64 - 1)),
)
def test_member_property(ref, q):
    from driftcore.job.rowhash import HashSet, sorted_unique

    s = HashSet(ref)
    assert np.array_equal(sorted_unique(ref), np.unique(ref))
    q = np.concatenate([q, ref])
    np.testing.assert_array_equal(s.member(q), np.isin(q, ref))


def test_float_kernel_matches_canonical_bits():
    rng = np.random.default_rng(7)
    v = np.concatenate(
        [
            rng.normal(size=5_000),
            [0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 5e-324, np.float64(2**53 + 1)],
        ]
    )
    canon = v + 0.0
    bits = canon.view(U64).copy()
    bits[np.isnan(canon)] = rowhash_nan()
    for j in (0, 3):
        h = np.full(v.size, 4, U64)
        _core.row_hash_mix_values(h, v, j, int(rowhash_nan()))
        want = np.full(v.size, 4, U64)
        _core.row_hash_mix(want, bits, j)
        np.testing.assert_array_equal(h, want)
    # Integers of every width through double, as Arrow casts them (2**53 + 1 rounds).
    ints = np.array([0, -1, 7, 2**53 + 1, -(2**62), 2**62], np.int64)
    for dt in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64):
        x = ints.astype(dt) if np.dtype(dt).itemsize == 8 else np.arange(-3, 4).astype(dt)
        h = np.full(x.size, 2, U64)
        _core.row_hash_mix_values(h, x, 1, int(rowhash_nan()))
        want = np.full(x.size, 2, U64)
        _core.row_hash_mix(want, pa.array(x).cast(pa.float64(), safe=False).to_numpy().view(U64), 1)
        np.testing.assert_array_equal(h, want)


def test_coded_columns_hash_as_their_canonical_bits():
    from driftcore.job.rowhash import NULL

    words = pa.array(["a", "", None, "héllo", "a", None, "zz"])
    cases = {
        "strings": words,
        "large strings": words.cast(pa.large_string()),
        "dictionary": words.dictionary_encode(),
        "int8 codes": pa.DictionaryArray.from_arrays(
            pa.array([0, 1, None, 2, 0, None, 3], pa.int8()), pa.array(["a", "", "héllo", "zz"])
        ),
        "numbers in a dictionary": pa.array(
            [1.5, None, 1.5, -0.0, 0.0, None, 2.0]
        ).dictionary_encode(),
        "all null": pa.array([None] * 7, pa.string()),
        "no rows": pa.array([], pa.string()),
    }
    h = RowHasher()
    for name, col in cases.items():
        b = pa.record_batch({"c": col, "x": np.arange(len(col), dtype=np.float64)})
        want = mix_reference([h.column(b.column("c")), h.column(b.column("x"))])
        np.testing.assert_array_equal(h.hashes(b, ["c", "x"]), want, err_msg=name)
        out = np.zeros(len(col), U64)
        assert h.hashes(b, ["c", "x"], out=out) is out
        np.testing.assert_array_equal(out, want, err_msg=name)
    with pytest.raises(ValueError, match="out must be"):
        h.hashes(b, ["c"], out=np.zeros(3, U64))
    g = np.zeros(3, U64)
    with pytest.raises(ValueError, match="outside the dictionary"):
        _core.row_hash_mix_codes(g, np.array([NULL], U64), np.array([0, 1, 0], np.int32), 0)
    assert g.tolist() == [0, 0, 0]  # refused before any change
    with pytest.raises(ValueError, match="integers"):
        _core.row_hash_mix_codes(g, np.array([NULL], U64), np.zeros(3), 0)


def rowhash_nan():
    from driftcore.job.rowhash import NAN

    return NAN


@pytest.mark.parametrize("typ", [pa.int8(), pa.int64(), pa.uint64(), pa.float32(), pa.float64()])
def test_null_free_numbers_hash_as_before(typ):
    rng = np.random.default_rng(3)
    vals = rng.integers(-100, 100, 1_000)
    if pa.types.is_unsigned_integer(typ):
        vals = np.abs(vals)
    arr = pa.array(vals).cast(typ)
    if pa.types.is_floating(typ):
        arr = pa.array(
            np.concatenate([arr.to_numpy(), [np.nan, -0.0]]).astype(typ.to_pandas_dtype())
        )
    batch = pa.record_batch({"a": arr, "b": pa.array(["x"] * len(arr))})
    h = RowHasher()
    got = h.hashes(batch, ["a", "b"])
    want = mix_reference([h.column(batch.column("a")), h.column(batch.column("b"))])
    np.testing.assert_array_equal(got, want)


def test_exact_row_leakage_keys_mix_as_defined():
    # exact_row_leakage keys each value by (tag, payload) and mixes fmix64(val + tag G)
    # through the same kernels; the numpy definition, bit for bit.
    from driftcore.exact_rows import _mix_rows

    rng = np.random.default_rng(9)
    tag = rng.integers(0, 4, (5, 3000)).astype(np.uint8)
    val = rng.integers(0, 2**64, (5, 3000), dtype=U64)
    val[:, : len(EDGES)] = EDGES
    want = np.full(3000, 5, U64)
    with np.errstate(over="ignore"):
        for j in range(5):
            want = (want ^ fmix64(val[j] + tag[j].astype(U64) * G)) * G
    np.testing.assert_array_equal(_mix_rows(tag, val), fmix64(want))
