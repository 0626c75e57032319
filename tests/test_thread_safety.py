"""A thread the system refuses to start costs speed, never a crash or a different
answer."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import driftcore
from driftcore import _core

# --- thread pools that degrade --------------------------------------------------------


def _kernel_results(threads):
    rng = np.random.default_rng(6)
    x = rng.normal(size=1 << 22)
    w = rng.random(1 << 22)
    h = driftcore.Histogram(bins=100, range=(-4.0, 4.0), weighted=True)
    h.update(x, w, threads=threads)
    plain = driftcore.Histogram(bins=100, range=(-4.0, 4.0))
    plain.update(x, threads=threads)
    prof = driftcore.Profile.build({"x": x}, k=64, threads=threads)
    docs = [f"doc {i} " + " ".join(str(i * 7 + k) for k in range(8)) for i in range(4_096)]
    sig = driftcore.MinHasher(num_perm=32).signatures(docs, threads=threads)
    a, b = rng.normal(size=(400, 3)), rng.normal(0.3, 1.0, size=(400, 3))
    mmd = driftcore.mmd_test(a, b, n_permutations=20, threads=threads)
    return (h.to_bytes(), plain.to_bytes(), prof.to_bytes(), sig.tobytes(),
            (mmd.mmd2, mmd.pvalue))


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
    out = subprocess.run([sys.executable, "-c", _UNDER_NPROC], capture_output=True,
                         text=True, env=env, timeout=120, check=False)
    assert out.returncode == 0, f"exit {out.returncode}: {out.stdout}{out.stderr}"
    if out.stdout.startswith("SKIP"):
        pytest.skip(out.stdout.strip())
    assert out.stdout.startswith("OK"), out.stdout
