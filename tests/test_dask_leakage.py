"""driftcore.dask leakage and streaming MMD on a LocalCluster equal the single-process
results: the same signatures, index, pairs (global indices) and scores; MMD sums
within float64 rounding."""

import math

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
db = pytest.importorskip("dask.bag")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")
pytest.importorskip("distributed")

import driftcore
import driftcore.dask as dcd


@pytest.fixture(scope="module")
def texts():
    rng = np.random.default_rng(7)
    vocab = np.array([f"w{i}" for i in range(400)])
    train = [" ".join(rng.choice(vocab, 40)) for _ in range(900)]
    evaluation = []
    for src in rng.choice(len(train), 150, replace=False):
        words = train[src].split()
        for pos in np.flatnonzero(rng.random(len(words)) < rng.uniform(0, 0.05)):
            words[pos] = f"edit{rng.integers(10**6)}"
        evaluation.append(" ".join(words))
    evaluation += [" ".join(rng.choice(vocab, 40)) for _ in range(150)]
    evaluation[5] = None  # a missing document is empty
    order = rng.permutation(len(evaluation))
    return train, [evaluation[i] for i in order]


def _same(got, want, containment=True):
    np.testing.assert_array_equal(got.eval_index, want.eval_index)
    np.testing.assert_array_equal(got.train_index, want.train_index)
    np.testing.assert_array_equal(got.jaccard, want.jaccard)
    if containment:
        np.testing.assert_array_equal(got.containment, want.containment)
    else:  # an index keeps no text: nothing to measure containment on
        assert np.isnan(got.containment).all()
    assert (got.n_eval, got.n_train, got.bands, got.rows) == (
        want.n_eval,
        want.n_train,
        want.bands,
        want.rows,
    )
    assert got.settings == want.settings


@pytest.mark.parametrize("verify", ["signature", "exact"])
def test_leakage_pairs_equal_single_process(dask_client, texts, verify):
    train, evaluation = texts
    want = driftcore.find_leakage(train, evaluation, verify=verify)
    assert want.n_leaked > 60  # the planted copies are found
    got = dcd.find_leakage(
        db.from_sequence(train, npartitions=5),
        dd.from_pandas(pd.Series(evaluation, dtype=object), npartitions=4),
        verify=verify,
        split_every=2,
    )
    _same(got, want)


def test_containment_equals_single_process(dask_client, texts):
    train, evaluation = texts
    short = [e if e is None else " ".join(e.split()[:15]) for e in evaluation]
    want = driftcore.find_leakage(train, short, measure="containment", candidate_threshold=0.2)
    got = dcd.find_leakage(
        db.from_sequence(train, npartitions=3),
        db.from_sequence(short, npartitions=3),
        measure="containment",
        candidate_threshold=0.2,
    )
    _same(got, want)


def test_signatures_and_index_equal_single_process(dask_client, texts):
    train, _ = texts
    mh = driftcore.MinHasher(num_perm=64, seed=3, n=3)
    sig = dcd.signatures(dd.from_pandas(pd.Series(train), npartitions=3), mh)
    np.testing.assert_array_equal(sig.compute(), mh.signatures(train))
    index = dcd.lsh_index(db.from_sequence(train, npartitions=4), mh, threshold=0.7)
    single = driftcore.LSHIndex(mh, threshold=0.7)
    single.add(train)
    assert index == single
    # a prebuilt index stands in for the training documents
    _, evaluation = texts
    got = dcd.find_leakage(
        index, db.from_sequence(evaluation, npartitions=2), threshold=0.7, hasher=mh
    )
    want = driftcore.find_leakage(train, evaluation, threshold=0.7, hasher=mh)
    _same(got, want, containment=False)
    assert not np.isnan(want.containment).any()  # documents: exact containment


def test_token_documents(dask_client):
    rng = np.random.default_rng(3)
    train = [rng.integers(0, 50, 30).tolist() for _ in range(60)]
    evaluation = [t[:] for t in train[:10]] + [rng.integers(0, 50, 30).tolist() for _ in range(10)]
    kw = {"shingle": "token", "n": 2, "threshold": 0.9}
    got = dcd.find_leakage(
        db.from_sequence(train, npartitions=3), db.from_sequence(evaluation, npartitions=2), **kw
    )
    _same(got, driftcore.find_leakage(train, evaluation, **kw))


def test_leakage_bad_input(dask_client, texts):
    train, _ = texts
    bag = db.from_sequence(train[:10], npartitions=2)
    with pytest.raises(TypeError, match="Dask Series or Bag"):
        dcd.find_leakage(train, bag)
    index = dcd.lsh_index(bag)
    with pytest.raises(ValueError, match="hasher differs"):
        dcd.find_leakage(index, bag, hasher=driftcore.MinHasher(seed=2))
    with pytest.raises(ValueError, match="needs the training documents"):
        dcd.find_leakage(index, bag, verify="exact")
    with pytest.raises(ValueError, match="threshold must be in"):
        dcd.find_leakage(bag, bag, threshold=1.5)
    with pytest.raises(TypeError, match="documents must be strings"):
        dcd.signatures(dd.from_pandas(pd.Series([1.0, 2.0]), npartitions=1)).compute()


def test_streaming_mmd_equals_single_process(dask_client):
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(20_000, 4)), rng.normal(0.2, 1, size=(15_000, 4))
    want = driftcore.StreamingMMD(2.0, n_features=256, seed=5)
    want.update(x=x, y=y)
    got = dcd.streaming_mmd(
        da.from_array(x, chunks=(3000, 2)),
        dd.from_pandas(pd.DataFrame(y, columns=list("abcd")), npartitions=3),
        2.0,
        n_features=256,
        seed=5,
        split_every=3,
    )
    assert got.n == want.n and got.d == want.d
    np.testing.assert_allclose(got._sums, want._sums, rtol=1e-9, atol=1e-9)
    assert math.isclose(got.result().mmd2, want.result().mmd2, rel_tol=1e-9)


def test_streaming_mmd_bad_input(dask_client):
    x = da.zeros((10, 3), chunks=5)
    with pytest.raises(ValueError, match="x has 3 features, y has 2"):
        dcd.streaming_mmd(x, da.zeros((10, 2), chunks=5), 1.0)
    with pytest.raises(TypeError, match="2-D Dask array or a Dask DataFrame"):
        dcd.streaming_mmd(np.zeros((10, 3)), x, 1.0)
    with pytest.raises(ValueError, match="bandwidth must be positive"):
        dcd.streaming_mmd(x, x, -1.0)
    frame = dd.from_pandas(pd.DataFrame({"a": [1.0, 2.0]}), npartitions=1)
    with pytest.raises(KeyError, match="unknown columns"):
        dcd.streaming_mmd(frame, frame, 1.0, columns=["b"])
