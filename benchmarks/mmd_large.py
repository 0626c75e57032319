"""One-off: the exact MMD permutation test at n = m = 100,000, d = 32, 100 permutations
on this machine (all cores), with its wall time and peak memory.

Usage: python benchmarks/mmd_large.py [--n 100000] [--threads 0]
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

import driftcore


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--d", type=int, default=32)
    ap.add_argument("--permutations", type=int, default=100)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(20251127)
    x = rng.standard_normal((args.n, args.d))
    y = rng.standard_normal((args.n, args.d)) + 0.01
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    r = driftcore.mmd_test(x, y, n_permutations=args.permutations, threads=args.threads or None)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "n": args.n,
                "d": args.d,
                "permutations": args.permutations,
                "threads": args.threads or driftcore._core.hardware_threads(),
                "seconds": seconds,
                "mmd2": r.mmd2,
                "pvalue": r.pvalue,
                "bandwidth": r.bandwidth,
                "bandwidth_method": r.bandwidth_method,
                "baseline_rss_mib": before / 1024,
                "peak_rss_mib": peak / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
