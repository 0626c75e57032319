"""The report document: the dict behind the JSON report (``schema/report.v2.json``),
the terminal table and the HTML page, assembled from the two summarized sides.

It holds the per-column drift of :func:`driftcore.compare` on the two profiles,
histograms drawn from their value grids, the data-quality findings
(:mod:`driftcore.job.findings`), the MMD section, the leakage sections, and the gate:
exit code 1 with its reasons when a column drifts (share >= ``drift_share``), a
missing-value share changes, the MMD test rejects, a finding fails (the p-values of
the MMD test and the findings join the columns' family of tests, so the decision
rule is the library's, :mod:`driftcore.verdict`), or a leakage rate exceeds its
threshold. NaN and infinities become None.

Examples
--------
>>> from driftcore.job.document import clean
>>> clean({"a": float("nan"), "b": [1.5, float("inf")]})
{'a': None, 'b': [1.5, None]}
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..compare import DriftReport, compare
from ..verdict import COLUMN_THRESHOLDS, missing_share
from . import findings, mmd
from .settings import ROLES, Settings

if TYPE_CHECKING:
    from .passes import Side
    from .plan import Plan, SchemaChange

SCHEMA_VERSION = 2
TOP_CATEGORIES = 12
DISPLAY_BINS = 40


def assemble(
    plan: Plan,
    ref: Side,
    cur: Side,
    s: Settings,
    exact: dict[str, Any],
    change: SchemaChange,
    *,
    cur_is_profile: bool,
) -> tuple[dict[str, Any], DriftReport]:
    """The report document of a check (see the module docstring), and the per-column
    drift report it was made from."""
    import driftcore

    t = s.thresholds
    profiled = plan.profiled
    numeric = plan.of("numeric")
    x, y = ref.sample, cur.sample
    if numeric:
        # Scaled by the pooled samples' own mean and std: a transform that treats both
        # sides alike keeps the permutation test exact.
        x, y = mmd.complete_rows(x), mmd.complete_rows(y)
        pooled = np.concatenate([x, y]) if len(x) + len(y) else np.zeros((0, len(numeric)))
        mean = pooled.mean(axis=0) if len(pooled) else np.zeros(len(numeric))
        std = pooled.std(axis=0) if len(pooled) else np.ones(len(numeric))
        x, y = mmd.standardize(x, mean, std), mmd.standardize(y, mean, std)
    mmd_sec = mmd.mmd_section(
        x,
        y,
        numeric,
        sample_size=s.mmd_sample,
        alpha=t["alpha"],
        n_permutations=s.mmd_permutations,
        seed=s.seed,
    )
    family = {"mmd": mmd_sec["p_value"]} if mmd_sec and mmd_sec["status"] == "ok" else {}
    found = findings.schema_findings(change.vanished, change.new, change.changed)
    own = {c: v for c, v in s.column_thresholds.items() if c in profiled}
    found += findings.value_findings(ref.profile, cur.profile, profiled, t, plan.types, own)
    family.update({f.test_name: f.pvalue for f in findings.candidates(found)})
    # One decision rule: the MMD test and the findings' tests join the columns' family.
    report = compare(
        ref.profile,
        cur.profile,
        bins=ref.profile.bins,
        alpha=t["alpha"],
        correction=s.correction,
        drift_share=t["drift_share"],
        psi_threshold=t["psi"],
        wasserstein_threshold=t["wasserstein"],
        js_threshold=t["js"],
        missing_threshold=t["missing"],
        column_thresholds={
            c: {k: v for k, v in th.items() if k in COLUMN_THRESHOLDS} for c, th in own.items()
        },
        columns=profiled,
        tests=family,
    )
    columns = [_column_entry(c, plan, ref, cur) for c in report.columns]
    if "mmd" in report.tests:
        outcome = report.tests["mmd"]
        mmd_sec.update(p_value_adjusted=outcome.pvalue_adjusted, drifted=outcome.rejected)
    findings.decide(found, report.tests, t["alpha"])
    near = []
    for c in plan.of("text"):
        tl = cur.text.get(c)
        if tl is None or cur_is_profile:
            near.append(
                {
                    "column": c,
                    "status": "unavailable",
                    "reason": "the current side is a profile (no texts kept)",
                }
            )
        else:
            near.append({"status": "ok", **tl.section(t["near_duplicates"])})
    # The drift share is the features'; a target or prediction that drifts fails alone.
    features = [c for c in report.columns if plan.role(c.column) == "feature"]
    n_judged = sum(c.drifted is not None for c in features)
    n_drifted = sum(bool(c.drifted) for c in features)
    share = n_drifted / n_judged if n_judged else 0.0
    by_columns = n_drifted > 0 and share >= t["drift_share"]
    by_role = {
        role: [c for c in report.columns if plan.role(c.column) == role and c.drifted]
        for role in ROLES
    }
    missing_changed = report.n_missing_changed > 0
    dataset_drift = bool(
        by_columns
        or any(by_role.values())
        or missing_changed
        or (mmd_sec and mmd_sec.get("drifted"))
    )
    reasons = []
    for role, drifted in by_role.items():
        for c in drifted:
            reasons.append(f"{role} {c.column!r} drifted ({_effect_text(c)})")
    if by_columns:
        limit = f" (share {share:.2f} >= {t['drift_share']:g})" if t["drift_share"] > 0 else ""
        names = ", ".join(repr(c.column) for c in features if c.drifted)
        what = "columns" if not plan.roles else "feature columns"
        reasons.append(f"{n_drifted} of {n_judged} {what} drifted{limit}: {names}")
    for c in report.columns:
        if c.missing_changed:
            share_r = missing_share(c.missing_reference, c.n_reference)
            share_c = missing_share(c.missing_current, c.n_current)
            reasons.append(f"missing values in {c.column!r}: {share_r:.1%} -> {share_c:.1%}")
    if mmd_sec and mmd_sec.get("drifted"):
        reasons.append(
            f"MMD p-value {mmd_sec['p_value']:.3g} ({s.correction}-adjusted "
            f"{mmd_sec['p_value_adjusted']:.3g}) <= {t['alpha']:g}"
        )
    reasons += [f.message for f in found if f.failed]
    if exact.get("exceeded"):
        reasons.append(f"exact-row leakage {exact['rate']:.2%} > {t['exact_rows']:.2%}")
    for e in near:
        if e.get("exceeded"):
            reasons.append(
                f"near-duplicate texts in {e['column']!r}: {e['rate']:.2%} > {e['threshold']:.2%}"
            )
    code = 1 if reasons else 0
    return clean(
        {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "driftcore", "version": driftcore.__version__, "command": "check"},
            "created_utc": now(),
            "reference": _side_entry(ref),
            "current": _side_entry(cur),
            "settings": {
                "columns": plan.columns,
                "text_columns": plan.of("text"),
                "text_shingles": s.text_shingles,
                "keep_punctuation": s.keep_punctuation,
                "identifier_columns": plan.of("identifier"),
                "roles": dict(plan.roles),
                "column_thresholds": own,
                "thresholds": dict(t),
                "bins": ref.profile.bins,
                "correction": s.correction,
                "mmd_sample": s.mmd_sample,
                "leak_rows": s.leak_rows,
                "seed": s.seed,
                "batch_size": s.batch_size,
                "threads": s.threads,
                "device": s.device,
            },
            "summary": {
                "status": "fail" if code else "pass",
                "exit_code": code,
                "reasons": reasons,
                "n_columns": len(columns),
                "n_judged": n_judged,
                "n_drifted": n_drifted,
                "drift_share": share,
                "dataset_drift": dataset_drift,
                "target_drift": [c.column for c in by_role["target"]],
                "prediction_drift": [c.column for c in by_role["prediction"]],
                "n_missing_changed": report.n_missing_changed,
                "mmd_drifted": bool(mmd_sec and mmd_sec.get("drifted")),
                "leakage_exceeded": bool(
                    exact.get("exceeded") or any(e.get("exceeded") for e in near)
                ),
                "n_findings_failed": sum(f.failed for f in found),
            },
            "columns": columns,
            "findings": [f.to_dict() for f in found],
            "mmd": mmd_sec,
            "leakage": {"exact_rows": exact, "near_duplicates": near},
        }
    ), report


def label_examples(doc: dict[str, Any], ref: Any, cur: Any) -> None:
    """Give the leakage examples the row labels of a side that is a DataFrame with a
    labelled index (``reference_label``, ``current_label``) beside their positions."""
    from .leak import jsonable

    leak = doc["leakage"]
    examples = [*leak["exact_rows"].get("examples", [])]
    examples += [e for n in leak["near_duplicates"] for e in n.get("examples", [])]
    for key, src in (("reference", ref), ("current", cur)):
        labels = getattr(src, "labels", None)
        if labels is None:
            continue
        for e in examples:
            e[f"{key}_label"] = jsonable(labels[e[f"{key}_index"]])


def _effect_text(c: Any) -> str:
    """The effect sizes and adjusted p-value behind a column's drift, for a reason."""
    m = c.metrics
    parts = [
        f"{label} {m[key]:.3g}"
        for key, label in (
            ("psi_debiased", "psi"),
            ("wasserstein_normed", "wasserstein/std"),
            ("js_distance_debiased", "js"),
        )
        if isinstance(m.get(key), float) and math.isfinite(m[key])
    ]
    return ", ".join([*parts, f"adjusted p {c.pvalue_adjusted:.3g}"])


