"""Every driftcore state crosses process boundaries intact (pickled through its wire
format), a worker killed mid-computation does not change a result, and driftcore
works, and says what to install, without Dask."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")
pytest.importorskip("distributed")

import driftcore
import driftcore.dask as dcd


def _states():
    rng = np.random.default_rng(5)
    x = rng.normal(size=20_000)
    h = driftcore.Histogram(bins=16, range=(-3, 3), weighted=True)
    h.update(x, np.abs(x))
    s = driftcore.QuantileSketch(k=200, seed=9)
    s.update(x)
    c = driftcore.CategoryCounts()
    c.update(["a", "b", None, "a"])
    m = driftcore.StreamingMMD(1.5, n_features=64, seed=2)
    m.update(x=x.reshape(-1, 4), y=x[::-1].reshape(-1, 4) + 0.1)
    ix = driftcore.LSHIndex(driftcore.MinHasher(num_perm=32, n=2), threshold=0.6)
    ix.add(["one two three four", "five six seven", None])
    ref = driftcore.Profile.build({"x": x, "c": rng.choice(["p", "q"], x.size)})
    cur = driftcore.Profile.build({"x": x[:500] + 1, "c": ["p"] * 500}, reference=ref)
    return {
        "histogram": h,
        "sketch": s,
        "categories": c,
        "mmd": m,
        "lsh": ix,
        "profile": ref,
        "profile_with_reference": cur,
        "empty_lsh": driftcore.LSHIndex(),
        "empty_profile": driftcore.Profile(),
    }


@pytest.mark.parametrize("name", sorted(_states()))
def test_pickle_round_trip(name):
    state = _states()[name]
    back = pickle.loads(pickle.dumps(state))
    assert type(back) is type(state) and back == state
    assert back.to_bytes() == state.to_bytes()


def test_states_cross_worker_processes(dask_client):
    states = _states()

    def on_worker(state):
        # runs in another process: unpickled there, checked, changed, sent back
        assert state == type(state).from_bytes(state.to_bytes())
        return os.getpid(), state.to_bytes(), state

    for name, state in states.items():
        pid, blob, back = dask_client.submit(on_worker, state, pure=False).result()
        assert pid != os.getpid()
        assert blob == state.to_bytes() and back == state, name
    prof = states["profile_with_reference"]
    # the reference travels with a profile, so it keeps binning new columns the same
    back = dask_client.submit(lambda p: p, prof, pure=False).result()
    assert back._reference == prof._reference


def test_worker_killed_mid_computation_changes_nothing(dask_client, tmp_path, rng):
    df = pd.DataFrame({"x": rng.normal(size=3000), "c": rng.choice(["a", "b"], 3000)})
    marker = tmp_path / "killed"

    def kill_once(part, partition_info=None):
        # The first time partition 3 is read, its worker process dies without a word;
        # the nanny starts a new one and the scheduler runs the lost tasks again.
        if partition_info["number"] == 3 and not marker.exists():
            marker.write_text(str(os.getpid()))
            os._exit(1)
        return part

    ddf = dd.from_pandas(df, npartitions=6).map_partitions(kill_once, meta=df)
    got = dcd.profile(ddf, split_every=2)
    assert marker.exists(), "the worker was not killed"
    assert int(marker.read_text()) != os.getpid()
    want = driftcore.Profile.build(df)
    assert got["c"].counts == want["c"].counts
    assert got["x"].grid == want["x"].grid
    assert got["x"].count == want["x"].count
    assert abs(got["x"].mean - want["x"].mean) <= 1e-12


_NO_DASK = "import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None; "


def test_driftcore_imports_without_dask():
    code = (
        _NO_DASK
        + "import driftcore, numpy; print(driftcore.Profile.build({'x': numpy.ones(3)})['x'].count)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3"


def test_driftcore_dask_says_what_to_install():
    code = _NO_DASK + "import driftcore.dask"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 1
    assert "ImportError: driftcore.dask needs Dask: pip install 'driftcore[dask]'" in out.stderr


def _profiler_running(dask_worker):
    return "profile" in dask_worker.periodic_callbacks


def test_connect_tunes_its_own_workers():
    # Arrow would otherwise decode with a thread per core in every worker process, and
    # the statistical profiler samples stacks every 10 ms on the computing cores.
    pa = pytest.importorskip("pyarrow")
    with dcd.connect("local", n_workers=1, threads_per_worker=1) as client:
        assert set(client.run(pa.cpu_count).values()) == {1}
        assert set(client.run(_profiler_running).values()) == {False}
        client.restart()  # a restarted worker gets the same settings from its nanny
        assert set(client.run(_profiler_running).values()) == {False}
        assert set(client.run(pa.cpu_count).values()) == {1}
