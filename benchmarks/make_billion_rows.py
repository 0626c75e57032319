"""Generate a folder of Parquet files with one float32 column, for the billion-row
profile (``driftcore profile FOLDER``) and the Dask scaling runs. Never committed.

The values are a seeded mixture (normal with a heavy right tail), written file by
file, so memory stays at one file's worth whatever ``--rows``; each file has row
groups of ``--row-group`` rows. 1e9 rows take about 4 GB of disk.

Usage::

    python benchmarks/make_billion_rows.py /tmp/driftcore-1e9              # 1e9 rows, 100 files
    python benchmarks/make_billion_rows.py /tmp/small --rows 1e7 --files 10
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def file_values(seed: int, index: int, n: int) -> np.ndarray:
    """The ``n`` float32 values of file ``index`` (independent streams per file)."""
    rng = np.random.default_rng([seed, index])
    x = rng.standard_normal(n, dtype=np.float32)
    tail = rng.random(n, dtype=np.float32) < 0.05
    x[tail] = rng.exponential(3.0, int(tail.sum())).astype(np.float32) + 2.0
    return x


def write(folder: Path, rows: int, files: int, seed: int, row_group: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    per_file = -(-rows // files)
    written = 0
    for i in range(files):
        n = min(per_file, rows - written)
        if n <= 0:
            break
        table = pa.table({"x": file_values(seed, i, n)})
        pq.write_table(
            table, folder / f"part-{i:05d}.parquet", row_group_size=row_group, compression="snappy"
        )
        written += n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("folder", type=Path)
    p.add_argument("--rows", type=float, default=1e9)
    p.add_argument("--files", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--row-group", type=int, default=1 << 20)
    args = p.parse_args()
    t = time.perf_counter()
    write(args.folder, int(args.rows), args.files, args.seed, args.row_group)
    size = sum(f.stat().st_size for f in args.folder.glob("*.parquet"))
    print(
        f"wrote {int(args.rows):,} rows in {args.files} files to {args.folder} "
        f"({size / 1e9:.2f} GB) in {time.perf_counter() - t:.1f} s"
    )


if __name__ == "__main__":
    main()
