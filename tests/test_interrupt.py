"""Ctrl-C during long kernels, and memory bounds checked before allocating."""

import _thread
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import driftcore
from driftcore import Histogram

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.fixture(autouse=True)
def sigint_raises():
    # A process started in the background by a non-interactive shell inherits SIGINT
    # ignored, and Python then leaves it ignored (interrupt_main does nothing): these
    # tests need the usual KeyboardInterrupt handler whatever started them.
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def interrupt_after(seconds: float) -> threading.Timer:
    """Raise KeyboardInterrupt in the main thread after ``seconds``."""
    timer = threading.Timer(seconds, _thread.interrupt_main)
    timer.start()
    return timer


def test_sigint_stops_mmd_test_promptly():
    # Several seconds of work uninterrupted (n = 12,000 a side, 500 permutations).
    child = textwrap.dedent("""
        import signal, sys, time
        import numpy as np, driftcore
        signal.signal(signal.SIGINT, signal.default_int_handler)  # even if inherited ignored
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(12_000, 4)), rng.normal(size=(12_000, 4))
        print("start", flush=True)
        try:
            driftcore.mmd_test(x, y, n_permutations=500, threads=2)
            print("finished", flush=True)
        except KeyboardInterrupt:
            print("interrupted", time.monotonic(), flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "start"
        time.sleep(0.5)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    word, _, when = out.strip().partition(" ")
    assert word == "interrupted", out
    assert float(when) - sent < 1.5


@pytest.mark.parametrize("weighted", [False, True])
def test_interrupted_histogram_update_leaves_counts_unchanged(weighted):
    rng = np.random.default_rng(1)
    # Arbitrary edges, many bins: about a second per update on one core.
    h = Histogram(np.sort(rng.normal(size=1 << 20)), weighted=weighted)
    small = rng.normal(size=1000)
    h.update(small, weights=np.ones_like(small) if weighted else None)
    before = (h.slots.copy(), h._h.weight_slots().copy() if weighted else None)
    x = rng.normal(size=1 << 24).astype(np.float32)
    w = np.full_like(x, 0.5) if weighted else None
    timer = interrupt_after(0.2)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        h.update(x, weights=w, threads=1)
        time.sleep(5)  # finished before the timer: let it fire here instead
    timer.join()
    assert time.monotonic() - start < 1.0
    np.testing.assert_array_equal(h.slots, before[0])
    if weighted:
        np.testing.assert_array_equal(h._h.weight_slots(), before[1])


def test_interrupted_minhash_signatures(monkeypatch):
    # The timer starts inside the kernel, so the interrupt cannot land in the Python
    # preparation of the documents instead.
    docs = [f"document {i} " * 200 for i in range(100_000)]
    mh = driftcore.MinHasher(num_perm=256)
    began = _interrupt_inside(monkeypatch, "minhash_text")
    with pytest.raises(KeyboardInterrupt):
        mh.signatures(docs, threads=1)
        time.sleep(5)
    assert began and time.monotonic() - began[0] < 1.0


def _interrupt_inside(monkeypatch, name, seconds=0.2):
    """Wrap ``_core.<name>`` so that Ctrl-C arrives ``seconds`` into its first call;
    returns a list that receives the time the call began."""
    real = getattr(driftcore._core, name)
    began = []

    def wrapper(*args, **kwargs):
        if not began:
            began.append(time.monotonic())
            interrupt_after(seconds)
        return real(*args, **kwargs)

    monkeypatch.setattr(driftcore._core, name, wrapper)
    return began


def _distinct_docs(prefix, n):
    return [f"{prefix}{i} {prefix}x{i}" for i in range(n)]


def test_interrupted_find_leakage_stops_in_the_lsh_join(monkeypatch):
    # 256 bands of one row: about 2 s of join on one core for 100,000 a side.
    train, evaluation = _distinct_docs("a", 100_000), _distinct_docs("b", 100_000)
    began = _interrupt_inside(monkeypatch, "lsh_cross_pairs")
    with pytest.raises(KeyboardInterrupt):
        driftcore.find_leakage(
            train,
            evaluation,
            0.8,
            candidate_threshold=0.05,
            num_perm=256,
            shingle="word",
            n=1,
            threads=1,
        )
        time.sleep(5)
    assert began and time.monotonic() - began[0] < 1.2


def test_interrupted_find_duplicates_stops_in_the_self_join(monkeypatch):
    docs = _distinct_docs("a", 200_000)
    began = _interrupt_inside(monkeypatch, "lsh_self_pairs")
    with pytest.raises(KeyboardInterrupt):
        driftcore.find_duplicates(
            docs, 0.8, bands=256, rows=1, num_perm=256, shingle="word", n=1, threads=1
        )
        time.sleep(5)
    assert began and time.monotonic() - began[0] < 1.2


def test_interrupted_band_keys():
    sig = np.random.default_rng(3).integers(0, 2**32, size=(400_000, 256), dtype=np.uint32)
    timer = interrupt_after(0.2)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        driftcore._core.band_keys(sig, 256, 1, 1)
        time.sleep(5)
    timer.join()
    assert time.monotonic() - start < 1.0


def _one_long_text(n_words):
    words = np.array(b"alpha beta gamma delta epsilon zeta eta theta iota kappa".split())
    text = b" ".join(np.random.default_rng(8).choice(words, size=n_words))
    return np.frombuffer(text, np.uint8), np.array([0, len(text)], np.int64)


def _stops_promptly(call):
    timer = interrupt_after(0.2)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        call()
        time.sleep(5)  # finished before the timer: let it fire here instead
    timer.join()
    assert time.monotonic() - start < 1.0


def test_interrupted_signatures_of_one_long_document():
    # One document of 60 MB in character shingles: the checks between documents never
    # come.
    data, offsets = _one_long_text(10_000_000)
    _stops_promptly(
        lambda: driftcore._core.minhash_text(data, offsets, 1, 5, True, True, 128, 1, 1)
    )


@pytest.mark.parametrize("kind", ["text", "tokens"])
def test_interrupted_shingle_sets_of_one_long_document(kind):
    # Seconds of shingling and sorting in one document.
    if kind == "text":
        data, offsets = _one_long_text(6_000_000)
        call = lambda: driftcore._core.text_shingle_sets(data, offsets, 1, 5, True, True, 1)
    else:
        ids = np.random.default_rng(9).integers(0, 50_000, size=20_000_000)
        offsets = np.array([0, ids.size], np.int64)
        call = lambda: driftcore._core.token_shingle_sets(ids, offsets, 3, 1)
    _stops_promptly(call)


def test_interrupted_sort_of_candidate_pairs(monkeypatch):
    # Eight buckets per band over 16,384 documents: 33 million candidate pairs to
    # collect, sort and make distinct.
    keys = np.random.default_rng(10).integers(0, 8, size=(16384, 2), dtype=np.uint64)
    valid = np.ones(16384, np.uint8)
    began = _interrupt_inside(monkeypatch, "lsh_self_pairs", seconds=0.3)
    with pytest.raises(KeyboardInterrupt):
        driftcore._core.lsh_self_pairs(keys, valid, 1 << 40, 1)
        time.sleep(5)
    assert began and time.monotonic() - began[0] < 1.1


def test_sorted_candidate_pairs_and_shingle_sets_match_numpy():
    # Above one block the pairs and the shingle sets take the radix sort.
    from driftcore import _core

    rng = np.random.default_rng(11)
    keys = rng.integers(0, 3, size=(1500, 4), dtype=np.uint64)
    valid = (rng.random(1500) < 0.9).astype(np.uint8)
    left, right = _core.lsh_self_pairs(keys, valid, 1 << 40, 1)
    want = set()
    for b in range(4):
        for key in range(3):
            members = np.flatnonzero((keys[:, b] == key) & (valid == 1))
            want.update((int(i), int(j)) for k, i in enumerate(members) for j in members[k + 1 :])
    assert len(left) > 1 << 16
    assert list(zip(left.tolist(), right.tolist())) == sorted(want)
    # Unigram sets: the set of one long document (radix path) is the union of its
    # pieces' sets (each under one block: std::sort).
    ids = rng.integers(0, 1 << 40, size=200_000)
    whole, _ = _core.token_shingle_sets(ids, np.array([0, ids.size], np.int64), 1, 1)
    cuts = np.arange(0, ids.size + 1, 20_000, dtype=np.int64)
    pieces, _ = _core.token_shingle_sets(ids, cuts, 1, 1)
    assert whole.size == np.unique(ids).size
    np.testing.assert_array_equal(whole, np.unique(pieces))
    # The word path's shingle folding runs in blocks: one long document agrees with the
    # portable per-lane algorithm.
    data, offsets = _one_long_text(50_000)
    sig, _ = _core.minhash_text(data, offsets, 0, 3, True, True, 128, 1, 1)
    np.testing.assert_array_equal(
        sig, _core.minhash_text_lanes(data, offsets, 0, 3, True, True, 128, 1)
    )


def test_interrupted_quantile_sketch_update_leaves_sketch_unchanged():
    rng = np.random.default_rng(4)
    # The largest k samples nothing: every value is sorted, about 1.5 s for 2^26.
    s = driftcore.QuantileSketch(k=65535)
    s.update(rng.normal(size=100_000))
    before = s.to_bytes()
    x = rng.normal(size=1 << 26).astype(np.float32)
    timer = interrupt_after(0.2)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        s.update(x)
        time.sleep(5)
    timer.join()
    assert time.monotonic() - start < 1.0
    assert s.to_bytes() == before
    s.update(x[:1000])  # still usable
    assert s.n == 101_000


def test_interrupted_streaming_mmd_update_leaves_state_unchanged():
    rng = np.random.default_rng(5)
    m = driftcore.StreamingMMD(bandwidth=1.0, n_features=4096, seed=1)
    m.update(rng.normal(size=(1000, 8)), rng.normal(size=(1000, 8)))
    before = m.to_bytes()
    x = rng.normal(size=(300_000, 8))  # about 2 s on one core
    timer = interrupt_after(0.2)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        m.update(x, x, threads=1)
        time.sleep(5)
    timer.join()
    assert time.monotonic() - start < 1.0
    assert m.to_bytes() == before


def test_cancellable_paths_give_the_same_answers():
    # Long inputs take the helper-thread path with its checks; results are unchanged.
    rng = np.random.default_rng(6)
    x = rng.normal(size=(1 << 22) + 17)
    a = driftcore.QuantileSketch(k=200, seed=3)
    a.update(x)
    assert a.n == x.size
    q = np.linspace(0.01, 0.99, 99)
    ranks = np.searchsorted(np.sort(x), a.quantiles(q)) / x.size
    assert np.max(np.abs(ranks - q)) <= a.rank_error
    m = driftcore._core.moments(x, 2)
    assert m.count == x.size and m.mean == pytest.approx(x.mean(), abs=1e-12)
    sa, sb = np.sort(x), np.sort(rng.normal(size=1 << 21))
    from scipy import stats

    ks, w, _, _ = driftcore._core.two_sample_sorted(sa, sb)
    assert ks == stats.ks_2samp(sa, sb).statistic
    assert w == pytest.approx(stats.wasserstein_distance(sa, sb), rel=1e-9)


def test_weighted_fill_independent_of_threads_and_block_sums_in_order():
    rng = np.random.default_rng(2)
    n, block = 3 * (1 << 20) + 12345, 1 << 20
    x = rng.normal(size=n)
    w = rng.exponential(size=n) * 1e3
    edges = np.linspace(-3.0, 3.0, 101)
    results = []
    for threads in (1, 2, 3, 5):
        h = Histogram(edges, weighted=True)
        h.update(x, weights=w, threads=threads)
        results.append(h._h.weight_slots())
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
    # Reference: each block summed in order, blocks added in order.
    slots = np.searchsorted(edges, x, side="right")
    slots[x == edges[-1]] = len(edges) - 1
    slots[x > edges[-1]] = len(edges)
    total = np.zeros(len(edges) + 2)
    for b in range(0, n, block):
        total += np.bincount(slots[b : b + block], w[b : b + block], minlength=len(total))
    np.testing.assert_array_equal(results[0], total)


def test_weighted_fill_scratch_does_not_grow_with_input():
    # 2^22 bins, 2^24 values: per-block scratch was 16 x 2^22 x 16 bytes = 1 GiB.
    child = textwrap.dedent("""
        import resource
        import numpy as np, driftcore
        x = np.random.default_rng(0).uniform(size=1 << 24).astype(np.float32)
        w = np.ones_like(x)
        h = driftcore.Histogram(bins=1 << 22, range=(0.0, 1.0), weighted=True)
        h.update(x[:10], weights=w[:10])
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        h.update(x, weights=w, threads=1)
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
    """)
    out = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert int(out) < 300, f"peak grew by {out.strip()} MiB"


def test_histogram_bins_above_the_limit_refused_before_allocating():
    from driftcore.histogram import MAX_BINS

    assert MAX_BINS == 2**26
    with pytest.raises(ValueError, match="maximum of 2\\*\\*26"):
        Histogram(bins=2**28 + 1, range=(0.0, 1.0))
    with pytest.raises(ValueError, match="maximum of 2\\*\\*26"):
        Histogram(bins=MAX_BINS + 1, range=(0.0, 1.0))


def test_streaming_mmd_features_above_the_limit_refused():
    from driftcore.streaming_mmd import MAX_FEATURES

    with pytest.raises(ValueError, match="maximum of 2\\*\\*20"):
        driftcore.StreamingMMD(bandwidth=1.0, n_features=MAX_FEATURES + 1)
    with pytest.raises(ValueError, match="maximum of 2\\*\\*20"):
        driftcore.StreamingMMD(bandwidth=1.0, n_features=10**12)
    assert driftcore.StreamingMMD(bandwidth=1.0, n_features=MAX_FEATURES).n_features == MAX_FEATURES


def test_minhasher_num_perm_above_the_limit_refused():
    with pytest.raises(ValueError, match="4096"):
        driftcore.MinHasher(num_perm=4096 + 16)
    with pytest.raises(ValueError, match="4096"):
        driftcore.MinHasher(num_perm=2**40)
