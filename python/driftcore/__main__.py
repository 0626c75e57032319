"""``python -m driftcore [REFERENCE CURRENT]``: print the drift table of two CSV or
Parquet files (by default the Seattle weather example shipped in examples/data/)."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .compare import compare

_EXAMPLE = Path("examples") / "data"  # relative to the repository root


def _read(path: Path):
    if path.suffix == ".parquet":
        return pq.read_table(path)
    return pacsv.read_csv(path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (0, 2):
        print("usage: python -m driftcore [REFERENCE CURRENT]", file=sys.stderr)
        return 2
    if args:
        ref_path, cur_path = Path(args[0]), Path(args[1])
    else:
        ref_path, cur_path = _EXAMPLE / "reference.parquet", _EXAMPLE / "current.parquet"
    try:
        ref, cur = _read(ref_path), _read(cur_path)
    except (OSError, ValueError) as exc:
        print(f"driftcore: cannot read input: {exc}", file=sys.stderr)
        return 2
    report = compare(ref, cur)
    print(f"reference: {ref_path} ({ref.num_rows} rows)\ncurrent:   {cur_path} ({cur.num_rows} rows)\n")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
