"""Peak memory (max RSS) of one MMD test, each implementation in a fresh process.

Usage: python benchmarks/mmd_memory.py [--n 5000] [--d 32] [--permutations 100]
Prints, per implementation, the peak RSS after the imports and data (baseline), the
peak after the call, and the wall time of the call (one thread each).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np
impl, n, d, P = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(20251127)
x, y = rng.standard_normal((n, d)), rng.standard_normal((n, d))
if impl == "driftcore":
    import driftcore
    run = lambda: driftcore.mmd_test(x, y, n_permutations=P, threads=1).pvalue
else:
    warnings.simplefilter("ignore")
    import torch
    from alibi_detect.cd import MMDDrift
    torch.set_num_threads(1)
    run = lambda: MMDDrift(x, backend="pytorch", device="cpu", n_permutations=P).predict(y)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
run()
seconds = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"impl": impl, "baseline_mib": before / 1024, "peak_mib": after / 1024,
                  "added_mib": (after - before) / 1024, "seconds": seconds}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--d", type=int, default=32)
    ap.add_argument("--permutations", type=int, default=100)
    ap.add_argument("--impl", nargs="*", default=["driftcore", "alibi-detect"])
    args = ap.parse_args()
    for impl in args.impl:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, impl, str(args.n), str(args.d), str(args.permutations)],
            check=False,
            capture_output=True,
            text=True,
            env={"OMP_NUM_THREADS": "1"},
        )
        if out.returncode:
            print(json.dumps({"impl": impl, "error": out.stderr.strip().splitlines()[-1:]}))
        else:
            print(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
