"""Throughput of `Profile.build` on one thread: one column of 1e7 values (normal,
float64 and float32), best and median of several builds, and the size of the saved
column.

    python benchmarks/profile_build.py [--rows N] [--repeat R] [--baseline PYTHON]

`--baseline` runs the same measurement under another interpreter (one with another
driftcore installed, such as an earlier commit's build) in the same run, one after the
other on the same data, and prints the ratio.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np


def measure(rows: int, repeat: int) -> dict[str, dict[str, float]]:
    import driftcore

    x = np.random.default_rng(0).standard_normal(rows)
    out = {}
    for dtype in ("float64", "float32"):
        data = {"x": x.astype(dtype)}
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            prof = driftcore.Profile.build(data, threads=1)
            times.append(time.perf_counter() - start)
        out[dtype] = {
            "best_s": min(times),
            "median_s": float(np.median(times)),
            "bytes": len(prof.to_bytes()),
        }
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--baseline", help="another Python interpreter to measure in the same run")
    ap.add_argument("--json", action="store_true", help="print the measurement as JSON only")
    args = ap.parse_args(argv)
    here = measure(args.rows, args.repeat)
    if args.json:
        print(json.dumps(here))
        return
    base = None
    if args.baseline:
        cmd = [
            args.baseline,
            __file__,
            "--rows",
            str(args.rows),
            "--repeat",
            str(args.repeat),
            "--json",
        ]
        base = json.loads(
            subprocess.run(cmd, check=True, capture_output=True, text=True, cwd="/").stdout
        )
    print(f"Profile.build, one thread, {args.rows:.0e} normal values")
    print("| dtype | best | median | saved size |" + (" baseline best | ratio |" if base else ""))
    print("| --- | --- | --- | --- |" + (" --- | --- |" if base else ""))
    for dtype, m in here.items():
        row = f"| {dtype} | {m['best_s']:.4f} s | {m['median_s']:.4f} s | {m['bytes'] / 1024:.0f} KiB |"
        if base:
            b = base[dtype]
            row += f" {b['best_s']:.4f} s | {b['best_s'] / m['best_s']:.2f}x |"
        print(row)


if __name__ == "__main__":
    sys.exit(main())
