"""The check's pass states (row sample, row hashes, exact-row and text leakage) and the
one rule that merges a pass's parts: each state's parts, merged in any grouping, equal
the state of the whole input, and each state survives its bytes."""

from __future__ import annotations

import copy
import itertools
import pickle

import numpy as np
import pyarrow as pa
import pytest

import driftcore
from driftcore import RowSample
from driftcore.job.leak import ExactRows, TextLeak
from driftcore.job.passes import current_states, merge_fields, reference_states
from driftcore.job.plan import plan_columns
from driftcore.job.read import open_table
from driftcore.job.rowhash import RowHashes
from driftcore.job.settings import Settings


def _table(rng, n, start=0):
    words = np.array(
        ["the", "cat", "sat", "on", "a", "mat", "and", "then", "ran", "off", "to", "sea"]
    )
    texts = [" ".join(rng.choice(words, 8)) for _ in range(n)]
    return pa.table(
        {
            "x": rng.normal(size=n).round(1),
            "k": rng.integers(0, 5, n),
            "t": texts,
            "i": np.arange(start, start + n),
        }
    )


def _cuts(n, bounds):
    edges = [0, *bounds, n]
    return list(itertools.pairwise(edges))


def test_row_sample_bytes_and_pickle_round_trip():
    r = RowSample(20, seed=4, stream=1)
    r.update(pa.record_batch({"a": np.arange(500), "b": [str(i) for i in range(500)]}))
    back = RowSample.from_bytes(r.to_bytes())
    assert back.table().equals(r.table()) and back.seen == r.seen
    assert pickle.loads(pickle.dumps(r)).table().equals(r.table())
    more = pa.record_batch({"a": np.arange(500, 900), "b": ["x"] * 400})
    r.update(more)
    back.update(more)  # a restored state goes on where it stopped
    assert back.table().equals(r.table())


def test_row_sample_merge_refuses_another_seed_or_size():
    with pytest.raises(ValueError, match="seed"):
        RowSample(5, seed=1).merge(RowSample(5, seed=2))
    with pytest.raises(ValueError, match="size"):
        RowSample(5).merge(RowSample(6))


@pytest.mark.parametrize("bounds", [[1], [300, 301], [100, 700, 999]])
def test_row_hashes_parts_merge_to_the_whole(bounds, rng):
    t = _table(rng, 1000)
    whole = RowHashes(["x", "k"])
    whole.update(t)
    parts = []
    for lo, hi in _cuts(t.num_rows, bounds):
        p = RowHashes(["x", "k"])
        p.update(t.slice(lo, hi - lo))
        parts.append(p)
    merged = parts[-1]
    for p in parts[:-1]:  # any order: a set
        merged = merged.merge(p)
    np.testing.assert_array_equal(merged.distinct(), whole.distinct())
    assert merged.n_rows == whole.n_rows == 1000
    back = RowHashes.from_bytes(merged.to_bytes())
    np.testing.assert_array_equal(back.distinct(), whole.distinct())
    merged.update(t.slice(0, 10))  # more rows after a lookup
    assert merged.n_rows == 1010 and merged.distinct().size == whole.distinct().size


@pytest.mark.parametrize("cap", [5, 1000])
def test_exact_rows_parts_merge_to_the_whole(cap, rng):
    ref, cur = _table(rng, 800), _table(rng, 900)
    cur = pa.concat_tables([cur, ref.slice(0, 120)])  # 120 leaked rows, at the end
    hashes = RowHashes(["x", "k", "t"])
    hashes.update(ref)
    whole = ExactRows(hashes, cap, seed=3)
    whole.update(cur)
    parts = []
    for lo, hi in _cuts(cur.num_rows, [250, 251, 700]):
        p = ExactRows(hashes, cap, seed=3, first_current_row=lo)
        p.update(cur.slice(lo, hi - lo))
        parts.append(ExactRows.from_bytes(p.to_bytes()))  # as Dask sends them back
    merged = parts[0]
    for p in parts[1:]:
        merged = merged.merge(p)
    assert (merged.n_current, merged.n_candidates) == (whole.n_current, whole.n_candidates)
    merged.reference = hashes  # as the Dask driver gives it back after the merge
    a = merged.verify(iter(ref.to_batches(100)), 0.0, 3)
    b = whole.verify(iter(ref.to_batches(100)), 0.0, 3)
    # Candidates are keyed by their current row numbers: the same sample beyond the cap.
    assert a == b and b["estimated"] == (cap < b["n_candidates"])
    if not b["estimated"]:
        assert b["n_leaked"] >= 120
    with pytest.raises(ValueError, match="reference"):
        parts[1].update(cur.slice(0, 5))  # bytes carry no reference hashes


def test_text_leak_parts_merge_to_the_whole(rng):
    ref, cur = _table(rng, 300), _table(rng, 200)
    index = driftcore.LSHIndex(driftcore.MinHasher(), threshold=0.8)
    index.add(ref.column("t").combine_chunks())
    cur_t = pa.concat_arrays(
        [cur.column("t").combine_chunks(), ref.column("t").combine_chunks()[:40]]
    )
    whole = TextLeak("t", index, examples=4)
    whole.update(cur_t)
    parts = []
    for lo, hi in _cuts(len(cur_t), [90, 210]):
        p = TextLeak("t", index, examples=4, first_current_row=lo)
        p.update(cur_t.slice(lo, hi - lo))
        parts.append(pickle.loads(pickle.dumps(p)))
    merged = parts[0].merge(parts[1]).merge(parts[2])
    assert merged.index is None  # the index is the reference's, not sent back
    merged.index = index
    assert merged.section(0.01) == whole.section(0.01)
    assert whole.n_leaked >= 40


