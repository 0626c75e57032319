"""GPU benchmarks: histogram throughput against the card's device-to-device copy
bandwidth, and CPU/GPU count parity on the benchmark data. Needs cupy and a GPU.

Usage: python benchmarks/gpu_bench.py [--n 1e9] [--json out.json]
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
    ap.add_argument("--n", type=float, default=1e9)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    n = int(args.n)
    rows = []

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
            sample = cp.asnumpy(x[: 1_000_000]).astype(np.float64)
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
                rows.append({
                    "case": f"hist {kind} {bins} {np.dtype(dtype).name}",
                    "Gvalues/s": n / ms / 1e6,
                    "GB/s": gbs,
                    "share_of_copy": gbs / copy_gbs,
                    "parity": bool(g == c),
                })
        del x
        cp.get_default_memory_pool().free_all_blocks()

    print(f"{'case':<32} {'Gval/s':>8} {'GB/s':>8} {'of copy':>8} parity")
    for r in rows:
        print(f"{r['case']:<32} {r.get('Gvalues/s', float('nan')):>8.1f} {r['GB/s']:>8.0f} "
              f"{r.get('share_of_copy', float('nan')):>8.0%} {r.get('parity', '')}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"n": n, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
