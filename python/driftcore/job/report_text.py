"""The terminal report: one row per column, drifted columns first, then the MMD test,
leakage and the verdict with its exit code.

Uses ``rich`` for the table when it is installed (colours only on a terminal) and a
plain aligned table otherwise, so the command works with the core dependencies only.

Examples
--------
>>> from driftcore.job.report_text import plain_table
>>> print(plain_table(["column", "psi"], [["temp_max", "0.193"], ["wind", "0.08"]]))
column    psi
--------  -----
temp_max  0.193
wind      0.08
"""

from __future__ import annotations

import io
import math
from typing import Any, TextIO

from ..verdict import missing_share

HEADERS = [
    "column",
    "kind",
    "drift",
    "psi*",
    "wass/std",
    "js_dist*",
    "ks",
    "p-value",
    "adj. p",
    "missing %",
]


def missing_shares(c: dict[str, Any]) -> str:
    """A column's share of missing values, reference -> current ('-' when none).

    Examples
    --------
    >>> from driftcore.job.report_text import missing_shares
    >>> missing_shares({"missing_reference": 3, "n_reference": 97,
    ...                 "missing_current": 40, "n_current": 60, "missing_changed": True})
    '3.0 -> 40.0 !'
    """
    mr, mc = c.get("missing_reference") or 0, c.get("missing_current") or 0
    if not (mr or mc):
        return "-"
    r = 100.0 * missing_share(mr, c["n_reference"])
    k = 100.0 * missing_share(mc, c["n_current"])
    return f"{r:.1f} -> {k:.1f}" + (" !" if c.get("missing_changed") else "")


def fmt(v: Any) -> str:
    """A metric in 3 significant digits; None or NaN as '-'.

    Examples
    --------
    >>> from driftcore.job.report_text import fmt
    >>> fmt(0.123456), fmt(None), fmt(12345678.0)
    ('0.123', '-', '1.23e+07')
    """
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, bool):
        return str(v)
    return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.2e}"


def rows(doc: dict[str, Any]) -> list[list[str]]:
    """The cells of the column table, in report order (drifted first)."""
    out = []
    for c in doc["columns"]:
        m = c["metrics"]
        verdict = {True: "DRIFT", False: "ok", None: "-"}[c["drifted"]]
        bound = "<=" if c.get("p_value_conservative") else ""  # exact p is at most this
        role = c.get("role", "feature")
        out.append(
            [
                c["column"] + ("" if role == "feature" else f" ({role})"),
                c["kind"],
                verdict,
                fmt(m.get("psi_debiased", m.get("psi"))),
                fmt(m.get("wasserstein_normed")),
                fmt(m.get("js_distance_debiased", m.get("js_distance"))),
                fmt(m.get("ks")),
                bound + fmt(c["p_value"]),
                bound + fmt(c.get("p_value_adjusted")),
                missing_shares(c),
            ]
        )
    return out


def row_name(example: dict[str, Any], side: str) -> str:
    """``"current row 12"``, with the row's index label when the input had one.

    Examples
    --------
    >>> from driftcore.job.report_text import row_name
    >>> row_name({"current_index": 12, "current_label": "cust-7"}, "current")
    'current row 12 (cust-7)'
    """
    name = f"{side} row {example[f'{side}_index']:,}"
    label = example.get(f"{side}_label")
    return name if label is None else f"{name} ({label})"


def _short(text: Any, width: int = 60) -> str:
    """A text on one line, quoted, cut to ``width`` characters."""
    t = " ".join(str(text).split())
    return repr(t if len(t) <= width else t[: width - 3] + "...")


def plain_table(headers: list[str], cells: list[list[str]]) -> str:
    """An aligned text table without colours."""
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines)


