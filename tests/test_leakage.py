"""Leakage and duplicates on real text: licence paragraphs with planted near-duplicates."""

import re
from pathlib import Path

import minhash_reference as ref
import numpy as np
import pytest

import driftcore

LICENSES = Path(__file__).parent / "data" / "licenses"
THRESHOLD = 0.8


def _paragraphs():
    docs = []
    for path in sorted(LICENSES.glob("*.txt")):
        for para in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
            text = " ".join(para.split())
            if len(text.split()) >= 25:
                docs.append(text)
    return docs


def _shingle_set(text, n=5):
    words = [w for w in re.split(r"[^0-9a-z]+", text.lower()) if w]
    # The licences are ASCII: the reference tokenizer and this regex agree on them.
    assert len(ref.units(text.lower(), "word")) == len(words)
    return {tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def _edit(text, rate, rng):
    words = text.split()
    for pos in np.flatnonzero(rng.random(len(words)) < rate):
        words[pos] = f"zz{rng.integers(10**6)}"
    return " ".join(words)


@pytest.fixture(scope="module")
def corpus():
    rng = np.random.default_rng(2026)
    train = _paragraphs()
    sources = rng.choice(len(train), size=240, replace=False)
    rates = 0.12 * np.linspace(0.0, 1.0, len(sources)) ** 2  # Jaccard from 1 down to about 0.4
    evaluation = [_edit(train[s], r, rng) for s, r in zip(sources, rates)]
    evaluation += ["an unrelated sentence about cooking pasta with garlic and olive oil " * 3]
    tsets = [_shingle_set(t) for t in train]
    exact = {}
    for e, text in enumerate(evaluation):
        es = _shingle_set(text)
        for t, ts in enumerate(tsets):
            both = len(es & ts)
            if both:
                exact[(e, t)] = both / len(es | ts)
    return train, evaluation, exact


def _found(result):
    return set(zip(result.eval_index.tolist(), result.train_index.tolist()))


def test_corpus_is_real_and_varied(corpus):
    train, _, exact = corpus
    assert len(train) > 300
    values = np.array(list(exact.values()))
    assert (
        np.sum(values >= THRESHOLD + 0.1) > 60
        and np.sum((values > 0.3) & (values <= THRESHOLD - 0.1)) > 30
    )


@pytest.mark.parametrize("verify", ["signature", "exact"])
def test_recall_and_precision_on_planted_pairs(corpus, verify):
    train, evaluation, exact = corpus
    result = driftcore.find_leakage(train, evaluation, THRESHOLD, verify=verify)
    found = _found(result)
    should = {p for p, j in exact.items() if j >= THRESHOLD + 0.1}
    should_not = {p for p, j in exact.items() if j <= THRESHOLD - 0.1}
    recall = len(found & should) / len(should)
    wrong = len(found & should_not) / max(1, len(found))
    assert recall >= 0.99, recall
    assert wrong <= 0.01, wrong
    if verify == "exact":
        # Exact verification: the reported Jaccard is the exact one, so precision is exact.
        for (e, t), j in zip(zip(result.eval_index, result.train_index), result.jaccard):
            assert j == pytest.approx(exact[(int(e), int(t))], abs=1e-12)
        assert found == {p for p, j in exact.items() if j >= THRESHOLD}
    assert result.n_eval == len(evaluation) and result.n_train == len(train)
    assert result.rate == pytest.approx(len({e for e, _ in found}) / len(evaluation))


def test_same_pairs_as_datasketch_far_from_the_threshold(corpus):
    datasketch = pytest.importorskip("datasketch")
    train, evaluation, exact = corpus
    mh = driftcore.MinHasher()
    bands, rows = driftcore.LSHIndex(mh, THRESHOLD).bands, driftcore.LSHIndex(mh, THRESHOLD).rows

    def sketch(text):
        words = [w for w in re.split(r"[^0-9a-z]+", text.lower()) if w]
        m = datasketch.MinHash(num_perm=128, seed=1)
        m.update_batch([" ".join(words[i : i + 5]).encode() for i in range(max(1, len(words) - 4))])
        return m

    lsh = datasketch.MinHashLSH(threshold=THRESHOLD, num_perm=128, params=(bands, rows))
    train_sketches = [sketch(t) for t in train]
    for i, m in enumerate(train_sketches):
        lsh.insert(i, m)
    theirs = set()
    for e, text in enumerate(evaluation):
        m = sketch(text)
        theirs |= {(e, t) for t in lsh.query(m) if m.jaccard(train_sketches[t]) >= THRESHOLD}
    ours = _found(driftcore.find_leakage(train, evaluation, THRESHOLD))
    far = {p for p, j in exact.items() if j >= THRESHOLD + 0.1 or j <= THRESHOLD - 0.1}
    assert ours & far == theirs & far
    assert len(ours & far) > 60


def test_containment_finds_a_short_item_inside_a_long_document(corpus):
    train, _, _ = corpus
    long_doc = " ".join(train[:12])
    short = train[5]  # copied verbatim inside long_doc
    other = "completely unrelated words that appear nowhere in any licence text at all ok"
    jac = driftcore.find_leakage(
        [long_doc], [short, other], 0.8, verify="exact", candidate_threshold=0.05
    )
    assert len(jac) == 0  # its Jaccard with the long document is low
    cont = driftcore.find_leakage(
        [long_doc], [short, other], 0.8, measure="containment", candidate_threshold=0.05
    )
    assert cont.eval_index.tolist() == [0]
    assert cont.containment.tolist() == [1.0]
    assert cont.jaccard[0] < 0.2
    with pytest.raises(ValueError, match="verify='exact'"):
        driftcore.find_leakage([long_doc], [short], measure="containment", verify="signature")


def test_duplicate_clusters_are_deterministic(corpus):
    train, evaluation, _ = corpus
    docs = evaluation[:60] + train
    a = driftcore.find_duplicates(docs, THRESHOLD, threads=1)
    b = driftcore.find_duplicates(docs, THRESHOLD, threads=2)
    np.testing.assert_array_equal(a.representative, b.representative)
    np.testing.assert_array_equal(a.left, b.left)
    # Representatives are the smallest member of each cluster, and pairs are verified.
    assert np.all(a.representative <= np.arange(len(docs)))
    assert np.all(a.representative[a.representative] == a.representative)
    assert np.all(a.jaccard >= THRESHOLD) and np.all(a.left < a.right)
    # Exact duplicates always share a cluster.
    c = driftcore.find_duplicates(docs + docs[:5], THRESHOLD)
    for i in range(5):
        assert c.representative[len(docs) + i] == c.representative[i]
    exact_dups = driftcore.find_duplicates(docs, THRESHOLD, verify="exact")
    assert np.all(exact_dups.jaccard >= THRESHOLD)
    assert "clusters" in repr(a)
    assert list(a.to_pandas().columns) == ["left", "right", "jaccard"]


def test_edge_cases():
    assert driftcore.find_leakage([], ["a b c"]).n_leaked == 0
    empty = driftcore.find_leakage(["a b c"], [])
    assert empty.rate == 0.0 and empty.n_eval == 0
    r = driftcore.find_leakage(
        ["", None, "same words here", "same words here"], ["", None, "same words here"], n=2
    )
    assert r.eval_index.tolist() == [2, 2] and r.train_index.tolist() == [2, 3]
    one = driftcore.find_duplicates(["only one document"])
    assert one.representative.tolist() == [0] and one.n_clusters == 0
    assert driftcore.find_duplicates([]).n_docs == 0
    tokens = driftcore.find_leakage(
        [[1, 2, 3, 4, 5, 6], [7, 8, 9]], [[1, 2, 3, 4, 5, 6]], shingle="token", n=2, verify="exact"
    )
    assert tokens.eval_index.tolist() == [0] and tokens.jaccard.tolist() == [1.0]
    table = r.to_arrow()
    assert table.num_rows == 2 and r.to_pandas().shape == (2, 4)
    assert "leak" in repr(r)


def test_bad_arguments():
    with pytest.raises(ValueError, match="threshold"):
        driftcore.find_leakage(["a"], ["a"], threshold=0)
    with pytest.raises(ValueError, match="measure"):
        driftcore.find_leakage(["a"], ["a"], measure="cosine")
    with pytest.raises(ValueError, match="verify"):
        driftcore.find_leakage(["a"], ["a"], verify="maybe")
    with pytest.raises(TypeError, match="MinHasher"):
        driftcore.find_leakage(["a"], ["a"], hasher="minhash")


def test_many_identical_documents_are_grouped(monkeypatch):
    from driftcore import lsh

    monkeypatch.setattr(lsh, "MAX_CANDIDATES", 1000)  # the join alone would trip this
    docs = ["boilerplate footer text of the site"] * 500 + ["a different page entirely here"] * 3
    dups = driftcore.find_duplicates(docs, 0.8, n=2)
    assert set(dups.representative.tolist()) == {0, 500}
    assert len(dups) == 499 + 2 and dups.n_clusters == 2
    np.testing.assert_array_equal(dups.left[:3], [0, 0, 0])


def test_find_duplicates_bad_arguments():
    with pytest.raises(ValueError, match="threshold"):
        driftcore.find_duplicates(["a"], threshold=1.5)
    with pytest.raises(ValueError, match="verify"):
        driftcore.find_duplicates(["a"], verify="maybe")
    with pytest.raises(TypeError, match="MinHasher"):
        driftcore.find_duplicates(["a"], hasher=object())
    with pytest.raises(TypeError, match="strings"):
        driftcore.find_duplicates(np.arange(4))


def test_cluster_representatives_match_connected_components(rng):
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from driftcore.leakage import _representatives

    for _ in range(200):
        n = int(rng.integers(1, 300))
        m = int(rng.integers(0, 400))
        left, right = rng.integers(0, n, m), rng.integers(0, n, m)
        _, labels = connected_components(
            coo_matrix((np.ones(m), (left, right)), shape=(n, n)), directed=False
        )
        first = np.full(labels.max() + 1, n)
        np.minimum.at(first, labels, np.arange(n))
        assert np.array_equal(_representatives(n, left, right), first[labels])
    assert _representatives(0, np.zeros(0), np.zeros(0)).size == 0


def test_signature_verified_pairs_get_their_exact_containment(corpus):
    train, evaluation, _ = corpus
    sig = driftcore.find_leakage(train, evaluation, 0.7)
    exact = driftcore.find_leakage(train, evaluation, 0.7, verify="exact")
    assert len(sig) > 20 and not np.isnan(sig.containment).any()
    both = {(q, i): c for q, i, c in zip(exact.eval_index, exact.train_index, exact.containment)}
    for q, i, c in zip(sig.eval_index, sig.train_index, sig.containment):
        if (q, i) in both:
            assert c == both[(q, i)]
    once = driftcore.find_leakage(iter(train), evaluation, 0.7)  # train read once: no text
    assert np.isnan(once.containment).all()
