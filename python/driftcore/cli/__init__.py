"""The ``driftcore`` command line: ``check``, ``profile`` and ``compare``.

``driftcore check REFERENCE CURRENT [--report report.html] [--json out.json]``
compares two datasets (Parquet files, CSV files or folders of Parquet files, read in
record batches) column by column, runs a multivariate MMD test on a sample of the
numeric columns, and looks for exact-row and near-duplicate text leakage. Exit
status: **0** when nothing exceeds its threshold, **1** when drift or leakage does,
**2** on a usage or input error (one line on stderr; ``--debug`` shows the
traceback).

``driftcore profile DATA -o reference.dcp`` summarizes a reference once;
``driftcore compare reference.dcp CURRENT`` compares new data (or a profile of it,
made with ``driftcore profile CURRENT -o cur.dcp --reference reference.dcp``) with
it. ``python -m driftcore REFERENCE CURRENT`` is ``driftcore check``.

Examples
--------
>>> from driftcore.cli import main
>>> main(["check", "no/such/ref.parquet", "cur.parquet"])
2
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..job import output
from ..job.errors import InputError
from ..job.settings import THRESHOLDS, Settings, apply, parse_threshold
from ..verdict import CORRECTIONS
from .config import load_toml

__all__ = ["main"]

COMMANDS = ("check", "compare", "profile")


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("columns")
    g.add_argument(
        "--columns",
        action="append",
        metavar="A,B",
        help="compare only these columns (comma-separated, repeatable)",
    )
    g.add_argument("--exclude", action="append", metavar="A,B", help="leave these columns out")
    g.add_argument(
        "--id",
        action="append",
        metavar="A,B",
        dest="ids",
        help="identifier columns (row keys such as customer_id, of any type): no "
        "drift metrics, still part of the exact-row leakage key",
    )
    g.add_argument(
        "--target",
        action="append",
        metavar="A,B",
        help="label columns: their drift (label shift) is reported apart from the "
        "features' and fails the check on its own",
    )
    g.add_argument(
        "--prediction",
        action="append",
        metavar="A,B",
        help="model output columns: their drift is reported apart from the features' "
        "and fails the check on its own",
    )
    g.add_argument(
        "--leak-columns",
        action="append",
        metavar="A,B",
        help="the columns two rows must share to count as exact-row leakage "
        "(default: every column both sides have, whatever --columns selects)",
    )
    g.add_argument(
        "--text-column",
        action="append",
        metavar="NAME",
        help="treat this string column as text (repeatable; replaces auto-detection)",
    )
    g.add_argument(
        "--text-shingles",
        choices=("auto", "word", "char"),
        help="how texts are compared: word 5-grams, character 3-grams, or auto "
        "(default: character 3-grams when the median text has under 50 words)",
    )
    g.add_argument(
        "--keep-punctuation",
        action="store_true",
        default=None,
        help="compare texts with their punctuation (by default it separates words)",
    )
    g.add_argument(
        "--categorical",
        action="append",
        metavar="A,B",
        help="count these numeric columns (integer codes) as categories",
    )
    g = p.add_argument_group("engine")
    g.add_argument("--config", metavar="FILE.toml", help="settings file (see driftcore.cli.config)")
    g.add_argument(
        "--mmd-sample",
        type=int,
        metavar="N",
        help="rows per side sampled for the MMD test (default 2000)",
    )
    g.add_argument("--seed", type=int, help="seed of the samples and sketches (default 0)")
    g.add_argument("--bins", type=int, help="quantile bins of the binned metrics (default 10)")
    g.add_argument(
        "--batch-size", type=int, metavar="ROWS", help="rows per record batch read (default 262144)"
    )
    g.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    g.add_argument(
        "--device",
        choices=("auto", "cpu", "gpu"),
        help="where kernels run; gpu needs cupy and a CUDA GPU",
    )
    g.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the passes on Dask: 'local' (a LocalCluster, one worker process "
        "per core), 'local-cuda' (dask-cuda, one worker per GPU) or a "
        "scheduler address such as tcp://host:8786; needs "
        "pip install 'driftcore[dask]' and Parquet input",
    )
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    g.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def _check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "reference", help="Parquet file, CSV file, folder of Parquet files, or .dcp profile"
    )
    p.add_argument("current", help="the same kinds (a .dcp profile for compare)")
    p.add_argument("--report", metavar="FILE.html", help="write the HTML report")
    p.add_argument("--json", metavar="FILE.json", help="write the JSON report ('-' for stdout)")
    p.add_argument(
        "--threshold",
        action="append",
        metavar="NAME=VALUE",
        help="override a threshold, e.g. psi=0.25, or one column's, e.g. age:psi=0.3 "
        "(repeatable); names: " + ", ".join(THRESHOLDS),
    )
    p.add_argument(
        "--correction",
        choices=CORRECTIONS,
        help="multiple-testing correction over the columns and the MMD test "
        "(default holm: false-alarm rate of the whole check <= alpha)",
    )
    p.add_argument(
        "--leak-rows",
        type=int,
        metavar="N",
        help="exact-row leakage: at most this many candidate rows (current rows "
        "whose row hash matches a reference row) are verified exactly; beyond, "
        "the count is estimated from a sample (default 500000; 0: no check)",
    )
    p.add_argument("--examples", type=int, metavar="N", help="leakage examples kept (default 5)")
    _common(p)


def parser() -> argparse.ArgumentParser:
    """The argument parser of the ``driftcore`` command."""
    p = argparse.ArgumentParser(
        prog="driftcore",
        description="Data drift and leakage checks. Exit status: 0 pass, 1 drift or leakage "
        "over a threshold, 2 usage or input error.",
    )
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="{check,profile,compare}")
    _check_args(sub.add_parser("check", help="compare two datasets (the main job)"))
    _check_args(
        sub.add_parser("compare", help="compare a saved profile with new data or a profile")
    )
    pp = sub.add_parser("profile", help="summarize a dataset into a .dcp profile")
    pp.add_argument("data", help="Parquet file, CSV file or folder of Parquet files")
    pp.add_argument("-o", "--output", required=True, metavar="FILE.dcp", help="profile to write")
    pp.add_argument(
        "--reference",
        metavar="REF.dcp",
        help="profile current data on this reference's bins (for compare)",
    )
    _common(pp)
    return p


def settings_from(args: argparse.Namespace) -> Settings:
    """Defaults, then the config file, then the options given on the command line."""
    s = Settings()
    if args.config:
        apply(s, load_toml(args.config), args.config).validate(args.config)
    opts: dict[str, Any] = {
        "columns": _split(args.columns),
        "exclude": _split(args.exclude),
        "leak_columns": _split(getattr(args, "leak_columns", None)),
        "ids": _split(getattr(args, "ids", None)),
        "target": _split(getattr(args, "target", None)),
        "prediction": _split(getattr(args, "prediction", None)),
        "text_columns": args.text_column,
        "text_shingles": args.text_shingles,
        "keep_punctuation": args.keep_punctuation,
        "categorical": _split(args.categorical),
        "mmd_sample": args.mmd_sample,
        "seed": args.seed,
        "bins": args.bins,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "device": args.device,
    }
    for name in ("correction", "leak_rows", "examples"):
        opts[name] = getattr(args, name, None)
    apply(s, {k: v for k, v in opts.items() if v is not None}, "command line")
    for item in getattr(args, "threshold", None) or []:
        column, name, value = parse_threshold(item)
        if column is None:
            s.thresholds[name] = value
        else:
            s.column_thresholds.setdefault(column, {})[name] = value
    return s.validate()


def _run(args: argparse.Namespace) -> int:
    from ..job import report_html, report_json, report_text
    from ..job.check import run_check, run_profile

    if args.command == "profile":
        outputs, inputs = [("-o", args.output)], [args.data, args.reference, args.config]
    else:
        outputs = [("--json", None if args.json == "-" else args.json), ("--report", args.report)]
        inputs = [args.reference, args.current, args.config]
    output.check_targets(outputs, inputs)  # before anything is read
    s = settings_from(args)
    if args.command == "profile":
        pf = run_profile(
            args.data, s, reference=args.reference, quiet=args.quiet, scheduler=args.scheduler
        )
        data = pf.to_bytes()
        output.write_outputs([(args.output, data)])
        if not args.quiet:
            print(
                f"wrote {args.output} ({len(data):,} bytes; {pf.meta['rows']:,} rows, "
                f"{len(pf.meta['columns'])} columns)",
                file=sys.stderr,
            )
        return 0
    if args.command == "compare" and not Path(args.reference).is_file():
        raise InputError(args.reference, "no such profile (make one with driftcore profile)")
    report = run_check(args.reference, args.current, s, quiet=args.quiet, scheduler=args.scheduler)
    doc = report.document
    doc["tool"]["command"] = args.command
    files = []
    if args.json and args.json != "-":
        files.append((args.json, report_json.dumps(doc).encode()))
    if args.report:
        files.append((args.report, report_html.render(doc).encode()))
    output.write_outputs(files)
    if args.json == "-":
        sys.stdout.write(report_json.dumps(doc))
    report_text.render(doc, sys.stderr if args.json == "-" else sys.stdout)
    return report.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit
    status instead of exiting."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    p = parser()
    try:
        args = p.parse_args(args_list)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    if args.version:
        import driftcore

        print(f"driftcore {driftcore.__version__}")
        return 0
    if args.command is None:
        p.print_usage(sys.stderr)
        print("driftcore: error: give a command: check, profile or compare", file=sys.stderr)
        return 2
    try:
        return _run(args)
    except InputError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"driftcore: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("driftcore: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line unless --debug, as promised
        if args.debug:
            traceback.print_exc()
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(
            f"driftcore: {type(exc).__name__}: {first} (rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return 2


def console_main() -> None:
    """Entry point of the ``driftcore`` console script."""
    without_pandas(sys.argv[1:])
    sys.exit(main())


class _NoPandas:
    """Import finder that refuses pandas (see :func:`without_pandas`)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError("the driftcore command does not use pandas", name=name)


def without_pandas(argv: Sequence[str]) -> None:
    """Keep pandas out of this process, for a command that reads files: pyarrow imports
    pandas, when installed, the first time it converts an array (0.2 s, a fifth of a
    check of 1e6 rows), and the command never uses it. pyarrow then runs as without
    pandas. Not with ``--scheduler`` (Dask needs pandas) or once pandas is loaded."""
    if "pandas" in sys.modules or any(
        a == "--scheduler" or a.startswith("--scheduler=") for a in argv
    ):
        return
    sys.meta_path.insert(0, _NoPandas())  # type: ignore[arg-type]
