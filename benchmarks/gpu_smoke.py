"""One small call of each CUDA kernel, checked against the CPU: the first step of a GPU
check (run under CUDA_LAUNCH_BLOCKING=1, so a fault names its kernel) and the program
compute-sanitizer runs (memcheck, racecheck).

Usage: python benchmarks/gpu_smoke.py [core|minhash|mmd|all]

Prints one ``ok <kernel>`` line per kernel and exits 1 at the first mismatch or error.
Without a usable GPU it says so and exits 0 (a dry run).
"""

from __future__ import annotations

import sys

import numpy as np


def core(cp, driftcore) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=10_007)
    x[::97] = np.nan
    for edges in (np.linspace(-3, 3, 17), np.sort(rng.normal(size=40))):
        cpu, gpu = driftcore.Histogram(edges), driftcore.Histogram(edges)
        cpu.update(x)
        gpu.update(cp.asarray(x))
        assert cpu == gpu, "histogram counts differ"
    constant = np.full(5000, 0.5)  # every lane of a warp on one counter
    cpu, gpu = (
        driftcore.Histogram(np.linspace(-3, 3, 17)),
        driftcore.Histogram(np.linspace(-3, 3, 17)),
    )
    cpu.update(constant)
    gpu.update(cp.asarray(constant))
    assert cpu == gpu, "histogram counts of a constant column differ"
    w = rng.random(x.size)
    for bins in (64, 9000):  # shared and global weighted counters
        cpu = driftcore.Histogram(np.linspace(-3, 3, bins), weighted=True)
        gpu = driftcore.Histogram(np.linspace(-3, 3, bins), weighted=True)
        cpu.update(np.nan_to_num(x), w)
        gpu.update(cp.asarray(np.nan_to_num(x)), cp.asarray(w))
        assert np.array_equal(cpu.counts, gpu.counts), "weighted histogram counts differ"
    print("ok histogram (shared, global and weighted paths)")
    # One dense pass (normal values), then several (few integers: the grid's shift is 0).
    for values in (x, rng.integers(0, 40, 10_007).astype(np.float64)):
        a = driftcore.ValueGrid()
        a.update(cp.asarray(values))
        b = driftcore.ValueGrid()
        b.update(values)
        assert a == b, "value grids differ"
    print("ok value grid")
    p = driftcore.Profile.build({"x": cp.asarray(x)}, device="gpu")
    assert p.fingerprint() == driftcore.Profile.build({"x": x}, device="cpu").fingerprint()
    print("ok profile")


def minhash(cp, driftcore) -> None:
    texts = ["the quick brown fox jumps over the lazy dog", "", "ß and 中文 text", None] * 50
    mh = driftcore.MinHasher(num_perm=128, n=3)
    assert (mh.signatures(texts, device="gpu").get() == mh.signatures(texts)).all()
    tok = driftcore.MinHasher(shingle="token", n=2)
    ids = [np.arange(i, i + 20) for i in range(100)]
    assert (tok.signatures(ids, device="gpu").get() == tok.signatures(ids)).all()
    print("ok minhash (text and tokens)")
    index = driftcore.LSHIndex(mh, 0.8)
    index.add(texts, device="gpu")
    host = driftcore.LSHIndex(mh, 0.8)
    host.add(texts)
    assert (index.keys == host.keys).all(), "band keys differ"
    print("ok band keys")


def mmd(cp, driftcore) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(150, 5)).astype(np.float32)
    y = rng.normal(0.3, 1.0, size=(130, 5)).astype(np.float32)
    cpu = driftcore.mmd_test(x, y, n_permutations=70, bandwidth=2.0)
    gpu = driftcore.mmd_test(cp.asarray(x), cp.asarray(y), n_permutations=70, bandwidth=2.0)
    assert abs(gpu.mmd2 - cpu.mmd2) <= 1e-5 * abs(cpu.mmd2), (gpu.mmd2, cpu.mmd2)
    assert gpu.pvalue == cpu.pvalue
    print("ok mmd tiles")
    s = driftcore.StreamingMMD(2.0, n_features=64)
    s.update(x=cp.asarray(x), y=cp.asarray(y))
    assert s.result().n_x == 150
    print("ok streaming mmd")


SECTIONS = {"core": core, "minhash": minhash, "mmd": mmd}


def main() -> int:
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    if which not in (*SECTIONS, "all"):
        print(f"usage: gpu_smoke.py [{'|'.join(SECTIONS)}|all]", file=sys.stderr)
        return 2
    import driftcore

    if not driftcore.gpu_available():
        print(f"no usable GPU (build: {driftcore.build_info().get('cuda_compiled')}): skipped")
        return 0
    import cupy as cp

    buf = cp.cuda.alloc_async(1 << 20, cp.cuda.get_current_stream())  # stream-ordered pool
    del buf
    print(f"ok {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}")
    for name, run in SECTIONS.items():
        if which in (name, "all"):
            run(cp, driftcore)
    cp.cuda.get_current_stream().synchronize()
    return 0


if __name__ == "__main__":
    sys.exit(main())
