"""Scaling of ``driftcore.dask.profile`` from 1 to 2 worker processes, and the
per-partition costs that the 1e10-rows estimate in RESULTS.md is built from.

Data: the first ``--files`` files of a folder made by ``make_billion_rows.py``
(10 files of 1e7 rows = 1e8 rows by default), read by ``driftcore.dask.read_parquet``
(``--reader dask``: ``dask.dataframe.read_parquet``);
without ``--parquet`` the partitions are generated in the workers instead (the same
values, seeded per partition), which leaves out reading.

Two LocalClusters (1 worker process, 2 worker processes; one thread each, kernels on
one thread per task, Arrow's pool at one thread per worker as ``driftcore.dask.connect``
sets it) are started once and the runs interleave, A B A B ..., so that
load from anything else on the machine falls on both alike; each run is a full
two-pass profile (sketches, then histograms on their edges). Medians and every run
are printed, with the ratio per round.

Usage::

    python benchmarks/make_billion_rows.py /tmp/driftcore-1e9
    python benchmarks/dask_scaling.py --parquet /tmp/driftcore-1e9 --files 10 --rounds 5
    python benchmarks/dask_scaling.py --rows 1e7 --rounds 2          # quick, in memory
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from make_billion_rows import file_values


def _frame(args: argparse.Namespace):
    import dask.dataframe as dd
    import pandas as pd

    if args.parquet:
        files = [str(f) for f in sorted(Path(args.parquet).glob("*.parquet"))[: args.files]]
        if args.reader == "dask":
            return dd.read_parquet(files), f"{len(files)} Parquet files (dask.dataframe.read_parquet)"
        import driftcore.dask as dcd

        return dcd.read_parquet(files), f"{len(files)} Parquet files (driftcore.dask.read_parquet)"
    rows = int(args.rows)
    per = rows // args.partitions

    def make(i: int) -> pd.DataFrame:
        return pd.DataFrame({"x": file_values(0, i, per)})

    meta = pd.DataFrame({"x": np.zeros(0, np.float32)})
    return dd.from_map(make, range(args.partitions), meta=meta), "generated in the workers"


def per_partition_costs(args: argparse.Namespace) -> None:
    """One partition's read, pass-1 profile, pass-2 histogram, state size and merge,
    in this process on one thread."""
    import pyarrow.parquet as pq

    import driftcore
    from driftcore.dask.profile import merge_profiles

    if args.parquet:
        f = min(Path(args.parquet).glob("*.parquet"))
        reads = []
        for _ in range(3):  # the first read may come from disk, later ones from the page cache
            t = time.perf_counter()
            x = pq.read_table(f).column("x").to_numpy()
            reads.append(time.perf_counter() - t)
    else:
        x, reads = file_values(0, 0, int(args.rows) // args.partitions), [float("nan")]
    n = x.size
    timings = {"read (Parquet decode)": reads}
    for _ in range(3):
        t = time.perf_counter()
        p = driftcore.Profile()
        p.update({"x": x}, threads=1)
        timings.setdefault("pass 1 (moments + sketch)", []).append(time.perf_counter() - t)
        edges = p["x"].sketch.quantile_edges(10)
        t = time.perf_counter()
        h = driftcore.Histogram(edges)
        h.update(x, threads=1)
        timings.setdefault("pass 2 (histogram on edges)", []).append(time.perf_counter() - t)
        t = time.perf_counter()
        blob = p.to_bytes()
        timings.setdefault("state to_bytes", []).append(time.perf_counter() - t)
        q = driftcore.Profile()
        q.update({"x": x[::-1].copy()}, threads=1)
        t = time.perf_counter()
        merge_profiles([p, q])
        timings.setdefault("merge of two states", []).append(time.perf_counter() - t)
    print(f"per partition ({n:,} float32 rows, one thread, medians of 3):")
    for name, ts in timings.items():
        med = statistics.median(ts)
        rate = f"  ({n / med / 1e6:,.0f} M rows/s)" if name.startswith(("read", "pass")) else ""
        print(f"  {name:<28} {med * 1e3:9.2f} ms{rate}")
    print(f"  state size                   {len(blob):,} bytes")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--parquet", help="folder from make_billion_rows.py")
    p.add_argument("--files", type=int, default=10)
    p.add_argument("--reader", choices=["driftcore", "dask"], default="driftcore",
                   help="Parquet reader: driftcore.dask.read_parquet (pyarrow per file) or Dask's own")
    p.add_argument("--rows", type=float, default=1e8, help="rows generated without --parquet")
    p.add_argument("--partitions", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()

    import dask
    from distributed import Client, LocalCluster

    import driftcore.dask as dcd
    from driftcore.dask.cluster import ArrowThreads

    per_partition_costs(args)
    ddf, source = _frame(args)
    print(f"load average before: {os.getloadavg()[0]:.2f}; data: {source}, "
          f"{ddf.npartitions} partitions")
    clusters = {w: LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                                dashboard_address=":0") for w in (1, 2)}
    clients = {w: Client(c, set_as_default=False) for w, c in clusters.items()}
    for client in clients.values():  # as driftcore.dask.connect does: one Arrow thread per worker
        client.register_plugin(ArrowThreads(1))
    times: dict[int, list[float]] = {1: [], 2: []}
    rows = None
    try:
        with dask.config.set({"dataframe.convert-string": False}):
            for w, client in clients.items():  # warm-up: imports in the workers
                dcd.profile(ddf, scheduler=client)
            for r in range(args.rounds):
                for w, client in clients.items():
                    t = time.perf_counter()
                    prof = dcd.profile(ddf, scheduler=client)
                    times[w].append(time.perf_counter() - t)
                    rows = prof["x"].count
                print(f"round {r + 1}: 1 worker {times[1][-1]:.2f} s, 2 workers {times[2][-1]:.2f} s,"
                      f" ratio {times[1][-1] / times[2][-1]:.2f} (load {os.getloadavg()[0]:.2f})",
                      flush=True)
    finally:
        for c in clients.values():
            c.close()
        for c in clusters.values():
            c.close()
    m1, m2 = statistics.median(times[1]), statistics.median(times[2])
    print(f"{rows:,} rows: median 1 worker {m1:.2f} s ({rows / m1 / 1e6:.1f} M rows/s), "
          f"2 workers {m2:.2f} s ({rows / m2 / 1e6:.1f} M rows/s); ratio of medians {m1 / m2:.2f}")


if __name__ == "__main__":
    main()
