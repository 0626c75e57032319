"""``driftcore check`` at scale against Evidently's data-drift report.

Generates two Parquet files of ``--rows`` rows x 20 columns (16 float64, 2 int64, 2
string categoricals; the current side shifts 3 float columns and 1 categorical) into a
temporary folder (not committed), then runs, each in a fresh subprocess whose peak
RSS comes from ``os.wait4``:

* ``driftcore check REF CUR --json ... --quiet`` on the full files;
* Evidently 0.7's ``Report([DataDriftPreset()]).run(current, reference)`` on the first
  ``--evidently-rows`` rows of each file, read into pandas (its time is the report
  alone, reading excluded); when that is fewer rows than driftcore's, Evidently's time
  is scaled linearly to ``--rows`` (said in the output: a lower bound if Evidently is
  superlinear, and it also holds the whole table in memory, which driftcore does not).

Usage (full size takes a few minutes and about 3.3 GB of temporary disk)::

    python benchmarks/check_scale.py --rows 10_000_000 --evidently-rows 1_000_000 \
        [--record benchmarks/RESULTS.md]
    python benchmarks/check_scale.py --rows 200_000 --evidently-rows 200_000   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

N_FLOAT, N_INT, N_CAT = 16, 2, 2
SHIFTED_FLOATS = (0, 1, 2)  # mean shift 0.3 sd
CATEGORIES = [f"cat{i}" for i in range(8)]
CHUNK = 1_000_000


def _chunk(rng: np.random.Generator, n: int, current: bool) -> pa.Table:
    cols: dict[str, pa.Array] = {}
    for i in range(N_FLOAT):
        shift = 0.3 if current and i in SHIFTED_FLOATS else 0.0
        cols[f"f{i}"] = pa.array(rng.normal(shift, 1.0, n))
    for i in range(N_INT):
        cols[f"i{i}"] = pa.array(rng.integers(0, 1000, n))
    for i in range(N_CAT):
        p = np.full(len(CATEGORIES), 1 / len(CATEGORIES))
        if current and i == 0:
            p = np.linspace(1, 3, len(CATEGORIES))
            p /= p.sum()
        codes = rng.choice(len(CATEGORIES), n, p=p)
        cols[f"c{i}"] = pa.array(np.array(CATEGORIES, dtype=object)[codes], pa.string())
    return pa.table(cols)


def generate(path: Path, rows: int, current: bool, seed: int) -> None:
    """Write ``rows`` rows in row groups of 1e6 (bounded memory)."""
    rng = np.random.default_rng([seed, int(current)])
    writer = None
    for start in range(0, rows, CHUNK):
        t = _chunk(rng, min(CHUNK, rows - start), current)
        if writer is None:
            writer = pq.ParquetWriter(path, t.schema)
        writer.write_table(t)
    assert writer is not None
    writer.close()


def run_with_rss(cmd: list[str]) -> dict:
    """Wall time, exit code, output and peak RSS (MiB) of one child process."""
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        return {
            "wall_s": wall,
            "rc": proc.returncode,
            "peak_rss_mib": usage.ru_maxrss / 1024,  # Linux: kilobytes
            "stdout": fo.read().decode(errors="replace"),
            "stderr": fe.read().decode(errors="replace"),
        }


_EVIDENTLY = r"""
import json, sys, time
import pyarrow.parquet as pq
ref_path, cur_path, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
def head(path):
    f = pq.ParquetFile(path)
    batches, n = [], 0
    for b in f.iter_batches(batch_size=min(rows, 1 << 20)):
        batches.append(b.slice(0, rows - n)); n += batches[-1].num_rows
        if n >= rows: break
    import pyarrow as pa
    return pa.Table.from_batches(batches).to_pandas()
t0 = time.perf_counter()
ref, cur = head(ref_path), head(cur_path)
t1 = time.perf_counter()
from evidently import Report
from evidently.presets import DataDriftPreset
snap = Report([DataDriftPreset()]).run(cur, ref)
t2 = time.perf_counter()
d = snap.dict()
drifted = None
for m in d.get("metrics", []):
    v = m.get("value")
    if isinstance(v, dict) and "count" in v and "share" in v:
        drifted = v["count"]; break