def test_merge_fields_rule():
    from dataclasses import dataclass

    @dataclass
    class S:
        n: int
        items: list
        states: dict
        texts: dict
        nothing: None

    a = S(1, [1], {"r": RowSample(3)}, {"c": {1: "a"}}, None)
    b = S(2, [2], {"r": RowSample(3)}, {"c": {2: "b"}, "d": {}}, None)
    b.states["r"].update(pa.record_batch({"x": [1, 2]}))
    out = merge_fields(a, b)
    assert out is a and out.n == 3 and out.items == [1, 2] and out.nothing is None
    assert out.states["r"].seen == 2 and out.texts == {"c": {1: "a", 2: "b"}, "d": {}}


@pytest.mark.parametrize("bounds", [[500], [1, 999], [128, 512, 640]])
def test_pass_states_of_parts_merge_to_the_whole_input(bounds, rng):
    ref, cur = _table(rng, 1000), _table(rng, 1000, start=5000)
    cur = pa.concat_tables([cur.slice(0, 900), ref.slice(0, 100)])
    s = Settings(mmd_sample=50, leak_rows=1000, examples=3)
    plan = plan_columns(open_table(ref, "reference"), s)
    assert plan.of("text") == ["t"]

    def states(fn, t, parts, *args):
        out = []
        for lo, hi in parts:
            batches = iter(t.slice(lo, hi - lo).to_batches(max_chunksize=97))
            out.append(fn(batches, plan, *args, start=lo))
        return out

    whole_ref = reference_states(iter(ref.to_batches(97)), plan, s, None, True)
    parts = states(
        lambda b, p, *a, start: reference_states(b, p, s, None, True, start),
        ref,
        _cuts(1000, bounds),
    )
    merged_ref = copy.deepcopy(parts[0])
    for p in parts[1:]:
        merged_ref = merged_ref.merge(p)
    assert merged_ref.rows == whole_ref.rows == 1000
    assert merged_ref.profile == whole_ref.profile
    assert merged_ref.sample.table().equals(whole_ref.sample.table())
    assert merged_ref.indexes["t"] == whole_ref.indexes["t"]
    np.testing.assert_array_equal(merged_ref.hashes.distinct(), whole_ref.hashes.distinct())

    from driftcore.job.passes import reference_side

    side = reference_side(open_table(ref, "reference"), plan, whole_ref)
    whole_cur = current_states(iter(cur.to_batches(97)), plan, side, s, None)
    cparts = states(
        lambda b, p, *a, start: current_states(b, p, side, s, None, start),
        cur,
        _cuts(1000, bounds),
    )
    merged_cur = copy.deepcopy(cparts[0])
    for p in cparts[1:]:
        merged_cur = merged_cur.merge(p)
    assert merged_cur.profile == whole_cur.profile
    assert merged_cur.sample.table().equals(whole_cur.sample.table())
    merged_cur.text["t"].index = side.indexes["t"]  # as the Dask driver gives them back
    merged_cur.exact.reference = side.hashes
    assert merged_cur.text["t"].section(0.01) == whole_cur.text["t"].section(0.01)
    verify = [x.exact.verify(iter(ref.to_batches(300)), 0.0, 3) for x in (merged_cur, whole_cur)]
    assert verify[0] == verify[1] and verify[1]["n_leaked"] == 100


def test_bad_input_is_refused_and_changes_nothing(rng):
    t = _table(rng, 50)
    hashes = RowHashes(["x", "k"])
    hashes.update(t)
    before = hashes.to_bytes()
    with pytest.raises(TypeError, match="RecordBatch"):
        hashes.update({"x": [1.0]})
    with pytest.raises(ValueError, match="no column 'k'"):
        hashes.update(t.select(["x"]))
    assert hashes.to_bytes() == before
    with pytest.raises(ValueError, match="size and start"):
        RowSample(-1)
    with pytest.raises(ValueError, match="row numbers"):
        RowSample(5).update(pa.record_batch({"i": [1, 2]}), rows=np.array([-1, 3]))
    with pytest.raises(ValueError, match="1-D"):
        driftcore._core.sample_keys_at(1, np.zeros((2, 2), np.uint64))


def test_an_index_copy_shares_nothing_it_could_change():
    index = driftcore.LSHIndex(driftcore.MinHasher(num_perm=32, n=2), 0.7)
    index.add(["the cat sat on the mat", "a dog ran in the park"])
    twin = copy.deepcopy(index)
    assert twin == index
    twin.add(["the cat sat on the mat today"])
    assert len(twin) == 3 and len(index) == 2
    assert twin.merge(index) == copy.deepcopy(twin).merge(index)
    assert copy.deepcopy(driftcore.LSHIndex()) == driftcore.LSHIndex()


def test_row_hash_copies_are_independent(rng):
    t = _table(rng, 200)
    filling = RowHashes(["x", "k"])
    filling.update(t)
    frozen = copy.deepcopy(filling)
    frozen.lookup()  # its distinct set made: a copy of it shares that set
    for state in (filling, frozen):
        before = state.to_bytes()
        twin = copy.deepcopy(state)
        twin.update(_table(rng, 30))
        twin.update(t.slice(0, 0))  # an empty batch leaves a shared set as it is
        assert twin.n_rows == 230 and state.to_bytes() == before
        assert len(twin.lookup()) > len(state.lookup())
        assert copy.deepcopy(state).merge(twin).to_bytes() == (
            RowHashes.from_bytes(before).merge(twin).to_bytes()
        )
