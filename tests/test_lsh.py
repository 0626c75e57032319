"""Banded LSH index: the banding rule, chunked building, merge, files, bad input."""

import numpy as np
import pytest

import driftcore
from driftcore.lsh import candidate_probability, lsh_params


def test_banding_rule_reaches_the_recall():
    for threshold in (0.5, 0.7, 0.8, 0.9, 0.95):
        for num_perm in (64, 128, 256):
            bands, rows = lsh_params(threshold, num_perm)
            assert bands * rows <= num_perm
            assert candidate_probability(threshold, bands, rows) >= 0.99
            # One more row per band would miss the recall: the rule picks the steepest curve.
            assert candidate_probability(threshold, num_perm // (rows + 1), rows + 1) < 0.99
    assert lsh_params(0.8, 128) == (21, 6)
    with pytest.raises(ValueError, match="no banding"):
        lsh_params(0.01, 16)
    with pytest.raises(ValueError, match="between 0 and 1"):
        candidate_probability(1.5, 21, 6)
    with pytest.raises(ValueError, match="at least 1"):
        candidate_probability(0.5, 0, 6)


def test_s_curve_matches_simulation(rng):
    # Simulate signatures of pairs at known agreement probability: bands match when all rows do.
    bands, rows = 21, 6
    for j in (0.5, 0.8):
        equal = rng.random((20000, bands * rows)) < j
        hit = equal.reshape(-1, bands, rows).all(axis=2).any(axis=1)
        assert abs(hit.mean() - candidate_probability(j, bands, rows)) < 0.01


def _docs(rng, count, words=60):
    vocab = np.array([f"t{i}" for i in range(3000)])
    return [" ".join(rng.choice(vocab, words)) for _ in range(count)]


def test_chunked_build_equals_whole_and_merge(rng, tmp_path):
    mh = driftcore.MinHasher(n=3)
    train = _docs(rng, 300)
    queries = [t + " extra" for t in train[::7]] + _docs(rng, 20)
    whole = driftcore.LSHIndex(mh, 0.7)
    whole.add(train)
    chunked = driftcore.LSHIndex(mh, 0.7)
    for i in range(0, 300, 64):
        assert chunked.add(train[i : i + 64]) == range(i, min(i + 64, 300))
    left = driftcore.LSHIndex(mh, 0.7)
    left.add(train[:100])
    right = driftcore.LSHIndex(mh, 0.7)
    right.add(train[100:])
    merged = left.merge(right)
    path = tmp_path / "train.lsh"
    merged.save(path)
    loaded = driftcore.LSHIndex.load(path)
    results = [ix.query(queries) for ix in (whole, chunked, merged, loaded)]
    for r in results[1:]:
        np.testing.assert_array_equal(results[0].query, r.query)
        np.testing.assert_array_equal(results[0].index, r.index)
        np.testing.assert_array_equal(results[0].agreement, r.agreement)
    # Every edited copy finds its original.
    found = set(zip(results[0].query.tolist(), results[0].index.tolist()))
    assert all((q, 7 * q) in found for q in range(len(train[::7])))
    assert len(loaded) == 300 and loaded.hasher == mh


def test_query_with_signatures_and_thread_invariance(rng):
    mh = driftcore.MinHasher(n=2, num_perm=64)
    train = _docs(rng, 500, 20)
    queries = [t.replace("t1", "u1") for t in train[:200]]
    index = driftcore.LSHIndex(mh, 0.5)
    index.add(signatures=mh.signatures(train))
    a = index.query(queries, threads=1, verify="none")
    b = index.query(signatures=mh.signatures(queries), hasher=mh, threads=2, verify="none")
    np.testing.assert_array_equal(a.query, b.query)
    np.testing.assert_array_equal(a.index, b.index)
    assert len(index.self_pairs(threads=1)) == len(index.self_pairs(threads=2))


def test_empty_documents_never_pair():
    index = driftcore.LSHIndex(driftcore.MinHasher(n=2), 0.5)
    index.add(["", None, "real words here"])
    pairs = index.query(["", None, "real words here"], verify="none")
    assert list(zip(pairs.query.tolist(), pairs.index.tolist())) == [(2, 2)]
    assert len(index.self_pairs(verify="none")) == 0


def test_index_without_signatures():
    index = driftcore.LSHIndex(driftcore.MinHasher(n=2), 0.5, keep_signatures=False)
    index.add(["a b c d", "e f g h"])
    assert index.signatures is None
    assert np.isnan(index.query(["a b c d"], verify="none").agreement).all()
    with pytest.raises(ValueError, match="keep_signatures"):
        index.query(["a b c d"])
    assert index.bytes_per_document < driftcore.LSHIndex().bytes_per_document
    assert len(driftcore.LSHIndex.from_bytes(index.to_bytes())) == 2


def test_mismatched_settings_are_refused():
    a = driftcore.LSHIndex(driftcore.MinHasher(seed=1))
    b = driftcore.LSHIndex(driftcore.MinHasher(seed=2))
    with pytest.raises(ValueError, match="seed: 1 vs 2"):
        a.merge(b)
    with pytest.raises(ValueError, match="num_perm"):
        a.merge(driftcore.LSHIndex(driftcore.MinHasher(num_perm=64)))
    with pytest.raises(ValueError, match="seed"):
        a.query(
            signatures=driftcore.MinHasher(seed=2).signatures(["x"]),
            hasher=driftcore.MinHasher(seed=2),
        )
    with pytest.raises(ValueError, match=r"shape \(n, 128\)"):
        a.query(signatures=np.zeros((2, 64), np.uint32))
    with pytest.raises(TypeError, match="uint32"):
        a.add(signatures=np.zeros((2, 128), np.int64))
    with pytest.raises(TypeError, match="either docs or signatures"):
        a.add()
    with pytest.raises(ValueError, match="bands x rows"):
        driftcore.LSHIndex(bands=20, rows=7)
    with pytest.raises(ValueError, match="both bands and rows"):
        driftcore.LSHIndex(bands=20)
    with pytest.raises(ValueError, match="threshold"):
        driftcore.LSHIndex(threshold=1.0)
    with pytest.raises(ValueError, match="verify"):
        a.query(["x"], verify="maybe")


def test_corrupt_and_truncated_files():
    index = driftcore.LSHIndex(driftcore.MinHasher(n=2))
    index.add(["some words in a doc", "other words elsewhere"])
    data = bytearray(index.to_bytes())
    with pytest.raises(ValueError, match="truncated"):
        driftcore.LSHIndex.from_bytes(bytes(data[:-10]))
    data[40] ^= 0xFF
    with pytest.raises(ValueError, match="checksum"):
        driftcore.LSHIndex.from_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a driftcore state"):
        driftcore.LSHIndex.from_bytes(b"x" * 64)
    with pytest.raises(ValueError, match="expected 'LSHI'"):
        driftcore.LSHIndex.from_bytes(driftcore.Histogram(bins=4, range=(0, 1)).to_bytes())


def test_sort_join_equals_hash_join(rng):
    # The GPU's join (sorting) runs here on numpy: it must give the CPU hash join's pairs.
    from driftcore import _core
    from driftcore.lsh import sort_join

    build = rng.integers(0, 50, size=(400, 7)).astype(np.uint64)
    probe = rng.integers(0, 50, size=(300, 7)).astype(np.uint64)
    bv = (rng.random(400) > 0.1).astype(np.uint8)
    pv = (rng.random(300) > 0.1).astype(np.uint8)
    q1, i1 = _core.lsh_cross_pairs(build, bv, probe, pv, 10**9, 2)
    q2, i2 = sort_join(np, build, bv, probe, pv)
    np.testing.assert_array_equal(q1, q2)
    np.testing.assert_array_equal(i1, i2)
    assert len(q1) > 1000
    empty = sort_join(np, build[:0], bv[:0], probe, pv)
    assert len(empty[0]) == 0


def test_huge_buckets_stop_with_a_clear_error(monkeypatch):
    # 300 x 300 identical documents: every pair is a candidate; a low limit trips.
    from driftcore import lsh

    monkeypatch.setattr(lsh, "MAX_CANDIDATES", 1000)
    index = driftcore.LSHIndex(driftcore.MinHasher(n=1), 0.8)
    index.add(["unknown"] * 300)
    with pytest.raises(ValueError, match="identical"):
        index.query(["unknown"] * 300)
    with pytest.raises(ValueError, match="find_duplicates"):
        index.self_pairs()


@pytest.mark.parametrize("size", [10, 200, 1000])
def test_pairs_at_the_threshold_are_found_with_real_signatures(rng, size):
    # The S-curve assumes independent slots; filled slots sample without replacement,
    # so check the 0.99 recall at exactly J = 0.8 on real signatures.
    mh = driftcore.MinHasher(shingle="token", n=1, seed=5)
    a_docs, b_docs = [], []
    for _ in range(1500):
        x = rng.choice(2**40, size, replace=False)
        shared = round(0.8 * size)
        half = (size - shared) // 2
        a_docs.append(np.concatenate([x[:shared], x[shared : shared + half]]))
        b_docs.append(np.concatenate([x[:shared], x[shared + half :]]))
    index = driftcore.LSHIndex(mh, 0.8)
    index.add(signatures=mh.signatures(a_docs))
    pairs = index.query(signatures=mh.signatures(b_docs), verify="none")
    found = set(zip(pairs.query.tolist(), pairs.index.tolist()))
    recall = np.mean([(i, i) in found for i in range(len(a_docs))])
    assert recall >= 0.99, recall
