"""``python -m driftcore``: the ``driftcore`` command line (see :mod:`driftcore.cli`).

``python -m driftcore REFERENCE CURRENT`` is an alias of ``driftcore check``; with no
arguments it checks the Seattle weather example in ``examples/data/`` (run from the
repository root)."""

from __future__ import annotations

import sys
from pathlib import Path

from .cli import COMMANDS, main, without_pandas

_EXAMPLE = Path("examples") / "data"  # relative to the repository root


def _argv(args: list[str]) -> list[str]:
    if not args:
        return ["check", str(_EXAMPLE / "reference.parquet"), str(_EXAMPLE / "current.parquet")]
    if args[0] in COMMANDS or args[0] in ("-h", "--help", "--version"):
        return args
    return ["check", *args]


if __name__ == "__main__":
    argv = _argv(sys.argv[1:])
    without_pandas(argv)
    sys.exit(main(argv))
