"""GPU benchmarks: histogram throughput against the card's device-to-device copy
bandwidth, and CPU/GPU count parity on the benchmark data; Profile rows/s on
device-resident float32. Needs cupy and a GPU. MMD: the permutation test at
n = m = --mmd-n (and each of --mmd-also), d = 64, 100 permutations, its achieved
FLOP/s against the card's FP32 peak, CPU/GPU parity on a 10,000-row slice, and the
CPU kernel on all cores at --mmd-cpu-n for comparison.

Usage: python benchmarks/gpu_bench.py [--n 2e8] [--profile-n 1e9] [--json out.json]
       [--mmd-n 1e6] [--mmd-also 2e5] [--mmd-cpu-n 2e4] [--mmd-only | --no-mmd]

``--json`` writes ``{"core": {...}, "mmd": {...}}`` with the fields
benchmarks/gpu_check.sh puts in benchmarks/results/gpu-check.json.
"""

from __future__ import annotations

import argparse
import functools
import json

import numpy as np


def median_ms(cp, fn, repeats: int = 5) -> float:
    """Median of CUDA-event timings after one warm-up call."""
    fn()
    cp.cuda.get_current_stream().synchronize()
    times = []
    for _ in range(repeats):
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, stop))
    return float(np.median(times))


def main() -> None:
    import cupy as cp

    import driftcore

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=2e8)
    ap.add_argument("--profile-n", type=float, default=1e9)
    ap.add_argument("--json", default=None)
    ap.add_argument("--mmd-n", type=float, default=1e6)
    ap.add_argument("--mmd-also", type=float, nargs="*", default=[2e5])
    ap.add_argument("--mmd-cpu-n", type=float, default=2e4)
    ap.add_argument("--mmd-only", action="store_true")
    ap.add_argument("--no-mmd", action="store_true")
    args = ap.parse_args()
    n = int(args.n)
    rows = []
    if args.mmd_only:
        rows += mmd_all(cp, driftcore, args)
        print_rows(rows, args.json, n)
        return

    # Copy bandwidth: bytes read plus bytes written per second, on a 4 GB buffer.
    src = cp.random.random(n // 2 if n >= 2**29 else n, dtype=cp.float64)
    dst = cp.empty_like(src)
    ms = median_ms(cp, functools.partial(cp.copyto, dst, src))
    copy_gbs = 2 * src.nbytes / ms / 1e6
    del src, dst
    rows.append({"case": "d2d copy", "GB/s": copy_gbs})

    rng = cp.random.default_rng(0)
    for dtype in (cp.float32, cp.float64):
        x = rng.standard_normal(n, dtype=dtype)
        for bins in (64, 4096):
            sample = cp.asnumpy(x[:1_000_000]).astype(np.float64)
            for kind, edges in (
                ("uniform", np.linspace(-5.0, 5.0, bins + 1)),
                ("quantile", np.unique(np.quantile(sample, np.linspace(0, 1, bins + 1)))),
            ):
                h = driftcore.Histogram(edges)
                ms = median_ms(cp, functools.partial(h.update, x))
                gbs = x.nbytes / ms / 1e6
                # Parity on a 1e7 slice: the CPU kernel must give the same counts.
                part = x[:10_000_000]
                g, c = driftcore.Histogram(edges), driftcore.Histogram(edges)
                g.update(part)
                c.update(cp.asnumpy(part))
                rows.append(
                    {
                        "case": f"hist {kind} {bins} {np.dtype(dtype).name}",
                        "Gvalues/s": n / ms / 1e6,
                        "GB/s": gbs,
                        "share_of_copy": gbs / copy_gbs,
                        "parity": bool(g == c),
                    }
                )
        del x
        cp.get_default_memory_pool().free_all_blocks()
    rows.append(profile_row(cp, driftcore, int(args.profile_n)))
    if not args.no_mmd:
        rows += mmd_all(cp, driftcore, args)
    print_rows(rows, args.json, n)


def profile_row(cp, driftcore, n: int) -> dict:
    """Profile.build of n device-resident float32 values, in rows per second."""
    import time

    x = cp.random.default_rng(2).standard_normal(n, dtype=cp.float32)
    driftcore.Profile.build({"x": x[:1_000_000]}, device="gpu")  # warm-up
    cp.cuda.get_current_stream().synchronize()
    t0 = time.perf_counter()
    p = driftcore.Profile.build({"x": x}, device="gpu")
    seconds = time.perf_counter() - t0
    assert p["x"].count == n
    del x
    cp.get_default_memory_pool().free_all_blocks()
    return {"case": f"profile {n:.0e} float32", "seconds": seconds, "rows/s": n / seconds}


def mmd_all(cp, driftcore, args) -> list[dict]:
    rows = []
    for size in (*args.mmd_also, args.mmd_n):
        rows += mmd_rows(cp, driftcore, int(size))
    rows.append(mmd_cpu_row(driftcore, int(args.mmd_cpu_n)))
    return rows


def mmd_cpu_row(driftcore, n: int, d: int = 64, permutations: int = 100) -> dict:
    """The CPU kernel on all cores, for comparison with the GPU rows."""
    import os
    import time

    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.standard_normal((n, d)).astype(np.float32) + 0.01
    t0 = time.perf_counter()
    driftcore.mmd_test(x, y, n_permutations=permutations, seed=1, device="cpu")
    seconds = time.perf_counter() - t0
    N = 2 * n
    flops = N * N / 2 * (3 * d + 2 * (permutations + 1))
    return {
        "case": f"cpu mmd n=m={n} d={d} P={permutations} ({os.cpu_count()} cores)",
        "seconds": seconds,
        "TFLOP/s": flops / seconds / 1e12,
    }


def fp32_peak_flops(cp) -> float:
    """SMs x 128 FP32 lanes x 2 (FMA) x boost clock: the card's FP32 (non-tensor) peak."""
    attrs = cp.cuda.Device().attributes
    try:
        return attrs["MultiProcessorCount"] * 128 * 2 * attrs["ClockRate"] * 1e3
    except KeyError:  # clock attribute absent: the H100/H200 SXM boost clock, 1.98 GHz
        return attrs["MultiProcessorCount"] * 128 * 2 * 1.98e9


def mmd_rows(cp, driftcore, n: int, d: int = 64, permutations: int = 100) -> list[dict]:
    """Wall time of driftcore.mmd_test on n + n rows (median on a 20,000-row subsample on
    the host, permutation masks on the host, tiles on the GPU); FLOP count of the tiles:
    N^2 / 2 pairs x (3 d for the distance + 2 (P + 1) for the products)."""
    import time

    rng = cp.random.default_rng(1)
    x = rng.standard_normal((n, d), dtype=cp.float32)
    y = rng.standard_normal((n, d), dtype=cp.float32) + 0.01
    driftcore.mmd_test(x[:4096], y[:4096], n_permutations=permutations)  # warm-up
    cp.cuda.get_current_stream().synchronize()
    t0 = time.perf_counter()
    r = driftcore.mmd_test(x, y, n_permutations=permutations, seed=1)
    seconds = time.perf_counter() - t0
    N = 2 * n
    flops = N * N / 2 * (3 * d + 2 * (permutations + 1))
    # Parity on a slice: same statistic (1e-5 relative) and p-value as the CPU kernels.
    xs, ys = x[:10_000], y[:10_000]
    g = driftcore.mmd_test(xs, ys, n_permutations=permutations, seed=2)
    c = driftcore.mmd_test(cp.asnumpy(xs), cp.asnumpy(ys), n_permutations=permutations, seed=2)
    parity = bool(abs(g.mmd2 - c.mmd2) <= 1e-5 * abs(c.mmd2) and g.pvalue == c.pvalue)
    return [
        {
            "case": f"mmd n=m={n} d={d} P={permutations}",
            "seconds": seconds,
            "TFLOP/s": flops / seconds / 1e12,
            "share_of_fp32_peak": flops / seconds / fp32_peak_flops(cp),
            "mmd2": r.mmd2,
            "pvalue": r.pvalue,
            "bandwidth_method": r.bandwidth_method,
            "parity": parity,
            "parity_mmd2": [g.mmd2, c.mmd2],
        }
    ]


def print_rows(rows: list[dict], json_path: str | None, n: int) -> None:
    for r in rows:
        if r["case"].startswith(("mmd", "cpu mmd")):
            share = r.get("share_of_fp32_peak")
            print(
                f"{r['case']:<44} {r['seconds']:8.2f} s {r['TFLOP/s']:8.1f} TFLOP/s"
                + (f" {share:6.0%} of FP32 peak, parity {r['parity']}" if share else "")
            )
        elif r["case"].startswith("profile"):
            print(f"{r['case']:<44} {r['seconds']:8.2f} s {r['rows/s']:.3g} rows/s")
    hist = [r for r in rows if r["case"].startswith(("hist", "d2d"))]
    print(f"{'case':<32} {'Gval/s':>8} {'GB/s':>8} {'of copy':>8} parity")
    for r in hist:
        print(
            f"{r['case']:<32} {r.get('Gvalues/s', float('nan')):>8.1f} {r['GB/s']:>8.0f} "
            f"{r.get('share_of_copy', float('nan')):>8.0%} {r.get('parity', '')}"
        )
    if json_path:
        with open(json_path, "w") as f:
            json.dump(sections(rows, n), f, indent=1)


def sections(rows: list[dict], n: int) -> dict:
    """The rows as the ``core`` and ``mmd`` benchmark fields of gpu-check.json."""
    out: dict = {}
    hist = [r for r in rows if r["case"].startswith("hist")]
    copy = [r for r in rows if r["case"] == "d2d copy"]
    prof = [r for r in rows if r["case"].startswith("profile")]
    if hist:
        out["core"] = {
            "copy_bandwidth_GBps": copy[0]["GB/s"] if copy else None,
            "hist_share_of_copy_bandwidth": min(r["share_of_copy"] for r in hist),
            "hist_values": n,
            "hist_parity": all(r["parity"] for r in hist),
            "profile_rows_per_s": prof[0]["rows/s"] if prof else None,
            "grid": hist,
        }
    gpu = [r for r in rows if r["case"].startswith("mmd")]
    if gpu:
        big = max(gpu, key=lambda r: r["seconds"])
        out["mmd"] = {
            "mmd_1e6_d64_p100_seconds": big["seconds"] if "n=m=1000000 " in big["case"] else None,
            "mmd_tflops": big["TFLOP/s"],
            "mmd_share_of_fp32_peak": big["share_of_fp32_peak"],
            "parity": all(r["parity"] for r in gpu),
            "rows": gpu + [r for r in rows if r["case"].startswith("cpu mmd")],
        }
    return out


if __name__ == "__main__":
    main()