def _side_entry(side: Side) -> dict[str, Any]:
    return {
        "path": str(side.path),
        "format": side.format,
        "rows": side.rows,
        "is_profile": side.is_profile,
    }


def _column_entry(c: Any, plan: Plan, ref: Side, cur: Side) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "column": c.column,
        "role": plan.role(c.column),
        "kind": c.kind,
        "type": plan.types.get(c.column, ""),
        "drifted": c.drifted,
        "rule": c.rule,
        "test": c.test,
        "p_value": c.pvalue,
        "p_value_adjusted": c.pvalue_adjusted,
        "p_value_conservative": c.conservative,
        "by_value": c.by_value,
        "missing_p_value": c.missing_pvalue,
        "missing_p_value_adjusted": c.missing_pvalue_adjusted,
        "missing_changed": c.missing_changed,
        "n_reference": c.n_reference,
        "n_current": c.n_current,
        "missing_reference": c.missing_reference,
        "missing_current": c.missing_current,
        "metrics": dict(c.metrics),
        "error_bounds": dict(c.error_bounds),
        "unseen_categories": [str(u) for u in c.unseen_categories[:20]],
        "n_unseen_categories": len(c.unseen_categories),
    }
    entry["histogram"] = _histogram(c.column, c.kind, ref, cur, plan.types.get(c.column, ""))
    return entry


