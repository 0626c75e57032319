"""The thread-safety contract (docs/threads.md): one state used from many Python
threads loses nothing and never crashes; different states run in parallel; a thread
the system refuses to start costs speed, never a crash or a different answer."""

import copy
import os
import pickle
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import driftcore
from driftcore import _core

THREADS = 8


@pytest.fixture(autouse=True)
def _switch_often():
    # Python switches threads every 5 ms by default; switching every few microseconds
    # makes races in Python-level read-modify-write code show up in a short test.
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def _race(work, n=THREADS, timeout=60.0):
    """Run ``work(i)`` on ``n`` threads released together; re-raise the first error."""
    start = threading.Barrier(n)
    errors = []

    def run(i):
        try:
            start.wait()
            work(i)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    pool = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout)
    assert not any(t.is_alive() for t in pool), "threads still running: deadlock?"
    if errors:
        raise errors[0]


# --- one object, many threads ---------------------------------------------------------


def test_histogram_updates_from_threads_lose_nothing():
    # Many small updates into many bins: adding a chunk's counts into the state is a
    # large share of each update, the window in which an unguarded update loses counts.
    size, rounds, bins = 1_000, 1_000, 4_096
    rng = np.random.default_rng(1)
    chunks = [rng.normal(size=size) for _ in range(THREADS)]
    weights = [rng.integers(1, 5, size=size).astype(np.float64) for _ in range(THREADS)]
    plain = driftcore.Histogram(bins=bins, range=(-3.0, 3.0))
    weighted = driftcore.Histogram(bins=bins, range=(-3.0, 3.0), weighted=True)

    def work(i):
        for _ in range(rounds):
            plain.update(chunks[i], threads=1 + i % 2)
            weighted.update(chunks[i], weights[i], threads=1)

    _race(work)
    want = driftcore.Histogram(bins=bins, range=(-3.0, 3.0), weighted=True)
    for i in range(THREADS):
        for _ in range(rounds):
            want.update(chunks[i], weights[i])
    assert plain.total == THREADS * rounds * size
    np.testing.assert_array_equal(plain.slots, want.slots)
    np.testing.assert_array_equal(weighted.slots, want.slots)
    # integer weights: every order of additions gives the same exact sums
    np.testing.assert_array_equal(weighted.weights, want.weights)


def test_quantile_sketch_updates_and_reads_from_threads():
    rng = np.random.default_rng(2)
    chunks = [
        rng.permutation(np.arange(i * 20_000, (i + 1) * 20_000, dtype=np.float64))
        for i in range(THREADS - 1)
    ]
    sketch = driftcore.QuantileSketch(k=200)
    stop = threading.Event()
    seen = []

    def read():  # every state the reader sees is a whole one
        while not stop.is_set():
            back = driftcore.QuantileSketch.from_bytes(sketch.to_bytes())
            seen.append(back.n)
            sketch.quantiles([0.5])
            pickle.loads(pickle.dumps(sketch.copy()))

    def update(i):
        for part in np.array_split(chunks[i], 40):
            sketch.update(part)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        _race(update, n=THREADS - 1)
    finally:
        stop.set()
        reader.join(60)
    assert not reader.is_alive() and seen
    data = np.concatenate(chunks)
    n = data.size
    assert sketch.n == n and sketch.nan == 0
    assert sketch.min == 0.0 and sketch.max == n - 1.0
    assert np.all(np.diff(seen) >= 0) and all(s % 500 == 0 for s in seen)
    q = np.linspace(0.01, 0.99, 99)
    est = sketch.quantiles(q)
    ranks = np.searchsorted(np.sort(data), est, side="right") / n  # values are distinct
    assert np.max(np.abs(ranks - q)) <= sketch.rank_error


def test_profile_updates_from_threads_count_every_row():
    rng = np.random.default_rng(3)
    chunk = {
        "x": rng.integers(0, 10, size=4_096).astype(np.float64),
        "c": rng.choice(["a", "b", "c"], size=4_096),
    }
    prof = driftcore.Profile(max_cells=64)
    rounds = 6

    def work(i):
        for _ in range(rounds):
            prof.update(chunk, threads=1)

    _race(work)
    want = driftcore.Profile(max_cells=64)
    for _ in range(THREADS * rounds):
        want.update(chunk)
    assert prof["x"].count == THREADS * rounds * 4_096
    assert prof["x"].grid.total == prof["x"].count
    assert prof["x"].values == want["x"].values  # exact counts of each distinct value
    assert prof["c"].counts.counts == want["c"].counts.counts


