"""MMD two-sample test: driftcore against alibi-detect's MMDDrift (pytorch backend, CPU).

Group ``mmd``: n = m = 5,000 rows of d = 32 (quick mode: 500), 100 permutations, both
single-threaded (``torch.set_num_threads(1)``), each computing its own median bandwidth
(driftcore: pooled sample, exact; alibi-detect: reference sample). Each round of alibi
builds the detector (its kernel matrix of the reference) and predicts, its whole
workflow. After timing, driftcore given alibi's bandwidth must give alibi's statistic to
1e-5 relative. alibi-detect is optional (extra ``mmd-peers``): its row is skipped when
it is not installed.

Group ``mmd_threads``: driftcore with 1 and 2 threads (bit-identical results).
Group ``mmd_streaming``: StreamingMMD.update throughput (1,024 frequencies, 1 thread).
Peak memory is measured in separate processes by ``benchmarks/mmd_memory.py``.
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest

import driftcore

QUICK = os.environ.get("DRIFTCORE_BENCH_QUICK", "").strip() == "1"  # as conftest.py
SEED = 20_251_127

N = 500 if QUICK else 5_000
D = 32
PERMUTATIONS = 100
STREAM_ROWS = 20_000 if QUICK else 200_000
ROUNDS = {"driftcore": (7, 1) if QUICK else (5, 1), "alibi": (3, 1) if QUICK else (1, 0)}


@pytest.fixture(scope="module")
def samples() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([SEED, 40])
    x = rng.standard_normal((N, D))
    y = rng.standard_normal((N, D)) + np.where(np.arange(D) < 4, 0.05, 0.0)  # slight drift
    return x, y


def _run(benchmark, fn, kind: str, **info):
    rounds, warmup = ROUNDS[kind]
    benchmark.extra_info.update(
        quick=QUICK, items=2 * N, n=N, d=D, permutations=PERMUTATIONS, **info
    )
    return benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=warmup)


@pytest.mark.benchmark(group="mmd")
def test_mmd_driftcore(benchmark, samples):
    x, y = samples
    r = _run(
        benchmark,
        lambda: driftcore.mmd_test(x, y, n_permutations=PERMUTATIONS, threads=1),
        "driftcore",
        impl="driftcore.mmd_test (1 thread)",
        baseline=True,
    )
    assert r.bandwidth_method == "median-exact" and 0 < r.pvalue <= 1
    assert r.permuted.size == PERMUTATIONS


@pytest.mark.benchmark(group="mmd")
def test_mmd_alibi_detect(benchmark, samples):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cd = pytest.importorskip("alibi_detect.cd")
        torch = pytest.importorskip("torch")
    x, y = samples
    torch.set_num_threads(1)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            det = cd.MMDDrift(x, backend="pytorch", device="cpu", n_permutations=PERMUTATIONS)
            return det, det.predict(y)["data"]

    det, out = _run(benchmark, run, "alibi", impl="alibi-detect MMDDrift (pytorch, 1 thread)")
    sigma = float(det._detector.kernel.sigma.detach().cpu().numpy()[0])
    ours = driftcore.mmd2(x, y, bandwidth=sigma)
    assert math.isclose(ours, out["distance"], rel_tol=1e-5)


@pytest.mark.benchmark(group="mmd_threads")
@pytest.mark.parametrize("threads", [1, 2])
def test_mmd_threads(benchmark, samples, threads):
    x, y = samples
    r = _run(
        benchmark,
        lambda: driftcore.mmd_test(x, y, n_permutations=PERMUTATIONS, threads=threads),
        "driftcore",
        impl=f"driftcore.mmd_test ({threads} threads)",
        baseline=threads == 1,
    )
    one = driftcore.mmd_test(x, y, n_permutations=PERMUTATIONS, threads=1)
    assert r.mmd2 == one.mmd2 and np.array_equal(r.permuted, one.permuted)


@pytest.mark.benchmark(group="mmd_streaming")
def test_streaming_mmd_update(benchmark):
    rng = np.random.default_rng([SEED, 41])
    chunk = rng.standard_normal((STREAM_ROWS, D))

    def run():
        s = driftcore.StreamingMMD(4.0, n_features=1024)
        s.update(x=chunk, threads=1)
        return s

    rounds = (5, 1) if QUICK else (3, 1)
    benchmark.extra_info.update(
        quick=QUICK,
        items=STREAM_ROWS,
        impl="StreamingMMD.update (1024 frequencies, 1 thread)",
        baseline=True,
    )
    s = benchmark.pedantic(run, rounds=rounds[0], iterations=1, warmup_rounds=rounds[1])
    assert s.n == [STREAM_ROWS, 0]