def _histogram(
    name: str, kind: str, ref: Side, cur: Side, arrow_type: str
) -> dict[str, Any] | None:
    if kind == "numeric":
        h = _numeric_histogram(ref.profile.columns[name], cur.profile.columns[name])
        if h is not None and findings.is_temporal(arrow_type):
            # The edges are counts of the type's units; readers get them as dates too.
            h["edge_labels"] = [findings.shown(float(round(e)), arrow_type) for e in h["edges"]]
        return h
    rc = ref.profile.columns[name].counts.counts
    cc = cur.profile.columns[name].counts.counts
    keys = sorted(set(rc) | set(cc), key=lambda k: -(rc.get(k, 0) + cc.get(k, 0)))
    top, rest = keys[:TOP_CATEGORIES], keys[TOP_CATEGORIES:]
    return {
        "kind": "categorical",
        "categories": [str(k) for k in top],
        "reference": [int(rc.get(k, 0)) for k in top],
        "current": [int(cc.get(k, 0)) for k in top],
        "other": [int(sum(rc.get(k, 0) for k in rest)), int(sum(cc.get(k, 0) for k in rest))],
    }


def _numeric_histogram(r: Any, c: Any) -> dict[str, Any] | None:
    """Both sides' counts on ``DISPLAY_BINS`` equal bins over the reference's finite
    range, read off their value grids (infinities count below and above)."""
    if not r.moments.count or not c.count:
        return None
    lo, hi = float(r.moments.min), float(r.moments.max)
    if not hi > lo:
        hi = lo + max(abs(lo), 1.0) * 1e-9
    edges = np.linspace(lo, hi, DISPLAY_BINS + 1)
    out: dict[str, Any] = {"kind": "numeric", "edges": edges.tolist(), "below": [], "above": []}
    for key, col in (("reference", r), ("current", c)):
        slots = col.grid.histogram(edges)
        out[key] = slots[1:-1].tolist()
        out["below"].append(int(slots[0] + col.moments.neg_inf))
        out["above"].append(int(slots[-1] + col.moments.pos_inf))
    return out


def clean(x: Any) -> Any:
    """JSON-safe: NaN and infinities become None, numpy scalars Python numbers."""
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