def test_category_counts_updates_from_threads_are_exact():
    values = [f"k{j:04d}" for j in range(1_000)] * 2 + [None]
    counts = driftcore.CategoryCounts()
    rounds = 40

    def work(i):
        for _ in range(rounds):
            counts.update(values)

    _race(work)
    k = THREADS * rounds
    assert counts.counts == {f"k{j:04d}": 2 * k for j in range(1_000)}
    assert counts.nulls == k


def test_lsh_add_from_threads_numbers_each_document_once():
    hasher = driftcore.MinHasher(n=2, num_perm=64)
    index = driftcore.LSHIndex(hasher, threshold=0.5)
    per = 500
    docs = [
        [f"thread {i} doc {j} " + " ".join(f"w{i}_{j}_{k}" for k in range(12)) for j in range(per)]
        for i in range(THREADS)
    ]
    sigs = [hasher.signatures(d) for d in docs]
    numbers = [[] for _ in range(THREADS)]

    def work(i):
        for j in range(per):  # one document a batch: many chances to interleave
            numbers[i].extend(index.add(signatures=sigs[i][j : j + 1], threads=1))

    _race(work)
    total = THREADS * per
    assert len(index) == total and index.keys.shape[0] == total
    flat = [n for mine in numbers for n in mine]
    assert sorted(flat) == list(range(total))  # distinct, no gaps
    for i in range(THREADS):  # each number leads to its own document
        pairs = index.query(docs[i])
        found = set(zip(pairs.query.tolist(), pairs.index.tolist()))
        assert set(enumerate(numbers[i])) <= found


def test_streaming_mmd_updates_from_threads_keep_every_row():
    rng = np.random.default_rng(4)
    xs = [rng.normal(size=(2, 3)) for _ in range(THREADS)]
    state = driftcore.StreamingMMD(bandwidth=1.5, n_features=16)
    rounds = 1_500

    def work(i):
        for _ in range(rounds):
            state.update(x=xs[i], y=xs[i] + 1.0, threads=1)

    _race(work)
    want = driftcore.StreamingMMD(bandwidth=1.5, n_features=16)
    for i in range(THREADS):
        for _ in range(rounds):
            want.update(x=xs[i], y=xs[i] + 1.0, threads=1)
    assert state.n == want.n == [THREADS * rounds * 2] * 2
    np.testing.assert_allclose(state._sums, want._sums, rtol=1e-12, atol=1e-9)


# --- merges racing updates --------------------------------------------------------------


def test_merges_race_with_updates():
    rng = np.random.default_rng(5)
    x = rng.normal(size=1_000)
    rounds = 300
    part_h = driftcore.Histogram(bins=4_096, range=(-3.0, 3.0))
    part_h.update(x)
    part_s = driftcore.QuantileSketch(k=64)
    part_s.update(x)
    h = driftcore.Histogram(bins=4_096, range=(-3.0, 3.0))
    s = driftcore.QuantileSketch(k=64)
    c = driftcore.CategoryCounts()
    part_c = driftcore.CategoryCounts()
    part_c.update(["u", "v"] * 50)

    def work(i):
        for _ in range(rounds):
            if i % 2:
                h.update(x, threads=1)
                s.update(x)
                c.update(["u", "v"] * 50)
            else:
                h.merge(part_h)
                s.merge(part_s)
                c.merge(part_c)

    _race(work)
    assert h.total == THREADS * rounds * x.size
    np.testing.assert_array_equal(h.slots, part_h.slots * (THREADS * rounds))
    assert s.n == THREADS * rounds * x.size and s.min == x.min() and s.max == x.max()
    assert c.counts == {"u": THREADS * rounds * 50, "v": THREADS * rounds * 50}


def test_profile_merges_race_with_updates():
    chunk = {"x": np.arange(1_000.0) % 7, "c": ["p", "q"] * 500}
    part = driftcore.Profile(max_cells=64).update(chunk)
    prof = driftcore.Profile(max_cells=64).update(chunk)

    def work(i):
        for _ in range(10):
            if i % 2:
                prof.update(chunk, threads=1)
            else:
                prof.merge(part)

    _race(work)
    rows = (1 + THREADS * 10) * 1_000
    assert prof["x"].count == rows and prof["c"].count == rows
    assert sum(prof["x"].values.values()) == rows


@pytest.mark.parametrize(
    "make",
    [
        lambda: driftcore.Histogram(bins=4, range=(0.0, 1.0)),
        lambda: driftcore.QuantileSketch(k=16),
        driftcore.CategoryCounts,
        lambda: driftcore.StreamingMMD(bandwidth=1.0, n_features=8),
    ],
)
def test_crossed_merges_do_not_deadlock(make):
    a, b = make(), make()

    def work(i):
        for _ in range(30):
            (a.merge(b) if i % 2 else b.merge(a))

    _race(work, n=4, timeout=30.0)


