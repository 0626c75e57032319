"""The main job against its roofline: ``driftcore check``, ``profile`` and ``compare``
timed as whole processes, beside Python reading the same files with pyarrow (the
floor any tool pays) and, optionally, Evidently's data-drift report as a whole
process on the same files.

Run::

    python benchmarks/main_job.py [--quick] [--sizes 1e5,1e6,1e7] [--rounds 3]
                                  [--evidently] [--json out.json] [--data DIR]

Data: two Parquet files per size and case, each with 8 float64 columns, an integer
rating 1-5 and a 5-level string column (10 columns; 20 at 1e7 rows: 18 float64). The
current file is the reference's distribution, shifted by 0 (``no-drift``), 0.01 sd
(``tiny-shift``, the everyday monitoring case: nothing drifts by effect size) or 0.5 sd
(``strong-drift``) on every float column. Files are written once into ``--data``
(default: a folder under the system temp dir) and reused.

Each command runs ``--rounds`` times after one warm-up (page cache warm); the table
gives the median and minimum wall time, the ratio of the median to the read's, the
child's peak resident memory (which includes the ~60 MiB this script holds when it
starts the child) and its exit code, and for ``check`` the phases it
reports (reference pass, current pass, second reference pass, compare and MMD).
``--quick`` (CI) runs 1e5 rows, the tiny-shift case, one round.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CASES = {"no-drift": 0.0, "tiny-shift": 0.01, "strong-drift": 0.5}
PY = sys.executable


@dataclass
class Timing:
    size: int
    case: str
    command: str
    median_s: float
    min_s: float
    ratio_to_read: float = float("nan")
    peak_mib: float = float("nan")
    exit_code: int = 0
    phases: dict[str, float] = field(default_factory=dict)


def _table(rng: np.random.Generator, n: int, floats: int, shift: float) -> pa.Table:
    cols = {f"x{i}": rng.normal(shift, 1.0, n) for i in range(floats)}
    cols["rating"] = rng.integers(1, 6, n)
    cols["segment"] = rng.choice(np.array(["a", "b", "c", "d", "e"]), n)
    return pa.table(cols)


def _write(path: Path, n: int, floats: int, stream: int, shift: float) -> None:
    pq.write_table(_table(np.random.default_rng([n, stream]), n, floats, shift), path)


def files(data: Path, n: int, case: str) -> tuple[Path, Path]:
    """The reference and current files of a size and case (written once, each by a
    child process: a child's peak memory counts what its parent held when it was
    forked, so the tables must never live in this process)."""
    floats = 18 if n >= 10_000_000 else 8
    ref = data / f"ref-{n}.parquet"
    cur = data / f"cur-{n}-{case}.parquet"
    spawn = multiprocessing.get_context("spawn")
    for path, stream, shift in ((ref, 0, 0.0), (cur, 1, CASES[case])):
        if not path.exists():
            child = spawn.Process(target=_write, args=(path, n, floats, stream, shift))
            child.start()
            child.join()
    return ref, cur


def run_once(argv: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak resident MiB, exit code) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {err.strip()[-500:]}")
    return wall, usage.ru_maxrss / 1024.0, proc.returncode


def measure(argv: list[str], rounds: int) -> tuple[float, float, float, int]:
    run_once(argv)  # warm-up: page cache, imports compiled
    runs = [run_once(argv) for _ in range(rounds)]
    walls = [r[0] for r in runs]
    return statistics.median(walls), min(walls), max(r[1] for r in runs), runs[-1][2]


def commands(ref: Path, cur: Path, work: Path, evidently: bool) -> dict[str, list[str]]:
    out = {
        "read both with pyarrow": [
            PY,
            "-c",
            (
                "import pyarrow.parquet as pq; "
                f"pq.read_table({str(ref)!r}); pq.read_table({str(cur)!r})"
            ),
        ],
        # The floor of every driftcore row: Python start and the command's imports.
        "import the command": [
            PY,
            "-c",
            ("import driftcore.cli, driftcore.job.check, driftcore.job.passes, pyarrow.parquet"),
        ],
        "driftcore check": [
            PY,
            "-m",
            "driftcore",
            "check",
            str(ref),
            str(cur),
            "-q",
            "--json",
            str(work / "check.json"),
        ],
        "driftcore profile (reference)": [
            PY,
            "-m",
            "driftcore",
            "profile",
            str(ref),
            "-q",
            "-o",
            str(work / "ref.dcp"),
        ],
        "driftcore compare (profile vs file)": [
            PY,
            "-m",
            "driftcore",
            "compare",
            str(work / "ref.dcp"),
            str(cur),
            "-q",
            "--json",
            str(work / "compare.json"),
        ],
    }
    if evidently:
        out["evidently DataDriftPreset"] = [
            PY,
            "-c",
            (
                "import warnings; warnings.simplefilter('ignore')\n"
                "import pandas as pd\n"
                "from evidently import Report\n"
                "from evidently.presets import DataDriftPreset\n"
                f"ref = pd.read_parquet({str(ref)!r}); cur = pd.read_parquet({str(cur)!r})\n"
                "Report([DataDriftPreset()]).run(cur, ref)\n"
            ),
        ]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1e5 rows, tiny shift, one round")
    p.add_argument("--sizes", default="1e5,1e6,1e7", help="rows per side, comma-separated")
    p.add_argument("--cases", default=",".join(CASES), help="cases, comma-separated")
    p.add_argument("--rounds", type=int, default=3, help="timed runs per command")
    p.add_argument("--evidently", action="store_true", help="also time Evidently (slow)")
    p.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "driftcore-main-job"))
    p.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    args = p.parse_args(argv)
    sizes = [100_000] if args.quick else [int(float(s)) for s in args.sizes.split(",")]
    cases = ["tiny-shift"] if args.quick else args.cases.split(",")
    rounds = 1 if args.quick else args.rounds
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    rows: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="driftcore-main-job-") as tmp:
        work = Path(tmp)
        for n in sizes:
            for case in cases:
                ref, cur = files(data, n, case)
                read = float("nan")
                for name, cmd in commands(
                    ref, cur, work, args.evidently and n <= 1_000_000
                ).items():
                    med, low, peak, code = measure(cmd, rounds)
                    read = med if name.startswith("read") else read
                    row = Timing(n, case, name, med, low, med / read, peak, code)
                    if name == "driftcore check":
                        row.phases = json.loads((work / "check.json").read_text())["timing"][
                            "phases"
                        ]
                    rows.append(row)
                    print(
                        f"{n:,} {case} {name}: {med:.2f} s ({med / read:.1f}x read), "
                        f"{peak:.0f} MiB, exit {code}",
                        file=sys.stderr,
                    )
    print("| rows | case | command | median s | min s | x read | peak MiB | exit | phases (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        phases = ", ".join(f"{k} {v:.2f}" for k, v in r.phases.items())
        print(
            f"| {r.size:,} | {r.case} | {r.command} | {r.median_s:.2f} | {r.min_s:.2f} | "
            f"{r.ratio_to_read:.1f} | {r.peak_mib:.0f} | {r.exit_code} | {phases} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