def footer(doc: dict[str, Any]) -> list[str]:
    """The lines after the table: missing values, findings, MMD, leakage, and the
    verdict."""
    s = doc["summary"]
    t = doc["settings"]["thresholds"]
    what = "feature columns" if doc["settings"].get("roles") else "columns"
    lines = [
        (
            f"{s['n_drifted']} of {s['n_judged']} {what} drifted (share {s['drift_share']:.2f}); "
            f"rule: {doc['settings']['correction']}-adjusted p <= {t['alpha']:g} and an effect "
            f"over its threshold (psi {t['psi']:g}, wass/std {t['wasserstein']:g}, "
            f"js_dist {t['js']:g}; * net of sampling noise, as the rule compares them)"
        )
    ]
    for c in doc["columns"]:
        if c.get("missing_changed"):
            lines.append(
                f"missing values in {c['column']!r} changed: {c['missing_reference']:,} of "
                f"{c['missing_reference'] + c['n_reference']:,} -> {c['missing_current']:,} "
                f"of {c['missing_current'] + c['n_current']:,} "
                f"(adj. p {fmt(c['missing_p_value_adjusted'])})"
            )
        if c.get("n_unseen_categories") and c["kind"] == "numeric":  # categories: a finding
            more = c["n_unseen_categories"] - len(c["unseen_categories"])
            lines.append(
                f"new in {c['column']!r}: {', '.join(c['unseen_categories'])}"
                + (f" (+{more} more)" if more > 0 else "")
            )
    for f in doc.get("findings", []):
        if (
            f["kind"] in ("new_categories", "out_of_range", "vanished_categories")
            and not f["failed"]
        ):
            lines.append(
                f"note: {f['message']} (adj. p {fmt(f['pvalue_adjusted'])}, "
                f"limit {f['threshold']:.1%})"
            )
        elif f["failed"]:
            lines.append(f"FINDING: {f['message']}")
    ids = doc["settings"].get("identifier_columns") or []
    if ids:
        lines.append(
            f"identifier columns (--id, or strings >= 95% distinct; no drift metrics, "
            f"in the exact-row key): {', '.join(ids)}"
        )
    m = doc["mmd"]
    if m is not None:
        size = f"sample {m['n_reference']:,} / {m['n_current']:,} rows of {len(m['columns'])} numeric columns"
        if m["status"] == "ok":
            verdict = "DRIFT" if m["drifted"] else "ok"
            lines.append(
                f"MMD test: {verdict}  mmd2={fmt(m['mmd2'])} p-value={fmt(m['p_value'])} "
                f"adj. p={fmt(m.get('p_value_adjusted'))} ({size}, standardized)"
            )
        else:
            lines.append(f"MMD test: {m['status']} ({m.get('reason', '')}; {size})")
    e = doc["leakage"]["exact_rows"]
    if e["status"] == "ok":
        how = (
            f", estimated from {e['n_checked']:,} of {e['n_candidates']:,} candidates"
            if e["sampled"]
            else ""
        )
        lines.append(
            f"exact-row leakage: {e['n_leaked']:,} of {e['n_current']:,} current rows are "
            f"in the reference ({e['rate']:.2%}; limit {e['threshold']:.2%}{how})"
            + ("  LEAK" if e["exceeded"] else "")
        )
        for ex in e["examples"][:3]:
            lines.append(f"  {row_name(ex, 'current')} = {row_name(ex, 'reference')}")
        dup = e.get("reference_duplicates")
        if dup and dup["n_duplicate_rows"]:
            lines.append(
                f"duplicates within the reference: {dup['n_duplicate_rows']:,} of "
                f"{dup['n_rows']:,} rows ({dup['share']:.2%}) repeat an earlier reference row"
            )
    else:
        lines.append(f"exact-row leakage: {e['status']} ({e.get('reason', '')})")
    for n in doc["leakage"]["near_duplicates"]:
        if n["status"] == "ok":
            lines.append(
                f"near-duplicate texts in {n['column']!r}: {n['n_leaked']:,} of "
                f"{n['n_current']:,} ({n['rate']:.2%}; limit {n['threshold']:.2%}, "
                f"Jaccard >= {n['similarity']:g})" + ("  LEAK" if n["exceeded"] else "")
            )
            dup = n.get("reference_duplicates") or {}
            if dup.get("n_near_duplicates"):
                lines.append(
                    f"  within the reference: {dup['n_near_duplicates']:,} of "
                    f"{dup['n_texts']:,} texts ({dup['share']:.2%}) near-duplicate an earlier one"
                )
            for ex in n["examples"][:3]:
                j = "" if ex.get("jaccard") is None else f", Jaccard {ex['jaccard']:.2f}"
                lines.append(
                    f"  {row_name(ex, 'current')} ~ {row_name(ex, 'reference')}{j}: "
                    f"{_short(ex['current'])}"
                    + ("" if ex["reference"] is None else f" ~ {_short(ex['reference'])}")
                )
        else:
            lines.append(
                f"near-duplicate texts in {n['column']!r}: {n['status']} ({n.get('reason', '')})"
            )
    if s["exit_code"]:
        lines.append("FAIL (exit 1): " + "; ".join(s["reasons"]))
    else:
        lines.append("PASS (exit 0): no drift, finding or leakage over its threshold")
    return lines


def render(doc: dict[str, Any], out: TextIO, *, use_rich: bool | None = None) -> None:
    """Print the report to ``out`` (rich when available unless ``use_rich=False``)."""
    ref, cur = doc["reference"], doc["current"]
    head = (
        f"reference: {ref['path']} ({ref['rows']:,} rows)\n"
        f"current:   {cur['path']} ({cur['rows']:,} rows)"
    )
    cells = rows(doc)
    if use_rich is not False:
        try:
            from rich.console import Console
            from rich.table import Table
            from rich.text import Text
        except ImportError:
            use_rich = False
    if use_rich is False:
        out.write(
            head + "\n\n" + plain_table(HEADERS, cells) + "\n" + "\n".join(footer(doc)) + "\n"
        )
        return
    tty = hasattr(out, "isatty") and out.isatty()
    # Not a terminal: no colours, a wide table, and no trailing padding.
    buffer = None if tty else io.StringIO()
    console = Console(file=out if tty else buffer, width=None if tty else 200)
    table = Table(show_edge=False, header_style="bold")
    for h in HEADERS:
        numeric = h in ("psi*", "wass/std", "js_dist*", "ks", "p-value", "adj. p")
        table.add_column(
            h,
            justify="right" if numeric else "left",
            no_wrap=True,
            min_width=len(h) if h != "column" else 8,
        )
    for r in cells:
        style = "bold red" if r[2] == "DRIFT" or r[-1].endswith("!") else None
        table.add_row(*(Text(v) for v in r), style=style)  # names are text, not markup
    console.print(head, highlight=False, markup=False)
    console.print(table)
    for line in footer(doc):
        style = None
        if line.startswith("FAIL"):
            style = "bold red"
        elif line.startswith("PASS"):
            style = "bold green"
        elif line.startswith("FINDING"):
            style = "red"
        console.print(line, style=style, highlight=False, markup=False, soft_wrap=True)
    if buffer is not None:
        out.write("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n")
