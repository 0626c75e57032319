"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no
network fetches) with the summary, the metric table, overlaid reference/current
histograms per column, the MMD result and leakage examples side by side.

It is drawn from the report document alone (the same dict as the JSON report).

Examples
--------
>>> from driftcore.job.report_html import histogram_svg
>>> svg = histogram_svg({"kind": "numeric", "edges": [0, 1, 2], "reference": [5, 5],
...                      "current": [2, 8], "below": [0, 0], "above": [0, 0]})
>>> svg.startswith("<svg") and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
True
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from .findings import shown
from .output import write_all
from .report_text import fmt, row_name

REF_COLOR = "#3b6fb6"
CUR_COLOR = "#e0812b"
W, H, PAD = 360, 150, 24

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;
color:#1d2330;background:#fff;max-width:1180px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde;
padding-bottom:4px} .muted{color:#667} .badge{display:inline-block;padding:3px 10px;border-radius:4px;
font-weight:600;color:#fff} .fail{background:#c0392b} .pass{background:#2e8b57}
table{border-collapse:collapse;font-size:13px;width:100%} th,td{padding:4px 8px;border-bottom:1px solid #eef;
text-align:left;vertical-align:top} th{background:#f4f6fa} td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.drift td{background:#fdecea} .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(370px,1fr));gap:14px}
.card{border:1px solid #dde;border-radius:6px;padding:8px 10px} .card h3{font-size:14px;margin:0 0 4px}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:8px;margin-bottom:8px}
.pair div{border:1px solid #dde;border-radius:4px;padding:6px;font-size:13px;white-space:pre-wrap;
word-break:break-word;max-height:160px;overflow:auto} .pair .label{font-size:11px;color:#667;border:none;padding:0}
del{background:#fdd;text-decoration:line-through} ins{background:#dfd;text-decoration:none}
ul{margin:4px 0 4px 18px;padding:0}
"""


def histogram_svg(h: dict[str, Any] | None, arrow_type: str = "") -> str:
    """Overlaid reference (blue) and current (orange) distributions as inline SVG:
    densities on the display bins for numeric columns (the axis's ends as dates or
    times for temporal ``arrow_type``), shares per category for categorical ones."""
    if h is None:
        return '<p class="muted">no histogram (no values on one side)</p>'
    if h["kind"] == "numeric":
        return _numeric_svg(h, arrow_type)
    return _categorical_svg(h)


def _svg(body: str, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H + PAD}" '
        f'viewBox="0 0 {W} {H + PAD}" role="img" aria-label="{escape(label)}">{body}</svg>'
    )


def _numeric_svg(h: dict[str, Any], arrow_type: str = "") -> str:
    edges = [float(e) for e in h["edges"]]
    lo, hi = edges[0], edges[-1]
    span = (hi - lo) or 1.0
    dens = []
    for key in ("reference", "current"):
        counts = h[key]
        total = sum(counts) or 1
        dens.append(
            [c / total / max(edges[i + 1] - edges[i], 1e-300) for i, c in enumerate(counts)]
        )
    top = max(max(d) for d in dens) or 1.0

    def x(v: float) -> float:
        return PAD / 2 + (v - lo) / span * (W - PAD)

    def path(d: list[float]) -> str:
        pts = [f"M{x(lo):.1f},{H:.1f}"]
        for i, v in enumerate(d):
            y = H - v / top * (H - 10)
            pts.append(f"L{x(edges[i]):.1f},{y:.1f}L{x(edges[i + 1]):.1f},{y:.1f}")
        pts.append(f"L{x(hi):.1f},{H:.1f}Z")
        return "".join(pts)

    body = (
        f'<path d="{path(dens[0])}" fill="{REF_COLOR}" fill-opacity="0.35" stroke="{REF_COLOR}"/>'
        f'<path d="{path(dens[1])}" fill="{CUR_COLOR}" fill-opacity="0.35" stroke="{CUR_COLOR}"/>'
        f'<line x1="{PAD / 2}" y1="{H}" x2="{W - PAD / 2}" y2="{H}" stroke="#889"/>'
        f'<text x="{PAD / 2}" y="{H + 16}" font-size="11" fill="#556">'
        f"{escape(shown(lo, arrow_type, fmt))}</text>"
        f'<text x="{W - PAD / 2}" y="{H + 16}" font-size="11" fill="#556" '
        f'text-anchor="end">{escape(shown(hi, arrow_type, fmt))}</text>'
    )
    note = ""
    out = [h["below"][1] + h["above"][1], h["below"][0] + h["above"][0]]
    if any(out):
        note = (
            f'<text x="{W / 2}" y="{H + 16}" font-size="10" fill="#889" text-anchor="middle">'
            f"outside range: ref {out[1]:,}, cur {out[0]:,}</text>"
        )
    return _svg(body + note, "histogram")


def _categorical_svg(h: dict[str, Any]) -> str:
    cats = list(h["categories"]) + (["(other)"] if any(h["other"]) else [])
    ref = list(h["reference"]) + ([h["other"][0]] if any(h["other"]) else [])
    cur = list(h["current"]) + ([h["other"][1]] if any(h["other"]) else [])
    tr, tc = sum(ref) or 1, sum(cur) or 1
    shares = [(r / tr, c / tc) for r, c in zip(ref, cur)]
    top = max([max(s) for s in shares] or [1.0]) or 1.0
    n = max(len(cats), 1)
    slot = (W - PAD) / n
    bw = max(slot * 0.38, 1.0)
    parts = []
    for i, (cat, (a, b)) in enumerate(zip(cats, shares)):
        x0 = PAD / 2 + i * slot + slot * 0.1
        for j, (v, color) in enumerate(((a, REF_COLOR), (b, CUR_COLOR))):
            hgt = v / top * (H - 10)
            parts.append(
                f'<rect x="{x0 + j * bw:.1f}" y="{H - hgt:.1f}" width="{bw:.1f}" '
                f'height="{hgt:.1f}" fill="{color}" fill-opacity="0.75">'
                f"<title>{escape(str(cat))}: {v:.1%}</title></rect>"
            )
        label = str(cat)[:8]
        parts.append(
            f'<text x="{x0 + bw:.1f}" y="{H + 14}" font-size="10" fill="#556" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append(f'<line x1="{PAD / 2}" y1="{H}" x2="{W - PAD / 2}" y2="{H}" stroke="#889"/>')
    return _svg("".join(parts), "category shares")


def _side(doc: dict[str, Any], key: str) -> str:
    s = doc[key]
    kind = "profile" if s["is_profile"] else s["format"]
    return f"<b>{key}</b>: {escape(s['path'])} ({kind}, {s['rows']:,} rows)"


def _metric_table(doc: dict[str, Any]) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "column",
            "kind",
            "verdict",
            "psi*",
            "wass/std",
            "js_dist*",
            "ks",
            "p-value",
            "adj. p",
            "mean ref",
            "mean cur",
            "missing ref/cur",
            "new values",
            "rule",
        )
    )
    body = []
    for c in doc["columns"]:
        m = c["metrics"]
        verdict = {True: "DRIFT", False: "ok", None: "-"}[c["drifted"]]
        bound = "&le;" if c.get("p_value_conservative") else ""  # exact p is at most this
        role = c.get("role", "feature")
        name = escape(c["column"]) + ("" if role == "feature" else f" <b>({role})</b>")
        cells = (
            [name, c["kind"], verdict]
            + [
                f'<td class="num">{fmt(v)}</td>'
                for v in (
                    m.get("psi_debiased", m.get("psi")),
                    m.get("wasserstein_normed"),
                    m.get("js_distance_debiased", m.get("js_distance")),
                    m.get("ks"),
                )
            ]
            + [
                f'<td class="num">{bound}{fmt(v)}</td>'
                for v in (c["p_value"], c.get("p_value_adjusted"))
            ]
            + [
                f'<td class="num">{fmt(v)}</td>'
                for v in (m.get("mean_reference"), m.get("mean_current"))
            ]
        )
        row = "".join(f"<td>{v}</td>" if not str(v).startswith("<td") else v for v in cells)
        changed = " <b>changed</b>" if c.get("missing_changed") else ""
        row += (
            f'<td class="num">{c["missing_reference"]:,} / {c["missing_current"]:,}{changed}</td>'
        )
        unseen = ", ".join(c.get("unseen_categories", []))
        more = c.get("n_unseen_categories", 0) - len(c.get("unseen_categories", []))
        row += f"<td>{escape(unseen)}{f' (+{more:,} more)' if more > 0 else ''}</td>"
        row += f"<td>{escape(c['rule'])}</td>"
        body.append(f'<tr class="{"drift" if c["drifted"] else ""}">{row}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def role_note(c: dict[str, Any]) -> str:
    """``"target, "`` / ``"prediction, "`` before a card's kind; nothing for a feature.

    Examples
    --------
    >>> from driftcore.job.report_html import role_note
    >>> role_note({"role": "target"}), role_note({"role": "feature"})
    ('target, ', '')
    """
    role = c.get("role", "feature")
    return "" if role == "feature" else f"{role}, "


def _cards(doc: dict[str, Any]) -> str:
    cards = []
    for c in doc["columns"]:
        verdict = {True: "DRIFT", False: "ok", None: "no verdict"}[c["drifted"]]
        m = c["metrics"]
        cards.append(
            f'<div class="card"><h3>{escape(c["column"])} <span class="muted">'
            f"{role_note(c)}{c['kind']}, {verdict}</span></h3>{histogram_svg(c['histogram'], c.get('type', ''))}"
            f'<div class="muted">psi* {fmt(m.get("psi_debiased", m.get("psi")))} &middot; '
            f"js* {fmt(m.get('js_distance_debiased', m.get('js_distance')))}"
            f" &middot; p {fmt(c['p_value'])}</div></div>"
        )
    return f'<div class="grid">{"".join(cards)}</div>'


def _mmd(doc: dict[str, Any]) -> str:
    m = doc["mmd"]
    if m is None:
        return '<p class="muted">no numeric columns</p>'
    size = (
        f"sample of {m['n_reference']:,} reference and {m['n_current']:,} current rows "
        f"(requested {m['sample_size']:,} a side) over {len(m['columns'])} standardized "
        f"numeric columns"
    )
    if m["status"] != "ok":
        return f"<p><b>{m['status']}</b>: {escape(m.get('reason', ''))}. {size}.</p>"
    verdict = "DRIFT" if m["drifted"] else "no drift"
    return (
        f"<p><b>{verdict}</b>: MMD&sup2; = {fmt(m['mmd2'])}, p-value = {fmt(m['p_value'])} "
        f"(adjusted with the columns' {fmt(m.get('p_value_adjusted'))}, alpha "
        f"{m['alpha']:g}), threshold {fmt(m['threshold'])}, bandwidth "
        f"{fmt(m['bandwidth'])}, {escape(m['estimator'])} estimator; {size}.</p>"
    )


def _pair(left: str, right: str, caption: str) -> str:
    return (
        f'<div class="pair"><div class="label">{caption}</div><div class="label"></div>'
        f"<div>{left}</div><div>{right}</div></div>"
    )


def word_diff(reference: str, current: str) -> tuple[str, str]:
    """The two texts as HTML, words only in the reference struck through (``<del>``) and
    words only in the current text marked (``<ins>``); everything escaped.

    Examples
    --------
    >>> from driftcore.job.report_html import word_diff
    >>> word_diff("the cat sat on a mat", "the cat sat on the mat")
    ('the cat sat on <del>a</del> mat', 'the cat sat on <ins>the</ins> mat')
    """
    import difflib
    import re

    a, b = re.findall(r"\S+|\s+", reference), re.findall(r"\S+|\s+", current)
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        old, new = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if op == "equal":
            left.append(old)
            right.append(new)
            continue
        if old.strip():
            left.append(f"<del>{old}</del>")
        if new.strip():
            right.append(f"<ins>{new}</ins>")
    return "".join(left), "".join(right)


def _leakage(doc: dict[str, Any]) -> str:
    out = []
    e = doc["leakage"]["exact_rows"]
    if e["status"] == "ok":
        how = (
            f" Estimated: {e['n_checked']:,} of {e['n_candidates']:,} hash candidates verified."
            if e["sampled"]
            else ""
        )
        out.append(
            f"<h3>Exact rows</h3><p>{e['n_leaked']:,} of {e['n_current']:,} current rows "
            f"equal a reference row on all {len(e['columns'])} columns ({e['rate']:.2%}; "
            f"limit {e['threshold']:.2%}).{how}</p>"
        )
        dup = e.get("reference_duplicates")
        if dup and dup["n_duplicate_rows"]:
            out.append(
                f"<p>Within the reference, {dup['n_duplicate_rows']:,} of {dup['n_rows']:,} rows "
                f"({dup['share']:.2%}) repeat an earlier reference row on the same columns.</p>"
            )
        for ex in e["examples"]:
            vals = "<br>".join(f"{escape(k)} = {escape(str(v))}" for k, v in ex["values"].items())
            out.append(
                _pair(
                    vals,
                    vals,
                    f"{escape(row_name(ex, 'reference'))} &harr; "
                    f"{escape(row_name(ex, 'current'))} (identical)",
                )
            )
    else:
        out.append(f"<h3>Exact rows</h3><p>{e['status']}: {escape(e.get('reason', ''))}</p>")
    for n in doc["leakage"]["near_duplicates"]:
        out.append(f"<h3>Near-duplicate texts: {escape(n['column'])}</h3>")
        if n["status"] != "ok":
            out.append(f"<p>{n['status']}: {escape(n.get('reason', ''))}</p>")
            continue
        out.append(
            f"<p>{n['n_leaked']:,} of {n['n_current']:,} current texts ({n['rate']:.2%}; "
            f"limit {n['threshold']:.2%}) near-duplicate a reference text (estimated "
            f"Jaccard &ge; {n['similarity']:g}).</p>"
        )
        dup = n.get("reference_duplicates") or {}
        if dup.get("n_near_duplicates"):
            out.append(
                f"<p>Within the reference, {dup['n_near_duplicates']:,} of {dup['n_texts']:,} "
                f"texts ({dup['share']:.2%}) near-duplicate an earlier reference text.</p>"
            )
        for ex in n["examples"]:
            if ex["reference"] is None:
                left, right = "(text not stored in the profile)", escape(str(ex["current"]))
            else:
                left, right = word_diff(str(ex["reference"]), str(ex["current"]))
            scores = f"signature agreement {ex['similarity']:.2f}"
            if ex.get("jaccard") is not None:
                scores += (
                    f", Jaccard {ex['jaccard']:.2f}, {ex['containment']:.0%} of the current "
                    "text's shingles in the reference text"
                )
            out.append(
                _pair(
                    left,
                    right,
                    f"{escape(row_name(ex, 'reference'))} &harr; "
                    f"{escape(row_name(ex, 'current'))}: {scores}",
                )
            )
    return "".join(out)


def _findings(doc: dict[str, Any]) -> str:
    found = doc.get("findings", [])
    if not found:
        return (
            '<p class="muted">none: the same columns and types, no new or vanished '
            "categories, no values outside the reference&#39;s range</p>"
        )
    rows = []
    for f in found:
        share = "" if f.get("share") is None else f"{f['share']:.2%}"
        p = "" if f.get("pvalue_adjusted") is None else fmt(f["pvalue_adjusted"])
        cls = ' class="drift"' if f["failed"] else ""
        rows.append(
            f"<tr{cls}><td>{escape(f['kind'].replace('_', ' '))}</td>"
            f"<td>{escape(f['column'])}</td><td>{escape(f['message'])}</td>"
            f'<td class="num">{share}</td><td class="num">{p}</td>'
            f"<td>{'FAIL' if f['failed'] else 'ok'}</td></tr>"
        )
    return (
        "<table><tr><th>finding</th><th>column</th><th>what</th><th>share</th>"
        "<th>adj. p</th><th>verdict</th></tr>" + "".join(rows) + "</table>"
    )


def render(doc: dict[str, Any]) -> str:
    """The whole report as one HTML string."""
    s = doc["summary"]
    badge = (
        f'<span class="badge {s["status"]}">{s["status"].upper()} (exit {s["exit_code"]})</span>'
    )
    reasons = (
        "".join(f"<li>{escape(r)}</li>" for r in s["reasons"])
        or "<li>no drift or leakage over its threshold</li>"
    )
    thresholds = ", ".join(f"{k} {v:g}" for k, v in doc["settings"]["thresholds"].items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>driftcore report</title><style>{_CSS}</style></head><body>
<h1>driftcore {escape(doc["tool"]["command"])} {badge}</h1>
<p class="muted">{escape(doc["created_utc"])} &middot; driftcore {escape(doc["tool"]["version"])}</p>
<p>{_side(doc, "reference")}<br>{_side(doc, "current")}</p>
<h2>Summary</h2>
<p>{s["n_drifted"]} of {s["n_judged"]} columns drifted (share {s["drift_share"]:.2f}).</p>
<ul>{reasons}</ul>
<p class="muted">thresholds: {escape(thresholds)}</p>
<h2>Columns</h2>{_metric_table(doc)}
<p class="muted">psi* and js_dist*: net of sampling noise, the values the rule compares
(the raw ones are in the JSON report).</p>
<h2>Data quality</h2>{_findings(doc)}
<h2>Distributions</h2>
<p class="legend"><span style="background:{REF_COLOR}"></span>reference
<span style="background:{CUR_COLOR}"></span>current</p>{_cards(doc)}
<h2>Multivariate drift (MMD)</h2>{_mmd(doc)}
<h2>Leakage</h2>{_leakage(doc)}
</body></html>
"""


def write(doc: dict[str, Any], path: str | Path) -> None:
    """Write the HTML report to ``path``, all or nothing."""
    write_all([(path, render(doc).encode())])
