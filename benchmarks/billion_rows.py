"""``driftcore profile FOLDER`` on the billion-row folder: wall time, rows per second
and peak memory (the sum over the command's process tree, sampled every 0.1 s with
psutil, so Dask's worker processes count too; and the largest single process).

Usage::

    python benchmarks/make_billion_rows.py /tmp/driftcore-1e9
    python benchmarks/billion_rows.py /tmp/driftcore-1e9                       # one process
    python benchmarks/billion_rows.py /tmp/driftcore-1e9 --scheduler local     # Dask, 1 worker/core
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil


def tree_rss(proc: psutil.Process) -> tuple[int, int]:
    """(sum, max) of the resident memory of ``proc`` and its descendants."""
    sizes = []
    for p in [proc, *proc.children(recursive=True)]:
        try:
            sizes.append(p.memory_info().rss)
        except psutil.Error:
            pass
    return sum(sizes), max(sizes, default=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--scheduler")
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp()) / "profile.dcp"
    cmd = [sys.executable, "-m", "driftcore", "profile", args.folder, "-o", str(out), "--quiet"]
    if args.scheduler:
        cmd += ["--scheduler", args.scheduler]
    load = os.getloadavg()[0]
    t = time.perf_counter()
    proc = psutil.Popen(cmd, stderr=subprocess.DEVNULL)
    peak_sum = peak_max = 0
    while proc.poll() is None:
        s, m = tree_rss(proc)
        peak_sum, peak_max = max(peak_sum, s), max(peak_max, m)
        time.sleep(0.1)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"driftcore profile exited {proc.returncode}")
    from driftcore.job.profile_file import ProfileFile

    rows = ProfileFile.from_bytes(out.read_bytes()).meta["rows"]
    print(
        f"{' '.join(cmd[3:])}\n  {rows:,} rows in {wall:.1f} s = {rows / wall / 1e6:.1f} M rows/s; "
        f"peak memory {peak_sum / 2**20:,.0f} MiB (process tree), largest process "
        f"{peak_max / 2**20:,.0f} MiB; load average before {load:.2f}, after "
        f"{os.getloadavg()[0]:.2f}"
    )
    out.unlink()


if __name__ == "__main__":
    main()
