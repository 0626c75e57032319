"""Scaling of ``driftcore.dask.profile`` from 1 to 2 worker processes, and the
per-partition costs that the 1e10-rows estimate in RESULTS.md is built from.

Data: the first ``--files`` files of a folder made by ``make_billion_rows.py``
(10 files of 1e7 rows = 1e8 rows by default), read by ``driftcore.dask.read_parquet``
(``--reader dask``: ``dask.dataframe.read_parquet``);
without ``--parquet`` the partitions are generated in the workers instead (the same
values, seeded per partition), which leaves out reading.

Each round starts a LocalCluster of 1 worker process and one of 2 (one thread each,
kernels on one thread per task, Arrow's pool at one thread per worker: both as
``driftcore.dask.connect("local")`` starts them), one at a time, in alternating
order (1, 2 then 2, 1), so that only the cluster being timed has processes on the
machine and drift in the machine's speed falls on both alike. Per cluster: one
warm-up profile (imports in the workers), then ``--runs`` timed ones, each a full
profile (one pass: moments and value grids); the round's time per side is the median
of its runs. Medians and the ratio per round are printed.

``--ceiling`` times the same per-file work in the same rounds without Dask: the
functions a Dask task runs (read, profile; merge on the client) on
warm ``multiprocessing`` pools of 1 and 2 processes, which is what this machine
allows; the gap to it is what Dask costs.

Usage::

    python benchmarks/make_billion_rows.py /tmp/driftcore-1e8 --rows 1e8 --files 10
    python benchmarks/dask_scaling.py --parquet /tmp/driftcore-1e8 --rounds 6 --ceiling
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
            return dd.read_parquet(
                files
            ), f"{len(files)} Parquet files (dask.dataframe.read_parquet)"
        import driftcore.dask as dcd

        return dcd.read_parquet(files), f"{len(files)} Parquet files (driftcore.dask.read_parquet)"
    rows = int(args.rows)
    per = rows // args.partitions

    def make(i: int) -> pd.DataFrame:
        return pd.DataFrame({"x": file_values(0, i, per)})

    meta = pd.DataFrame({"x": np.zeros(0, np.float32)})
    return dd.from_map(make, range(args.partitions), meta=meta), "generated in the workers"


def per_partition_costs(args: argparse.Namespace) -> None:
    """One partition's read, profile, state size and merge, in this process on one
    thread."""
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
        timings.setdefault("pass (moments + value grid)", []).append(time.perf_counter() - t)
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


def _pool_init() -> None:
    import pyarrow as pa

    pa.set_cpu_count(1)
    import driftcore  # noqa: F401  (imported before the clock starts)


def _pool_part(source):
    """The partition a Dask task gets: read as ``driftcore.dask.read_parquet`` reads it."""
    if isinstance(source, str):
        from driftcore.dask.read import _read_file

        return _read_file(source, ["x"])
    import pandas as pd

    return pd.DataFrame({"x": file_values(0, source[0], source[1])})


def _pool_pass1(source):
    from driftcore.dask.profile import _profile_part

    return _profile_part(_pool_part(source), ["x"], (10, 4096, ()), None, 1, "auto").to_bytes()


def _pool_profile(pool, sources) -> int:
    """The profile with the per-file work on a multiprocessing pool."""
    import driftcore
    from driftcore.dask.profile import merge_profiles

    prof = merge_profiles(
        [driftcore.Profile.from_bytes(b) for b in pool.map(_pool_pass1, sources, chunksize=1)]
    )
    return prof["x"].count


def _sources(args: argparse.Namespace) -> list:
    if args.parquet:
        return [str(f) for f in sorted(Path(args.parquet).glob("*.parquet"))[: args.files]]
    per = int(args.rows) // args.partitions
    return [(i, per) for i in range(args.partitions)]


def _settle(client) -> None:
    """Wait until the scheduler holds nothing from the last run: a profile's tasks have
    the same keys every run, and a result not yet released would be reused."""
    while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)):
        time.sleep(0.01)


def _timed_dask(ddf, workers: int, runs: int) -> tuple[float, int]:
    import driftcore.dask as dcd

    with dcd.connect("local", n_workers=workers, threads_per_worker=1) as client:
        dcd.profile(ddf, scheduler=client)  # warm-up: imports in the workers
        times = []
        for _ in range(runs):
            _settle(client)
            t = time.perf_counter()
            prof = dcd.profile(ddf, scheduler=client)
            times.append(time.perf_counter() - t)
    return statistics.median(times), prof["x"].count


def _timed_pool(pools, workers: int, sources, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        _pool_profile(pools[workers], sources)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--parquet", help="folder from make_billion_rows.py")
    p.add_argument("--files", type=int, default=10)
    p.add_argument(
        "--reader",
        choices=["driftcore", "dask"],
        default="driftcore",
        help="Parquet reader: driftcore.dask.read_parquet (pyarrow per file) or Dask's own",
    )
    p.add_argument("--rows", type=float, default=1e8, help="rows generated without --parquet")
    p.add_argument("--partitions", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--runs", type=int, default=2, help="timed profiles per cluster and round")
    p.add_argument(
        "--ceiling",
        action="store_true",
        help="also time the same work on multiprocessing pools, without Dask",
    )
    args = p.parse_args()

    import multiprocessing

    import dask

    per_partition_costs(args)
    ddf, source = _frame(args)
    print(
        f"load average before: {os.getloadavg()[0]:.2f}; data: {source}, "
        f"{ddf.npartitions} partitions; {args.runs} timed runs per cluster and round"
    )
    sources = _sources(args)
    pools = {}
    if args.ceiling:
        ctx = multiprocessing.get_context("spawn")
        pools = {w: ctx.Pool(w, initializer=_pool_init) for w in (1, 2)}
        for w in pools:
            _pool_profile(pools[w], sources)  # warm-up
    times: dict[str, list[float]] = {"dask 1": [], "dask 2": [], "pool 1": [], "pool 2": []}
    rows = None
    try:
        with dask.config.set({"dataframe.convert-string": False}):
            for r in range(args.rounds):
                order = (1, 2) if r % 2 == 0 else (2, 1)
                for w in order:
                    t, rows = _timed_dask(ddf, w, args.runs)
                    times[f"dask {w}"].append(t)
                    if pools:
                        times[f"pool {w}"].append(_timed_pool(pools, w, sources, args.runs))
                line = (
                    f"round {r + 1}: 1 worker {times['dask 1'][-1]:.2f} s, 2 workers "
                    f"{times['dask 2'][-1]:.2f} s, ratio {times['dask 1'][-1] / times['dask 2'][-1]:.2f}"
                )
                if pools:
                    line += (
                        f"; no Dask: 1 process {times['pool 1'][-1]:.2f} s, 2 processes "
                        f"{times['pool 2'][-1]:.2f} s, ratio "
                        f"{times['pool 1'][-1] / times['pool 2'][-1]:.2f}"
                    )
                print(f"{line} (load {os.getloadavg()[0]:.2f})", flush=True)
    finally:
        for pool in pools.values():
            pool.terminate()
    for kind, label in (("dask", "Dask"), ("pool", "no Dask")):
        if not times[f"{kind} 1"]:
            continue
        a, b = times[f"{kind} 1"], times[f"{kind} 2"]
        m1, m2 = statistics.median(a), statistics.median(b)
        per_round = statistics.median(x / y for x, y in zip(a, b))
        print(
            f"{label}: {rows:,} rows: median 1 worker {m1:.2f} s ({rows / m1 / 1e6:.1f} M rows/s), "
            f"2 workers {m2:.2f} s ({rows / m2 / 1e6:.1f} M rows/s); ratio of medians "
            f"{m1 / m2:.2f}, median of per-round ratios {per_round:.2f}"
        )


if __name__ == "__main__":
    main()