print(json.dumps({"read_s": t1 - t0, "report_s": t2 - t1, "rows": len(ref), "drifted": drifted}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--evidently-rows", type=int, default=1_000_000)
    ap.add_argument("--skip-evidently", action="store_true")
    ap.add_argument("--threads", type=int, default=None, help="driftcore --threads")
    ap.add_argument("--dir", help="where to write the data (default: a temp dir, removed)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--record", help="append a section to this RESULTS.md")
    ap.add_argument("--seed", type=int, default=20261127)
    a = ap.parse_args()

    work = Path(a.dir) if a.dir else Path(tempfile.mkdtemp(prefix="driftcore-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    ref, cur = work / "reference.parquet", work / "current.parquet"
    try:
        if not (ref.exists() and cur.exists() and pq.ParquetFile(ref).metadata.num_rows == a.rows):
            t0 = time.perf_counter()
            generate(ref, a.rows, False, a.seed)
            generate(cur, a.rows, True, a.seed)
            print(
                f"generated 2 x {a.rows:,} rows x 20 columns in {time.perf_counter() - t0:.1f} s "
                f"({(ref.stat().st_size + cur.stat().st_size) / 2**30:.2f} GiB) in {work}"
            )
        cmd = [
            sys.executable,
            "-m",
            "driftcore",
            "check",
            str(ref),
            str(cur),
            "--quiet",
            "--json",
            str(work / "report.json"),
            "--report",
            str(work / "report.html"),
        ]
        if a.threads:
            cmd += ["--threads", str(a.threads)]
        dc = run_with_rss(cmd)
        if dc["rc"] not in (0, 1):
            print(dc["stderr"], file=sys.stderr)
            return 2
        doc = json.loads((work / "report.json").read_text())
        drifted = [c["column"] for c in doc["columns"] if c["drifted"]]
        print(
            f"driftcore check: {dc['wall_s']:.1f} s wall, peak RSS {dc['peak_rss_mib']:.0f} MiB, "
            f"exit {dc['rc']}, drifted {drifted}"
        )
        result = {
            "rows": a.rows,
            "driftcore": {k: dc[k] for k in ("wall_s", "peak_rss_mib", "rc")},
            "drifted": drifted,
        }
        if not a.skip_evidently:
            ev_rows = min(a.evidently_rows, a.rows)
            ev = run_with_rss([sys.executable, "-c", _EVIDENTLY, str(ref), str(cur), str(ev_rows)])
            if ev["rc"] != 0:
                print(ev["stderr"][-3000:], file=sys.stderr)
                return 2
            info = json.loads(ev["stdout"].strip().splitlines()[-1])
            scaled = info["report_s"] * a.rows / ev_rows
            speedup = scaled / dc["wall_s"]
            print(
                f"evidently on {ev_rows:,} rows: report {info['report_s']:.1f} s (+ read "
                f"{info['read_s']:.1f} s), peak RSS {ev['peak_rss_mib']:.0f} MiB, drifted "
                f"{info['drifted']}; scaled to {a.rows:,} rows: {scaled:.0f} s -> driftcore "
                f"{speedup:.1f}x faster"
            )
            result["evidently"] = {
                **info,
                "peak_rss_mib": ev["peak_rss_mib"],
                "scaled_s": scaled,
                "speedup": speedup,
            }
        if a.record:
            record(Path(a.record), result, a)
        print(json.dumps(result))
        return 0
    finally:
        if not a.keep and not a.dir:
            shutil.rmtree(work, ignore_errors=True)


def record(path: Path, r: dict, a: argparse.Namespace) -> None:
    import driftcore

    dc = r["driftcore"]
    lines = [
        "",
        (
            f"### driftcore check, {r['rows']:,} x 20 Parquet ({time.strftime('%Y-%m-%d %H:%M')} UTC,"
            f" {platform.node() or 'this machine'}, {os.cpu_count()} CPUs, driftcore "
            f"{driftcore.__version__})"
        ),
        "",
        f"`python benchmarks/check_scale.py --rows {a.rows} --evidently-rows {a.evidently_rows}`",
        "",
        "| | wall | peak RSS | drifted columns |",
        "| --- | --- | --- | --- |",
        (
            f"| `driftcore check` (full files, exit {dc['rc']}) | {dc['wall_s']:.1f} s | "
            f"{dc['peak_rss_mib']:.0f} MiB | {', '.join(r['drifted'])} |"
        ),
    ]
    ev = r.get("evidently")
    if ev:
        lines += [
            (
                f"| Evidently DataDriftPreset, first {ev['rows']:,} rows | {ev['report_s']:.1f} s "
                f"(+ {ev['read_s']:.1f} s read) | {ev['peak_rss_mib']:.0f} MiB | {ev['drifted']} |"
            ),
            f"| Evidently scaled linearly to {r['rows']:,} rows | {ev['scaled_s']:.0f} s | | |",
            "",
            f"driftcore is **{ev['speedup']:.1f}x** faster than Evidently scaled to the same rows.",
        ]
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