# --- the lock is per object ----------------------------------------------------------


def test_one_object_serializes_and_others_proceed():
    x = np.linspace(0.0, 1.0, 10_000)
    busy = driftcore.Histogram(bins=4, range=(0.0, 1.0))
    free = driftcore.Histogram(bins=4, range=(0.0, 1.0))
    done = {}

    def update(name, h):
        h.update(x)
        done[name] = True

    with busy._lock:  # as if a long update of `busy` were running
        t_free = threading.Thread(target=update, args=("free", free))
        t_busy = threading.Thread(target=update, args=("busy", busy))
        t_free.start()
        t_busy.start()
        t_free.join(30)
        assert done.get("free"), "another object's update waited for this one's lock"
        t_busy.join(0.2)
        assert "busy" not in done, "an update ran while the object was held"
    t_busy.join(30)
    assert done.get("busy") and busy.total == free.total == x.size


def test_copies_and_pickles_get_their_own_lock():
    h = driftcore.Histogram(bins=4, range=(0.0, 1.0))
    h.update(np.array([0.1, 0.6]))
    for other in (h.copy(), copy.deepcopy(h), pickle.loads(pickle.dumps(h))):
        assert other == h and other._lock is not h._lock
    prof = driftcore.Profile().update({"x": np.arange(5.0)})
    back = pickle.loads(pickle.dumps(prof))
    assert back == prof and back._lock is not prof._lock


# --- thread pools that degrade --------------------------------------------------------


def _kernel_results(threads):
    rng = np.random.default_rng(6)
    x = rng.normal(size=1 << 22)
    w = rng.random(1 << 22)
    h = driftcore.Histogram(bins=100, range=(-4.0, 4.0), weighted=True)
    h.update(x, w, threads=threads)
    plain = driftcore.Histogram(bins=100, range=(-4.0, 4.0))
    plain.update(x, threads=threads)
    prof = driftcore.Profile.build({"x": x}, max_cells=64, threads=threads)
    docs = [f"doc {i} " + " ".join(str(i * 7 + k) for k in range(8)) for i in range(4_096)]
    sig = driftcore.MinHasher(num_perm=32).signatures(docs, threads=threads)
    a, b = rng.normal(size=(400, 3)), rng.normal(0.3, 1.0, size=(400, 3))
    mmd = driftcore.mmd_test(a, b, n_permutations=20, threads=threads)
    return (h.to_bytes(), plain.to_bytes(), prof.to_bytes(), sig.tobytes(), (mmd.mmd2, mmd.pvalue))


@pytest.fixture(scope="module")
def one_thread_results():
    return _kernel_results(1)


@pytest.mark.parametrize("limit", [0, 1, 2])
def test_refused_threads_degrade_to_the_same_answer(limit, one_thread_results):
    before = _core._refused_thread_starts()
    _core._set_thread_start_limit(limit)
    try:
        got = _kernel_results(4)
    finally:
        _core._set_thread_start_limit(-1)
    assert _core._refused_thread_starts() > before  # the limit did bite
    assert got == one_thread_results


_UNDER_NPROC = textwrap.dedent("""
    import os, resource, sys
    import numpy as np
    import driftcore
    from driftcore import _core

    x = np.random.default_rng(7).normal(size=1 << 22)
    want = driftcore.Histogram(bins=64, range=(-4.0, 4.0))
    want.update(x, threads=1)
    if os.geteuid() == 0:  # root ignores RLIMIT_NPROC: become nobody first
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        except OSError as exc:
            print("SKIP cannot drop root:", exc)
            sys.exit(0)
    uid = os.getuid()
    tasks = 0  # the limit counts every thread of this user
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as f:
                st = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if int(st["Uid"].split()[0]) == uid:
            tasks += int(st["Threads"])
    hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    resource.setrlimit(resource.RLIMIT_NPROC, (tasks + 1, hard))  # one more thread
    h = driftcore.Histogram(bins=64, range=(-4.0, 4.0))
    h.update(x, threads=8)
    if _core._refused_thread_starts() == 0:
        print("SKIP RLIMIT_NPROC is not enforced here")
        sys.exit(0)
    assert h == want and h.total == x.size, "wrong counts"
    print("OK refused", _core._refused_thread_starts())
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and RLIMIT_NPROC")
def test_kernel_under_a_process_limit_succeeds():
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _UNDER_NPROC],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, f"exit {out.returncode}: {out.stdout}{out.stderr}"
    if out.stdout.startswith("SKIP"):
        pytest.skip(out.stdout.strip())
    assert out.stdout.startswith("OK"), out.stdout
