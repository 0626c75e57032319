"""Summarize a pytest-benchmark JSON file of the driftcore suite, one table per group.

Usage::

    python benchmarks/report.py bench.json [more.json ...] [--markdown]

For each implementation: the median time per call, the throughput (values, or table
cells for compare, per second, from ``extra_info["items"]``), the ratio
``median / baseline median`` (the baseline is the group's driftcore row marked
``extra_info["baseline"]``; for a peer this is how many times faster driftcore is),
and, for sketches, the measured max rank error, the stated 99% bound and the number of
values the sketch retains (its memory, in float64 values). Given several files (runs of
the same suite), it also prints, per implementation, the median over runs of the
median times and of the ratios, with the range of the ratios: on a noisy machine the
spread between runs is larger than the spread within one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from typing import Any

GROUP_ORDER = [
    "hist-uniform-64",
    "hist-quantile-64",
    "hist-threads",
    "sketch-update",
    "ks",
    "wasserstein",
    "compare-10x",
]


def _fmt_time(s: float) -> str:
    if s >= 1.0:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


def _fmt_rate(items: int | None, median: float) -> str:
    if not items or median <= 0:
        return "-"
    r = items / median
    if r >= 1e9:
        return f"{r / 1e9:.2f} G/s"
    if r >= 1e6:
        return f"{r / 1e6:.1f} M/s"
    return f"{r / 1e3:.1f} k/s"


def _rows(bench: dict[str, Any]) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for b in bench["benchmarks"]:
        groups[b.get("group") or "(none)"].append(b)
    order = [g for g in GROUP_ORDER if g in groups] + sorted(set(groups) - set(GROUP_ORDER))
    out = []
    for g in order:
        items = groups[g]
        base = next((b for b in items if b.get("extra_info", {}).get("baseline")), None)
        base_median = base["stats"]["median"] if base else None
        for b in sorted(items, key=lambda b: b["stats"]["median"]):
            info = b.get("extra_info", {})
            med = b["stats"]["median"]
            out.append(
                {
                    "group": g,
                    "impl": info.get("impl", b["name"]),
                    "baseline": bool(info.get("baseline")),
                    "median": med,
                    "iqr": b["stats"].get("iqr"),
                    "rounds": b["stats"].get("rounds"),
                    "rate": _fmt_rate(info.get("items"), med),
                    "ratio": (med / base_median) if base_median else None,
                    "max_rank_error": info.get("max_rank_error"),
                    "rank_error_bound": info.get("rank_error_bound"),
                    "retained": info.get("retained"),
                }
            )
    return out


def _table(rows: list[dict[str, Any]], markdown: bool) -> str:
    has_err = any(r["max_rank_error"] is not None for r in rows)
    head = ["implementation", "median", "rounds", "throughput", "ratio vs driftcore"]
    if has_err:
        head += ["max rank error", "stated bound", "retained"]
    lines = []
    for r in rows:
        ratio = (
            "baseline"
            if r["baseline"]
            else (f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-")
        )
        cells = [r["impl"], _fmt_time(r["median"]), str(r["rounds"]), r["rate"], ratio]
        if has_err:
            e, bd = r["max_rank_error"], r["rank_error_bound"]
            cells += [
                f"{e:.4%}" if e is not None else "-",
                f"{bd:.4%}" if bd is not None else "-",
                f"{r['retained']:,}" if r["retained"] is not None else "-",
            ]
        lines.append(cells)
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        out += ["| " + " | ".join(c) + " |" for c in lines]
        return "\n".join(out)
    widths = [max(len(h), *(len(c[i]) for c in lines)) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(
        [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
        + [fmt.format(*c) for c in lines]
    )


def _header(path: str, bench: dict[str, Any]) -> list[str]:
    meta = bench.get("driftcore_bench", {})
    mi = bench.get("machine_info", {})
    cpu = mi.get("cpu", {}).get("brand_raw") or mi.get("processor") or "?"
    out = [
        (
            f"# {path}: {'quick' if meta.get('quick') else 'full'} mode, "
            f"{bench.get('datetime', '?')}"
        ),
        (
            f"# cpu: {cpu}; cores: {meta.get('cpu_count', '?')}; "
            f"python {meta.get('python', mi.get('python_version', '?'))}"
        ),
    ]
    if meta.get("versions"):
        out.append("# " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if v))
    if meta.get("sizes"):
        out.append("# sizes: " + ", ".join(f"{k}={v:,}" for k, v in meta["sizes"].items()))
    prov = meta.get("provenance", {})
    start = prov.get("start", {})
    if start:
        so = start.get("core_module", {})
        dirty = start.get("git_dirty") or []
        out.append(
            f"# driftcore commit {str(start.get('git_head'))[:10]}"
            f"{' + uncommitted: ' + ', '.join(d.split()[-1] for d in dirty) if dirty else ''}"
            f"; _core sha256 {str(so.get('sha256'))[:12]}"
        )
        out.append(
            f"# load average at start {start.get('loadavg')}, at end "
            f"{prov.get('end', {}).get('loadavg')}"
        )
    if prov.get("changed_during_run"):
        out.append(
            "# WARNING: driftcore changed during this run (commit, sources or "
            "compiled module): rerun before quoting these numbers"
        )
    return out


def _median(xs: list[float]) -> float:
    ys = sorted(xs)
    m = len(ys) // 2
    return ys[m] if len(ys) % 2 else 0.5 * (ys[m - 1] + ys[m])


def _aggregate(runs: list[list[dict[str, Any]]], markdown: bool) -> str:
    """Across runs: the median of the per-run medians and of the per-run ratios, with
    the range of the ratios (each ratio is taken within one run)."""
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for rows in runs:
        for r in rows:
            by_key[(r["group"], r["impl"])].append(r)
    head = [
        "group",
        "implementation",
        "runs",
        "median of medians",
        "ratio vs driftcore (median of runs)",
        "ratio range",
    ]
    lines = []
    for (g, impl), rs in by_key.items():
        ratios = [r["ratio"] for r in rs if r["ratio"] is not None]
        base = all(r["baseline"] for r in rs)
        lines.append(
            [
                g,
                impl,
                str(len(rs)),
                _fmt_time(_median([r["median"] for r in rs])),
                "baseline" if base else (f"{_median(ratios):.2f}x" if ratios else "-"),
                "" if base or not ratios else f"{min(ratios):.2f}x - {max(ratios):.2f}x",
            ]
        )
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        out += ["| " + " | ".join(c) + " |" for c in lines]
        return "\n".join(out)
    widths = [max(len(h), *(len(c[i]) for c in lines)) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(
        [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
        + [fmt.format(*c) for c in lines]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "json_files",
        nargs="+",
        metavar="json_file",
        help="pytest-benchmark JSON; with several, also a cross-run summary",
    )
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = ap.parse_args(argv)
    runs = []
    for i, path in enumerate(args.json_files):
        with open(path, encoding="utf-8") as f:
            bench = json.load(f)
        if i:
            print()
        print("\n".join(_header(path, bench)))
        print("# ratio = median / driftcore baseline median (> 1: driftcore is faster)")
        rows = _rows(bench)
        runs.append(rows)
        for g in dict.fromkeys(r["group"] for r in rows):
            print()
            print(f"## {g}" if args.markdown else f"[{g}]")
            if args.markdown:
                print()
            print(_table([r for r in rows if r["group"] == g], args.markdown))
    if len(runs) > 1:
        print()
        print(f"## across {len(runs)} runs" if args.markdown else f"[across {len(runs)} runs]")
        if args.markdown:
            print()
        print(_aggregate(runs, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
